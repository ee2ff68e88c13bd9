import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { activeValidation, getValidation, isHostMemoryBackend, setValidation } from '../../src/core/validation';
import { binaryCrossEntropy, crossEntropy, nllLoss } from '../../src/index';
import { expectInputError } from '../helpers/assertions';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

type Loss = (input: tf.Tensor, target: tf.Tensor, options?: object) => tf.Tensor;

/** The loss's values, and its input gradient for `Σ loss` (all ones upstream), as plain arrays; leak-checked. */
function run(loss: Loss, input: tf.Tensor, target: tf.Tensor, options: object): { value: number[]; gradient: number[] } {
  return expectNoLeak(() => {
    const value = loss(input, target, options);
    const gradient = tf.grad((x: tf.Tensor) => loss(x, target, options).sum())(input);
    const out = { value: Array.from(value.dataSync()), gradient: Array.from(gradient.dataSync()) };
    tf.dispose([value, gradient]);
    return out;
  });
}

/** Each entry NaN where `bad` says, and bitwise equal to `expected` elsewhere. */
function expectNaNExactlyAt(actual: number[], bad: boolean[], expected: number[]): void {
  expect(actual.map((v, i) => (bad[i] ? Number.isNaN(v) : Object.is(v, expected[i])))).toEqual(bad.map(() => true));
}

/** Cases with one bad target (or probability) among good ones: the loss, its arguments, and the same call with the bad values replaced by good ones. */
interface PoisonCase {
  name: string;
  loss: Loss;
  input: () => tf.Tensor;
  target: () => tf.Tensor;
  /** The same target with every bad value replaced by ignoreIndex (the loss of those samples is then 0 in 'none'). */
  repaired: () => tf.Tensor;
  /** Which per-sample (BCE: per-element) losses are bad, and which input elements belong to them. */
  badSamples: boolean[];
  badElements: boolean[];
}

const rows = (samples: boolean[], classes: number) => samples.flatMap((b) => new Array<boolean>(classes).fill(b));

const POISON_CASES: PoisonCase[] = [
  {
    name: 'crossEntropy, a class index out of range, a non-integer one and a NaN',
    loss: crossEntropy,
    input: () =>
      tf.tensor2d([
        [2, 0, -1],
        [0.5, 1.5, 0],
        [1, 1, 1],
        [-2, 0, 2],
        [0, 3, 1],
      ]),
    target: () => tf.tensor1d([0, 3, 2, 1.5, NaN]),
    repaired: () => tf.tensor1d([0, -100, 2, -100, -100]),
    badSamples: [false, true, false, true, true],
    badElements: rows([false, true, false, true, true], 3),
  },
  {
    name: 'crossEntropy with label smoothing and weights, an int32 index of -1',
    loss: (x, y, o) => crossEntropy(x, y, { ...o, labelSmoothing: 0.1, weight: [1, 2, 0.5] }),
    input: () =>
      tf.tensor2d([
        [2, 0, -1],
        [0.5, 1.5, 0],
        [1, 1, 1],
      ]),
    target: () => tf.tensor1d([0, -1, 2], 'int32'),
    repaired: () => tf.tensor1d([0, -100, 2], 'int32'),
    badSamples: [false, true, false],
    badElements: rows([false, true, false], 3),
  },
  {
    name: 'nllLoss, K-dimensional, an index equal to the number of classes',
    loss: nllLoss,
    // [N=2, C=2, d=2]: sample (n, i) owns elements (n, c, i) for c = 0, 1.
    input: () =>
      tf.tensor3d([
        [
          [-0.1, -2],
          [-2.4, -0.2],
        ],
        [
          [-0.7, -1.2],
          [-0.7, -0.4],
        ],
      ]),
    target: () =>
      tf.tensor2d(
        [
          [0, 1],
          [2, 1],
        ],
        [2, 2],
        'int32',
      ),
    repaired: () =>
      tf.tensor2d(
        [
          [0, 1],
          [-100, 1],
        ],
        [2, 2],
        'int32',
      ),
    badSamples: [false, false, true, false],
    badElements: [false, false, false, false, true, false, true, false],
  },
];

