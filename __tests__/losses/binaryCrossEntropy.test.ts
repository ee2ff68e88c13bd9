import * as tf from '@tensorflow/tfjs';
import { binaryCrossEntropy, BinaryCrossEntropyOptions } from '../../src/losses/binaryCrossEntropy';
import { evaluateLoss, expectClose, expectInputError, lossGradients } from '../helpers/assertions';
import { describeEachBackend } from '../helpers/backends';

const loss = (input: tf.TensorLike | tf.Tensor, target: tf.TensorLike | tf.Tensor, options?: BinaryCrossEntropyOptions) =>
  evaluateLoss(binaryCrossEntropy, input, target, options);
const gradients = (input: tf.Tensor, target: tf.Tensor, options?: BinaryCrossEntropyOptions, dy?: tf.Tensor) =>
  lossGradients(binaryCrossEntropy, input, target, options, dy);

/** The per-element loss from its definition, in float64. */
function referenceLoss(x: number, y: number, w = 1): number {
  return -w * (y * Math.max(Math.log(x), -100) + (1 - y) * Math.max(Math.log(1 - x), -100));
}

describeEachBackend('binaryCrossEntropy', () => {
  // Expected values produced with PyTorch 1.13 (/usr/bin/python3):
  //   x = torch.tensor([[0.9, 0.2, 0.6], [0.05, 0.5, 0.999]], requires_grad=True)
  //   y = torch.tensor([[1.0, 0.0, 1.0], [0.3, 1.0, 0.0]], requires_grad=True)
  //   F.binary_cross_entropy(x, y, weight=torch.tensor([1.0, 2.0, 0.5]), reduction=...)
  // gradients by .backward() ('mean') and .backward(up) ('none').
  const x = [
    [0.9, 0.2, 0.6],
    [0.05, 0.5, 0.999],
  ];
  const y = [
    [1, 0, 1],
    [0.3, 1, 0],
  ];
  const weight = [1, 2, 0.5];
  const up = [
    [1, -2, 0.5],
    [3, 1, -1],
  ];
  let input: tf.Tensor;
  let target: tf.Tensor;
  beforeAll(() => {
    input = tf.tensor2d(x);
    target = tf.tensor2d(y);
  });
  afterAll(() => tf.dispose([input, target]));

  it('gives PyTorch values for every reduction, with a broadcast weight', () => {
    const none = loss(input, target, { weight, reduction: 'none' });
    expect(none.shape).toEqual([2, 3]);
    expectClose(none.values, [0.105360545, 0.446287066, 0.255412787, 0.93462503, 1.38629436, 3.45388412]);
    const sum = loss(input, target, { weight, reduction: 'sum' });
    expect(sum.shape).toEqual([]);
    expectClose(sum.values, [6.58186388]);
    expectClose(loss(input, target, { weight }).values, [1.09697735]);
  });

  it('gives PyTorch gradients for the input and soft targets', () => {
    const [dx, dt] = gradients(input, target, { weight });
    expectClose(dx, [-0.185185194, 0.416666627, -0.138888881, -0.877192974, -0.666666687, 83.334404]);
    expectClose(dt, [-0.366204053, 0.462098122, -0.0337887704, 0.490739822, 0, -0.575563967]);
  });

  it("scales 'none' gradients by each element's upstream gradient", () => {
    const dy = tf.tensor2d(up);
    const [dx, dt] = gradients(input, target, { weight, reduction: 'none' }, dy);
    dy.dispose();
    expectClose(dx, [-1.11111116, -4.99999952, -0.416666657, -15.7894735, -4.0, -500.006439]);
    expectClose(dt, [-2.19722438, -5.54517746, -0.101366311, 8.8333168, 0, 3.45338392]);
  });

  it('matches its definition for unweighted soft targets, in every reduction', () => {
    const probabilities = [0.01, 0.3, 0.5, 0.77, 0.999999];
    const targets = [0, 0.25, 1, 0.9, 0.5];
    const expected = probabilities.map((p, i) => referenceLoss(Math.fround(p), Math.fround(targets[i])));
    expectClose(loss(probabilities, targets, { reduction: 'none' }).values, expected);
    const total = expected.reduce((a, b) => a + b, 0);
    expectClose(loss(probabilities, targets, { reduction: 'sum' }).values, [total]);
    expectClose(loss(probabilities, targets).values, [total / expected.length]);
  });

  it('clamps each log at -100 for probabilities of exactly 0 and 1, with the gradients PyTorch gives there', () => {
    const probabilities = tf.tensor1d([0, 1, 0, 1]);
    const targets = tf.tensor1d([0, 0, 1, 1]);
    expectClose(loss(probabilities, targets, { reduction: 'none' }).values, [0, 100, 100, 0]);
    const [dx, dt] = gradients(probabilities, targets, { reduction: 'sum' });
    // Input: (x - y) / max(x(1-x), 1e-12). Target: -logit(x), unclamped: +Infinity at 0, -Infinity at 1.
    expectClose(dx, [0, 1e12, -1e12, 0]);
    expect(dt).toEqual([Infinity, -Infinity, Infinity, -Infinity]);
    tf.dispose([probabilities, targets]);
  });

  it('gives NaN for the mean of an empty input, 0 for its sum, and an empty loss for none', () => {
    const empty = tf.zeros([0, 3]);
    expect(loss(empty, empty).values[0]).toBeNaN();
    expect(loss(empty, empty, { reduction: 'sum' }).values).toEqual([0]);
    expect(loss(empty, empty, { reduction: 'none' })).toEqual({ shape: [0, 3], values: [] });
    const [dx, dt] = gradients(empty, empty, { reduction: 'sum' });
    expect([dx, dt]).toEqual([[], []]);
    empty.dispose();
  });

  it('rejects probabilities outside [0, 1], NaN included, naming the value and its position', () => {
    expectInputError(
      () =>
        binaryCrossEntropy(
          [
            [0.5, 0.2],
            [1.5, 0],
          ],
          [
            [0, 1],
            [1, 0],
          ],
        ),
      "'input'",
      '[0, 1]',
      '1.5 at position [1, 0]',
    );
    expectInputError(() => binaryCrossEntropy([0.5, -0.25], [0, 1]), '-0.25 at position [1]');
    expectInputError(() => binaryCrossEntropy([NaN], [0]), 'NaN at position [0]');
  });

  it('rejects a target of another shape instead of broadcasting it, naming both shapes', () => {
    const probabilities = tf.tensor1d([0.5, 0.5]);
    const column = tf.zeros([2, 1]);
    expectInputError(() => binaryCrossEntropy(probabilities, column), "'target'", '[2]', '[2, 1]');
    tf.dispose([probabilities, column]);
  });

  it('rejects a weight that does not broadcast to the input', () => {
    expectInputError(() => binaryCrossEntropy(x, y, { weight: [1, 2] }), "'options.weight'", '[2, 3]', 'shape [2]');
    expectInputError(() => binaryCrossEntropy([0.5, 0.5, 0.5], [0, 1, 0], { weight: [[1, 1, 1]] }), 'shape [1, 3]');
  });

  it('rejects integer tensors, unknown options and unknown reductions', () => {
    const labels = tf.tensor1d([0, 1], 'int32');
    expectInputError(() => binaryCrossEntropy([0.5, 0.5], labels), "'target'", 'float32', 'int32');
    labels.dispose();
    expectInputError(() => binaryCrossEntropy([0.5], [1], { posWeight: [2] } as BinaryCrossEntropyOptions), "'options.posWeight'");
    expectInputError(
      () => binaryCrossEntropy([0.5], [1], { reduction: 'avg' } as unknown as BinaryCrossEntropyOptions),
      "'options.reduction'",
      'avg',
    );
  });
});
