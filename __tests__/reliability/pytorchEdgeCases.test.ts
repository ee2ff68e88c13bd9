import * as tf from '@tensorflow/tfjs';
import { binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, nllLoss } from '../../src/index';
import { expectClose } from '../helpers/assertions';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

/**
 * Inputs that are odd but not errors, because PyTorch accepts them: NaN and ±Infinity in the input or
 * target, negative weights, BCE targets outside [0, 1], empty batches, every target ignored. Each gives
 * PyTorch's result. Expected numbers were produced with PyTorch 1.13 (/usr/bin/python3), e.g.
 *
 *     x = torch.tensor(input, requires_grad=True); y = torch.tensor(target[, requires_grad=True])
 *     l = F.<loss>(x, y, **options); l.backward(torch.ones_like(l)); print(l.tolist(), x.grad.tolist(), y.grad.tolist())
 *
 * Non-finite numbers: wherever PyTorch's value or gradient is finite ours must be close to it, and
 * wherever PyTorch's is NaN or ±Infinity ours must be NaN or ±Infinity too (never a finite number that
 * hides the problem). Which of NaN and ±Infinity can differ where PyTorch's comes from an artefact of its
 * formula, e.g. `(1-y)·x` at x = Infinity, y = 1 (the README's "NaN and Infinity in the input" lists them).
 */

type Loss = (input: tf.Tensor, target: tf.Tensor, options: object) => tf.Tensor;

interface TorchCase {
  name: string;
  loss: Loss;
  input: number[] | number[][];
  target: number[] | number[][];
  targetDtype: 'float32' | 'int32';
  options: object;
  /** PyTorch's value, input gradient and (for float targets) target gradient, upstream all ones. */
  torch: { value: number[]; dx: number[]; dy?: number[] };
}

const inf = Infinity;
const nan = NaN;
const ceInput = [
  [nan, 0, 1],
  [1, 2, 3],
  [inf, 0, 0],
  [-inf, 0, 1],
];