describeEachBackend('validation modes', (backend) => {
  afterEach(() => setValidation('auto'));

  it(`is 'auto' until set, which checks synchronously on ${backend} (host memory)`, () => {
    expect(getValidation()).toBe('auto');
    expect(isHostMemoryBackend(backend)).toBe(true);
    expect(activeValidation()).toBe('sync');
    setValidation('device');
    expect(getValidation()).toBe('device');
    expect(activeValidation()).toBe('device');
  });

  describe("'device' (forced here): bad targets poison the loss with NaN instead of throwing", () => {
    it.each(POISON_CASES.map((c) => [c.name, c] as const))('%s', (_, c) => {
      const [input, target, repaired] = [c.input(), c.target(), c.repaired()];
      // What the good samples give, computed in 'sync' mode without the bad ones.
      const good = run(c.loss, input, repaired, { reduction: 'none' });
      setValidation('device');
      const none = run(c.loss, input, target, { reduction: 'none' });
      expectNaNExactlyAt(none.value, c.badSamples, good.value);
      expectNaNExactlyAt(none.gradient, c.badElements, good.gradient);
      for (const reduction of ['mean', 'sum'] as const) {
        const reduced = run(c.loss, input, target, { reduction });
        expect(reduced.value.map(Number.isNaN)).toEqual([true]);
        expect(reduced.gradient.every(Number.isNaN)).toBe(true);
      }
      tf.dispose([input, target, repaired]);
    });

    it('binaryCrossEntropy: probabilities outside [0, 1] and NaN make their elements NaN, with their gradients', () => {
      const input = tf.tensor2d([
        [0.9, 1.5, 0.6],
        [0.05, -0.5, NaN],
      ]);
      const target = tf.tensor2d([
        [1, 0, 1],
        [0.3, 1, 0],
      ]);
      const bad = [false, true, false, false, true, true];
      const repairedInput = tf.tensor2d([
        [0.9, 0.5, 0.6],
        [0.05, 0.5, 0.5],
      ]);
      const good = run(binaryCrossEntropy, repairedInput, target, { reduction: 'none' });
      setValidation('device');
      const none = run(binaryCrossEntropy, input, target, { reduction: 'none' });
      expectNaNExactlyAt(none.value, bad, good.value);
      expectNaNExactlyAt(none.gradient, bad, good.gradient);
      const [, targetGradient] = expectNoLeak(() => {
        const grads = tf.grads((x: tf.Tensor, y: tf.Tensor) => binaryCrossEntropy(x, y, { reduction: 'none' }))([input, target]);
        const out = grads.map((g) => Array.from(g.dataSync()));
        tf.dispose(grads);
        return out;
      });
      expect(targetGradient.map(Number.isNaN)).toEqual(bad);
      const mean = run(binaryCrossEntropy, input, target, {});
      expect(Number.isNaN(mean.value[0]) && mean.gradient.every(Number.isNaN)).toBe(true);
      tf.dispose([input, target, repairedInput]);
    });

    it('gives valid inputs bitwise the results of sync mode, ignoreIndex and float-held indices included', () => {
      const input = tf.tensor3d([
        [
          [2, 0],
          [0, -1],
          [-1, 3],
        ],
        [
          [0.5, 1],
          [1.5, 0],
          [0, 2],
        ],
      ]); // [N=2, C=3, d=2]
      const target = tf.tensor2d([
        [0, 2],
        [1, -100],
      ]); // float32 holding integers, one ignored
      const probabilities = tf.tensor1d([0, 0.25, 1, 0.5]);
      const soft = tf.tensor1d([0.5, 1, 0, 0.3]);
      const calls: Array<() => { value: number[]; gradient: number[] }> = [
        () => run(crossEntropy, input, target, { labelSmoothing: 0.2, weight: [1, 2, 3] }),
        () => run(crossEntropy, input, target, { reduction: 'none' }),
        () => run(nllLoss, input, target, { reduction: 'sum' }),
        () => run(binaryCrossEntropy, probabilities, soft, { reduction: 'none' }),
      ];
      const sync = calls.map((call) => call());
      setValidation('device');
      const device = calls.map((call) => call());
      expect(device).toEqual(sync);
      tf.dispose([input, target, probabilities, soft]);
    });

    it('still throws for shapes, dtypes and options, which need no read-back', () => {
      setValidation('device');
      const logits = tf.tensor2d([
        [2, 0, -1],
        [0.5, 1.5, 0],
      ]);
      expectInputError(() => crossEntropy(logits, [0, 1, 2]), "'target'", 'got shape [3]');
      expectInputError(() => crossEntropy(logits, [0, 1], { classAxis: 3 }), "'options.classAxis'");
      expectInputError(() => nllLoss(logits, [0, 1], { reduction: 'avg' as 'mean' }), "'options.reduction'");
      const [column, labels] = [tf.zeros([2, 1]), tf.tensor1d([1, 0], 'int32')];
      expectInputError(() => binaryCrossEntropy(logits, column), "'target'", 'got shape [2, 1]');
      expectInputError(() => binaryCrossEntropy(labels, [1, 0]), "'input'", 'dtype int32');
      tf.dispose([logits, column, labels]);
    });
  });
});

describe("'auto' on a backend whose data lives on a GPU (here a backend named webgpu, run by the cpu kernels)", () => {
  beforeAll(async () => {
    tf.registerBackend('webgpu', () => new MathBackendCPU(), -1);
    for (const kernel of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...kernel, backendName: 'webgpu' });
    await tf.setBackend('webgpu');
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
    tf.removeBackend('webgpu');
  });

  it("resolves to 'device': a bad class index gives NaN, no error, no leak", () => {
    expect(isHostMemoryBackend('webgpu')).toBe(false);
    expect(activeValidation()).toBe('device');
    const logits = tf.tensor2d([
      [2, 0, -1],
      [0.5, 1.5, 0],
    ]);
    const target = tf.tensor1d([0, 7], 'int32');
    const result = run(crossEntropy, logits, target, { reduction: 'none' });
    expect(Number.isNaN(result.value[0])).toBe(false);
    expect(Number.isNaN(result.value[1])).toBe(true);
    tf.dispose([logits, target]);
  });

  it("setValidation('sync') brings the error back", () => {
    setValidation('sync');
    const logits = tf.tensor2d([
      [2, 0, -1],
      [0.5, 1.5, 0],
    ]);
    expectInputError(() => crossEntropy(logits, [0, 7]), 'got 7 (out of range) at position [1]');
    logits.dispose();
    setValidation('auto');
  });
});
