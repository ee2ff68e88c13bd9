import * as tf from '@tensorflow/tfjs';
import { binaryCrossEntropy } from '../../src/losses/binaryCrossEntropy';
import { binaryCrossEntropyWithLogits, BinaryCrossEntropyWithLogitsOptions } from '../../src/losses/binaryCrossEntropyWithLogits';
import { evaluateLoss, expectClose, expectInputError, lossGradients } from '../helpers/assertions';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

type Options = BinaryCrossEntropyWithLogitsOptions;

const loss = (input: tf.TensorLike | tf.Tensor, target: tf.TensorLike | tf.Tensor, options?: Options) =>
  evaluateLoss(binaryCrossEntropyWithLogits, input, target, options);
const gradients = (input: tf.Tensor, target: tf.Tensor, options?: Options, dy?: tf.Tensor) =>
  lossGradients(binaryCrossEntropyWithLogits, input, target, options, dy);

/**
 * The per-element loss and gradients in float64, written as PyTorch 1.13 writes them: loss
 * `w·((1-y)·x + (1+(pw-1)·y)·softplus(-x))` with softplus(-x) = m + log(exp(-m) + exp(-x-m)), m = max(-x, 0);
 * input gradient `w·((1+(pw-1)·y)·σ(x) - pw·y)`; target gradient `w·(log σ(-x) - pw·log σ(x))`.
 */
function reference(x: number, y: number, w = 1, pw = 1): { loss: number; dx: number; dy: number } {
  const m = Math.max(-x, 0);
  const softplusNeg = m + Math.log(Math.exp(-m) + Math.exp(-x - m));
  const logSigmoid = (z: number) => Math.min(z, 0) - Math.log1p(Math.exp(-Math.abs(z)));
  const sigmoid = Math.exp(logSigmoid(x));
  return {
    loss: w * ((1 - y) * x + (1 + (pw - 1) * y) * softplusNeg),
    dx: w * ((1 + (pw - 1) * y) * sigmoid - pw * y),
    dy: w * (logSigmoid(-x) - pw * logSigmoid(x)),
  };
}