const CASES: TorchCase[] = [
  {
    name: "crossEntropy: NaN, +Infinity and -Infinity logits, 'none'",
    loss: crossEntropy,
    input: ceInput,
    target: [0, 2, 1, 1],
    targetDtype: 'int32',
    options: { reduction: 'none' },
    torch: {
      value: [nan, 0.40760594606399536, nan, 1.31326162815094],
      dx: [
        nan,
        nan,
        nan,
        0.09003058075904846,
        0.24472849071025848,
        -0.334758996963501,
        nan,
        nan,
        nan,
        0,
        -0.7310585975646973,
        0.7310585975646973,
      ],
    },
  },
  {
    name: "crossEntropy: NaN and infinite logits, 'mean' (the other rows' gradients stay finite)",
    loss: crossEntropy,
    input: ceInput,
    target: [0, 2, 1, 1],
    targetDtype: 'int32',
    options: {},
    torch: {
      value: [nan],
      dx: [
        nan,
        nan,
        nan,
        0.022507645189762115,
        0.06118212267756462,
        -0.08368974924087524,
        nan,
        nan,
        nan,
        0,
        -0.18276464939117432,
        0.18276464939117432,
      ],
    },
  },
  {
    name: 'crossEntropy: NaN and infinite logits with label smoothing 0.2',
    loss: crossEntropy,
    input: ceInput,
    target: [0, 2, 1, 1],
    targetDtype: 'int32',
    options: { reduction: 'none', labelSmoothing: 0.2 },
    torch: {
      value: [nan, 0.6076059341430664, nan, inf],
      dx: [
        nan,
        nan,
        nan,
        0.023363910615444183,
        0.1780618131160736,
        -0.2014256715774536,
        nan,
        nan,
        nan,
        -0.06666667014360428,
        -0.5977252721786499,
        0.6643919348716736,
      ],
    },
  },
  {
    name: 'crossEntropy: NaN logits and an infinite class probability',
    loss: crossEntropy,
    input: [
      [nan, 0, 1],
      [1, 2, 3],
      [-inf, 0, 1],
    ],
    target: [
      [0.2, 0.3, 0.5],
      [inf, 0, 0],
      [0, 0.5, 0.5],
    ],
    targetDtype: 'float32',
    options: { reduction: 'none' },
    torch: {
      value: [nan, inf, nan],
      dx: [nan, nan, nan, nan, inf, inf, 0, -0.23105856776237488, 0.23105859756469727],
      dy: [nan, nan, nan, 2.4076058864593506, 1.4076058864593506, 0.40760594606399536, inf, 1.31326162815094, 0.31326165795326233],
    },
  },
  {
    name: 'binaryCrossEntropyWithLogits: NaN and infinite logits, infinite and NaN targets',
    loss: binaryCrossEntropyWithLogits,
    input: [nan, inf, -inf, inf, -inf, 2, 0.5, 0.5, 0.5],
    target: [1, 0, 0, 1, 1, 0.5, inf, -inf, nan],
    targetDtype: 'float32',
    options: { reduction: 'none' },
    torch: {
      value: [nan, inf, nan, nan, nan, 1.1269280910491943, -inf, inf, nan],
      dx: [nan, 1, 0, 0, -1, 0.38079702854156494, -inf, inf, nan],
      dy: [nan, -inf, inf, -inf, inf, -2, -0.5, -0.5, -0.5],
    },
  },
  {
    name: 'binaryCrossEntropy: NaN, infinite and out-of-[0, 1] targets (PyTorch checks only the input)',
    loss: binaryCrossEntropy,
    input: [0.5, 0.3, 0.2, 0.7],
    target: [nan, inf, 2, -1],
    targetDtype: 'float32',
    options: { reduction: 'none' },
    torch: {
      value: [nan, nan, 2.995732307434082, 2.0512707233428955],
      dx: [nan, -inf, -11.249999046325684, 8.095237731933594],
      dy: [0, 0.8472978472709656, 1.3862943649291992, -0.8472978472709656],
    },
  },
  {
    name: "nllLoss: NaN and infinite log-probabilities, 'none'",
    loss: nllLoss,
    input: [
      [nan, -1],
      [-inf, 0],
      [inf, -1],
      [-1, -2],
    ],
    target: [0, 0, 1, 1],
    targetDtype: 'int32',
    options: { reduction: 'none' },
    torch: { value: [nan, inf, 1, 2], dx: [-1, 0, -1, 0, 0, -1, 0, -1] },
  },
  {
    name: "nllLoss: NaN and infinite log-probabilities, 'mean'",
    loss: nllLoss,
    input: [
      [nan, -1],
      [-inf, 0],
      [inf, -1],
      [-1, -2],
    ],
    target: [0, 0, 1, 1],
    targetDtype: 'int32',
    options: {},
    torch: { value: [nan], dx: [-0.25, 0, -0.25, 0, 0, -0.25, 0, -0.25] },
  },
  {
    name: 'crossEntropy: negative class weights (PyTorch allows them)',
    loss: crossEntropy,
    input: [
      [1, 2, 3],
      [0, 1, 0],
      [0.5, -1, 2],
    ],
    target: [0, 1, 2],
    targetDtype: 'int32',
    options: { weight: [-0.5, 1, 2] },
    torch: {
      value: [-0.06789426505565643],
      dx: [
        0.18199388682842255, -0.048945698887109756, -0.13304820656776428, 0.0847766324877739, -0.1695532351732254, 0.0847766324877739,
        0.14023230969905853, 0.03129005804657936, -0.1715223789215088,
      ],
    },
  },
  {
    name: "crossEntropy: class weights of the targets that sum to 0 ('mean' divides by 0)",
    loss: crossEntropy,
    input: [
      [1, 2, 3],
      [0, 1, 0],
    ],
    target: [0, 1],
    targetDtype: 'int32',
    options: { weight: [-1, 1, 1] },
    torch: { value: [-inf], dx: [nan, -inf, -inf, inf, nan, inf] },
  },
  {
    name: 'binaryCrossEntropy: a negative weight',
    loss: binaryCrossEntropy,
    input: [0.5, 0.3],
    target: [1, 0],
    targetDtype: 'float32',
    options: { weight: [-1, 2] },
    torch: { value: [0.010101377964019775], dx: [1, 1.4285714626312256], dy: [0, 0.8472978472709656] },
  },
  {
    name: 'binaryCrossEntropyWithLogits: negative weight and posWeight',
    loss: binaryCrossEntropyWithLogits,
    input: [0.5, -1],
    target: [1, 0.5],
    targetDtype: 'float32',
    options: { posWeight: [-2, -0.5], weight: [1, -3] },
    torch: { value: [-0.21655011177062988], dx: [0.377540647983551, -0.4758530259132385], dy: [-0.9611154794692993, 1.4548388719558716] },
  },
  {
    name: 'nllLoss: a negative class weight',
    loss: nllLoss,
    input: [
      [-1, -2],
      [-0.5, -3],
    ],
    target: [0, 1],
    targetDtype: 'int32',
    options: { weight: [-1, 3] },
    torch: { value: [4], dx: [0.5, 0, 0, -1.5] },
  },
  {
    name: 'crossEntropy: ignoreIndex equal to a valid class',
    loss: crossEntropy,
    input: [
      [0.5, 2],
      [1, -1],
    ],
    target: [1, 0],
    targetDtype: 'int32',
    options: { ignoreIndex: 1 },
    torch: { value: [0.12692804634571075], dx: [0, 0, -0.11920297145843506, 0.11920291185379028] },
  },
  {
    name: 'crossEntropy: ignoreIndex outside [0, C), held by a target',
    loss: crossEntropy,
    input: [
      [0, 0, 0],
      [0, 0, 0],
    ],
    target: [0, 5],
    targetDtype: 'int32',
    options: { ignoreIndex: 5 },
    torch: { value: [1.0986123085021973], dx: [-0.6666666865348816, 0.3333333134651184, 0.3333333134651184, 0, 0, 0] },
  },
];

/** Close where the expectation is finite; non-finite (NaN or ±Infinity) where it is not. */
function expectLikeTorch(actual: ArrayLike<number>, expected: readonly number[]): void {
  expect(actual.length).toBe(expected.length);
  const finiteIndices = expected.flatMap((e, i) => (Number.isFinite(e) ? [i] : []));
  const misplacedFinite = expected.flatMap((e, i) =>
    !Number.isFinite(e) && Number.isFinite(actual[i]) ? [{ i, actual: actual[i], torch: e }] : [],
  );
  expect(misplacedFinite).toEqual([]);
  expectClose(
    finiteIndices.map((i) => actual[i]),
    finiteIndices.map((i) => expected[i]),
    1e-5,
    1e-6,
  );
}

describeEachBackend('inputs PyTorch accepts: non-finite numbers, negative weights, odd targets', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const input = tf.tensor(c.input);
    const target = tf.tensor(c.target, undefined, c.targetDtype);
    const { value, dx, dy } = expectNoLeak(() => {
      const loss = c.loss(input, target, c.options);
      const value = Array.from(loss.dataSync());
      loss.dispose();
      const f = (x: tf.Tensor, y: tf.Tensor) => c.loss(x, y, c.options);
      const grads = c.torch.dy === undefined ? [tf.grad((x: tf.Tensor) => f(x, target))(input)] : tf.grads(f)([input, target]);
      const [dx, dy] = grads.map((g) => Array.from(g.dataSync()));
      tf.dispose(grads);
      return { value, dx, dy };
    });
    expectLikeTorch(value, c.torch.value);
    expectLikeTorch(dx, c.torch.dx);
    if (c.torch.dy !== undefined) expectLikeTorch(dy, c.torch.dy);
    tf.dispose([input, target]);
  });

  describe('an empty batch gives NaN for mean, 0 for sum and an empty loss for none, with empty gradients (PyTorch)', () => {
    // torch: F.cross_entropy(torch.zeros(2, 3, 0), torch.zeros(2, 0, dtype=torch.long), reduction=r) -> nan, 0.0, shape [2, 0];
    // the same for label_smoothing=0.1, nll_loss of [0, 3, 4], cross_entropy with [0, 3] probabilities, BCE with logits of [0].
    const empties: Array<[string, () => [tf.Tensor, tf.Tensor], Loss, object, number[]]> = [
      ['crossEntropy [2, 3, 0] (no positions)', () => [tf.zeros([2, 3, 0]), tf.zeros([2, 0], 'int32')], crossEntropy, {}, [2, 0]],
      [
        'crossEntropy [2, 3, 0] with label smoothing',
        () => [tf.zeros([2, 3, 0]), tf.zeros([2, 0], 'int32')],
        crossEntropy,
        { labelSmoothing: 0.1 },
        [2, 0],
      ],
      ['crossEntropy [0, 3] with class probabilities', () => [tf.zeros([0, 3]), tf.zeros([0, 3])], crossEntropy, {}, [0]],
      ['nllLoss [0, 3, 4]', () => [tf.zeros([0, 3, 4]), tf.zeros([0, 4], 'int32')], nllLoss, { weight: [1, 2, 3] }, [0, 4]],
      [
        'binaryCrossEntropyWithLogits [0] with posWeight',
        () => [tf.zeros([0]), tf.zeros([0])],
        binaryCrossEntropyWithLogits,
        { posWeight: [2] },
        [0],
      ],
      ['binaryCrossEntropy [0, 2]', () => [tf.zeros([0, 2]), tf.zeros([0, 2])], binaryCrossEntropy, { weight: [1, 2] }, [0, 2]],
    ];
    it.each(empties)('%s', (_, make, loss, options, noneShape) => {
      const [input, target] = make();
      expectNoLeak(() => {
        const results = (['mean', 'sum', 'none'] as const).map((reduction) => loss(input, target, { ...options, reduction }));
        expect(results[0].dataSync()[0]).toBeNaN();
        expect(Array.from(results[1].dataSync())).toEqual([0]);
        expect(results[2].shape).toEqual(noneShape);
        const gradient = tf.grad((x: tf.Tensor) => loss(x, target, { ...options, reduction: 'sum' }))(input);
        expect(gradient.shape).toEqual(input.shape);
        tf.dispose([...results, gradient]);
      });
      tf.dispose([input, target]);
    });
  });

  it('every target ignored gives a NaN mean, a zero sum and a zero gradient (PyTorch)', () => {
    // torch: F.nll_loss(torch.zeros(2, 3), torch.tensor([-100, -100])) -> nan, grad zeros;
    //        F.cross_entropy(..., label_smoothing=0.2) -> nan, grad zeros.
    const input = tf.zeros([2, 3]);
    const target = tf.tensor1d([-100, -100], 'int32');
    expectNoLeak(() => {
      for (const [loss, options] of [
        [nllLoss, {}],
        [crossEntropy, { labelSmoothing: 0.2 }],
      ] as Array<[Loss, object]>) {
        const mean = loss(input, target, options);
        const sum = loss(input, target, { ...options, reduction: 'sum' });
        const gradient = tf.grad((x: tf.Tensor) => loss(x, target, options))(input);
        expect(mean.dataSync()[0]).toBeNaN();
        expect(Array.from(sum.dataSync())).toEqual([0]);
        expect(Array.from(gradient.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
        tf.dispose([mean, sum, gradient]);
      }
    });
    tf.dispose([input, target]);
  });

  it('one class: the loss is 0 (PyTorch), not an error', () => {
    const loss = crossEntropy(tf.zeros([2, 1]), [0, 0]);
    expect(Array.from(loss.dataSync())).toEqual([0]);
    loss.dispose();
  });
});