describeEachBackend('binaryCrossEntropyWithLogits', () => {
  // Expected values produced with PyTorch 1.13 (/usr/bin/python3):
  //   x = torch.tensor([[2.0, -1.0, 0.0], [-0.5, 3.0, 7.5]], requires_grad=True)
  //   y = torch.tensor([[1.0, 0.0, 0.5], [1.0, 0.2, 0.0]], requires_grad=True)
  //   F.binary_cross_entropy_with_logits(x, y, weight=torch.tensor([[1.0], [0.5]]),
  //                                      pos_weight=torch.tensor([3.0, 1.0, 0.25]), reduction=...)
  // gradients by .backward() ('mean') and .backward(up) ('none').
  const x = [
    [2, -1, 0],
    [-0.5, 3, 7.5],
  ];
  const y = [
    [1, 0, 0.5],
    [1, 0.2, 0],
  ];
  const options: Options = { weight: [[1], [0.5]], posWeight: [3, 1, 0.25] };
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

  it('gives PyTorch values for every reduction, with a broadcast weight and posWeight', () => {
    const none = loss(input, target, { ...options, reduction: 'none' });
    expect(none.shape).toEqual([2, 3]);
    expectClose(none.values, [0.380784154, 0.313261628, 0.433216989, 1.46111548, 1.22429371, 3.75027657]);
    const sum = loss(input, target, { ...options, reduction: 'sum' });
    expect(sum.shape).toEqual([]);
    expectClose(sum.values, [7.56294823]);
    expectClose(loss(input, target, options).values, [1.26049137]);
  });

  it('gives PyTorch gradients for the input and soft targets', () => {
    const [dx, dt] = gradients(input, target, options);
    expectClose(dx, [-0.0596014671, 0.044823572, 0.03125, -0.155614838, 0.0627145097, 0.0832872614]);
    expectClose(dt, [-0.291023999, 0.166666672, -0.0866433978, 0.204012826, -0.25, -0.625034571]);
  });

  it("scales 'none' gradients by each element's upstream gradient", () => {
    const dy = tf.tensor2d(up);
    const [dx, dt] = gradients(input, target, { ...options, reduction: 'none' }, dy);
    dy.dispose();
    expectClose(dx, [-0.357608795, -0.537882864, 0.09375, -2.80106688, 0.376287073, -0.499723583]);
    expectClose(dt, [-1.74614406, -2.0, -0.259930193, 3.67223096, -1.5, 3.75020742]);
  });

  it('gives a finite loss and gradient for logits of ±1e4 and beyond, as the mathematics says', () => {
    const logits = [1e4, -1e4, 1e4, -1e4, 1e30, -1e30, 1e4, -50, 50];
    const targets = [1, 0, 0, 1, 0.5, 0.5, 0.5, 0, 1];
    const posWeight = 2;
    const xs = tf.tensor1d(logits);
    const ys = tf.tensor1d(targets);
    const expected = logits.map((z, i) => reference(Math.fround(z), targets[i], 1, posWeight));
    const none = loss(xs, ys, { posWeight, reduction: 'none' });
    expectClose(
      none.values,
      expected.map((r) => r.loss),
    );
    const [dx, dt] = gradients(xs, ys, { posWeight, reduction: 'sum' });
    expect([...none.values, ...dx, ...dt].every(Number.isFinite)).toBe(true);
    expectClose(
      dx,
      expected.map((r) => r.dx),
    );
    expectClose(
      dt,
      expected.map((r) => r.dy),
    );
    tf.dispose([xs, ys]);
  });

  it('broadcasts posWeight [C, 1, 1] against [N, C, H, W] and weight [W] against it, as PyTorch', () => {
    const shape = [2, 3, 2, 2];
    const size = 24;
    const logits = Array.from({ length: size }, (_, e) => Math.fround(Math.sin(e) * 4));
    const targets = Array.from({ length: size }, (_, e) => (e % 5) / 4);
    const posWeight = [0.5, 2, 4];
    const weight = [1, 3];
    const xs = tf.tensor(logits, shape);
    const ys = tf.tensor(targets, shape);
    const pw = tf.tensor(posWeight, [3, 1, 1]);
    // Element e of [N, C, H, W] has class floor(e / (H·W)) mod C and column e mod W.
    const expected = logits.map((z, e) => reference(z, Math.fround(targets[e]), weight[e % 2], posWeight[Math.floor(e / 4) % 3]));
    const none = loss(xs, ys, { weight, posWeight: pw, reduction: 'none' });
    expect(none.shape).toEqual(shape);
    expectClose(
      none.values,
      expected.map((r) => r.loss),
    );
    const [dx, dt] = gradients(xs, ys, { weight, posWeight: pw, reduction: 'sum' });
    expectClose(
      dx,
      expected.map((r) => r.dx),
    );
    expectClose(
      dt,
      expected.map((r) => r.dy),
    );
    tf.dispose([xs, ys, pw]);
  });

  it('takes a scalar posWeight and weight', () => {
    const expected = [0.7, -1.2].map((z, i) => reference(Math.fround(z), [1, 0.25][i], 0.5, 3).loss);
    expectClose(loss([0.7, -1.2], [1, 0.25], { weight: 0.5, posWeight: 3, reduction: 'none' }).values, expected);
  });

  it('agrees with binaryCrossEntropy of the sigmoid for moderate logits, in value and input gradient', () => {
    const xs = tf.tensor1d([-3, -0.4, 0, 1.1, 2.5]);
    const ys = tf.tensor1d([0, 1, 0.3, 1, 0.6]);
    const viaProbabilities = expectNoLeak(() => tf.tidy(() => Array.from(binaryCrossEntropy(tf.sigmoid(xs), ys).dataSync())));
    expectClose(loss(xs, ys).values, viaProbabilities, 1e-5);
    const [dx] = gradients(xs, ys);
    const viaSigmoid = expectNoLeak(() => {
      const g = tf.grad((z: tf.Tensor) => binaryCrossEntropy(tf.sigmoid(z), ys))(xs);
      const out = Array.from(g.dataSync());
      g.dispose();
      return out;
    });
    expectClose(dx, viaSigmoid, 1e-4);
    tf.dispose([xs, ys]);
  });

  it('gives NaN for the mean of an empty input, 0 for its sum, and an empty loss for none', () => {
    const empty = tf.zeros([0, 4]);
    expect(loss(empty, empty, { posWeight: [1, 2, 3, 4] }).values[0]).toBeNaN();
    expect(loss(empty, empty, { reduction: 'sum' }).values).toEqual([0]);
    expect(loss(empty, empty, { reduction: 'none' })).toEqual({ shape: [0, 4], values: [] });
    expect(gradients(empty, empty, { reduction: 'sum' })).toEqual([[], []]);
    empty.dispose();
  });

  it('rejects a target of another shape instead of broadcasting it, naming both shapes', () => {
    const logits = tf.tensor1d([0.5, -0.5]);
    const column = tf.zeros([2, 1]);
    expectInputError(() => binaryCrossEntropyWithLogits(logits, column), "'target'", '[2]', '[2, 1]');
    tf.dispose([logits, column]);
  });

  it('rejects a posWeight or weight that does not broadcast to the input, as PyTorch', () => {
    expectInputError(() => binaryCrossEntropyWithLogits(x, y, { posWeight: [1, 2] }), "'options.posWeight'", '[2, 3]', 'shape [2]');
    expectInputError(
      () => binaryCrossEntropyWithLogits([1, 2, 3], [0, 1, 0], { posWeight: [[1, 1, 1]] }),
      "'options.posWeight'",
      'shape [1, 3]',
    );
    expectInputError(() => binaryCrossEntropyWithLogits(x, y, { weight: [1, 2] }), "'options.weight'", 'shape [2]');
  });

  it('rejects integer tensors, unknown options such as labelSmoothing, and unknown reductions', () => {
    const labels = tf.tensor1d([0, 1], 'int32');
    expectInputError(() => binaryCrossEntropyWithLogits([0.5, 0.5], labels), "'target'", 'float32', 'int32');
    labels.dispose();
    expectInputError(() => binaryCrossEntropyWithLogits([0.5], [1], { labelSmoothing: 0.1 } as Options), "'options.labelSmoothing'");
    expectInputError(
      () => binaryCrossEntropyWithLogits([0.5], [1], { reduction: 'avg' } as unknown as Options),
      "'options.reduction'",
      'avg',
    );
  });
});
