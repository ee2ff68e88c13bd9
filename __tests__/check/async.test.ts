import * as tf from '@tensorflow/tfjs';
import { randomCase } from '../../src/check/cases';
import { seededRandom } from '../../src/check/random';
import { CaseGenerator, checkEquivalence, checkEquivalenceAsync, LossFunction, LossSide } from '../../src/check/equivalence';
import { assertGradcheckAsync, gradcheck, gradcheckAsync, GradcheckError, TensorFunction } from '../../src/check/gradcheck';
import { checkUserLoss, checkUserLossAsync } from '../../src/check/userLoss';
import { runVerifySuite, runVerifySuiteAsync } from '../../src/check/verifySuite';
import { LossInputError } from '../../src/core/errors';
import { binaryCrossEntropyWithLogits } from '../../src/losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../../src/losses/crossEntropy';
import * as crossEntropyModule from '../../src/losses/crossEntropy';
import { describeEachBackend } from '../helpers/backends';
import { byToolkit, syncReadsDuring } from './syncReads';

/** `tf.customGrad` for a function of one tensor, with the gradient it claims for an upstream dy. */
function withGradient(forward: (x: tf.Tensor) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor) => tf.Tensor }): TensorFunction {
  const op = tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0]);
  return (x) => op(x);
}

const LABELS = [0, 2, 1];
const logits = () =>
  tf.tensor2d([
    [0.3, -0.4, 0.9],
    [1.1, 0.2, -0.5],
    [-0.7, 0.6, 0.1],
  ]);

/** Functions whose gradcheck passes, fails a direction, fails a side check, or cannot start. */
const FUNCTIONS: Record<string, TensorFunction> = {
  crossEntropy: (z) => crossEntropy(z, LABELS, { reduction: 'none' }),
  'tfjs softmaxCrossEntropy': (z) => tf.losses.softmaxCrossEntropy(tf.oneHot(tf.tensor1d(LABELS, 'int32'), 3), z),
  'gradient scaled by 1.01': withGradient((x) => ({ value: x.square().sum(), gradFunc: (dy) => x.mul(2.02).mul(dy) })),
  'gradient without dy': withGradient((x) => ({ value: x.square().sum(), gradFunc: () => x.mul(2) })),
  'NaN output': (x) => x.log(),
  'int32 output': (x) => x.toInt(),
  disconnected: () => tf.scalar(1),
};

const twoClass: CaseGenerator = (random) => randomCase(random, { kind: 'multiclass', classes: 2, logitScale: 1.5 });
const ce: LossSide = { name: 'CE(z, y)', loss: (z, y) => crossEntropy(z, y) };
const viaLogits: LossSide = {
  name: 'BCEWithLogits(z1 − z0, y)',
  loss: (s, y) => binaryCrossEntropyWithLogits(s, y),
  input: (z) =>
    z
      .slice([0, 1], [-1, 1])
      .sub(z.slice([0, 0], [-1, 1]))
      .reshape([-1]),
  target: (y) => y.toFloat(),
};
const offByAThousandth: LossFunction = (z, y) => crossEntropy(z, y).mul(1.001);
const throwing: LossFunction = () => {
  throw new Error('no');
};
const sigmoidLoss: LossFunction = (z, y) => tf.tidy(() => tf.losses.sigmoidCrossEntropy(y, z, undefined, 0, tf.Reduction.MEAN));

describeEachBackend('the asynchronous checks', () => {
  afterEach(() => jest.restoreAllMocks());

  it('gradcheckAsync gives the result of gradcheck, passing or failing, and leaves no tensor behind', async () => {
    const z = logits();
    for (const [name, f] of Object.entries(FUNCTIONS)) {
      const before = tf.memory().numTensors;
      const asynchronous = await gradcheckAsync(f, [z], { seed: 3 });
      expect(tf.memory().numTensors).toBe(before);
      expect({ name, result: asynchronous }).toEqual({ name, result: gradcheck(f, [z], { seed: 3 }) });
    }
    expect((await gradcheckAsync(FUNCTIONS.crossEntropy, [z])).passed).toBe(true);
    expect((await gradcheckAsync(FUNCTIONS['gradient scaled by 1.01'], [z])).passed).toBe(false);
    z.dispose();
  });

  it('assertGradcheckAsync resolves to the result, or rejects with a GradcheckError carrying it', async () => {
    const z = logits();
    await expect(assertGradcheckAsync(FUNCTIONS.crossEntropy, [z])).resolves.toMatchObject({ passed: true });
    const rejection = assertGradcheckAsync(FUNCTIONS['gradient scaled by 1.01'], [z]);
    await expect(rejection).rejects.toBeInstanceOf(GradcheckError);
    await expect(rejection).rejects.toThrow(/Jacobian mismatch for output 0 with respect to input 0/);
    z.dispose();
  });

  it('rejects bad arguments, and an error f throws, instead of throwing synchronously', async () => {
    const z = logits();
    const before = tf.memory().numTensors;
    const badStep = gradcheckAsync(FUNCTIONS.crossEntropy, [z], { step: 2 });
    await expect(badStep).rejects.toBeInstanceOf(LossInputError);
    await expect(gradcheckAsync(() => throwing(z, z), [z])).rejects.toThrow('no');
    await expect(checkEquivalenceAsync(ce, ce, twoClass, { count: 0 })).rejects.toThrow(/options\.count/);
    expect(tf.memory().numTensors).toBe(before);
    z.dispose();
  });

  it('checkEquivalenceAsync gives the report of checkEquivalence, with listed and generated cases', async () => {
    const listed = [0, 1, 2].map((k) => randomCase(seededRandom(k), { kind: 'multiclass', classes: 2 }));
    const pairs: Array<[LossFunction | LossSide, LossFunction | LossSide]> = [
      [ce, viaLogits],
      [ce, offByAThousandth],
      [ce, throwing],
    ];
    for (const [a, b] of pairs) {
      for (const cases of [listed, twoClass]) {
        const before = tf.memory().numTensors;
        const asynchronous = await checkEquivalenceAsync(a, b, cases, { count: 12, rtol: 1e-5 });
        expect(tf.memory().numTensors).toBe(before);
        expect(asynchronous).toEqual(checkEquivalence(a, b, cases, { count: 12, rtol: 1e-5 }));
      }
    }
    expect((await checkEquivalenceAsync(ce, viaLogits, twoClass, { rtol: 1e-5 })).passed).toBe(true);
    expect((await checkEquivalenceAsync(ce, offByAThousandth, twoClass)).failures[0]).toMatch(/differ in value on case 0/);
    tf.dispose(listed.flatMap((c) => [c.input, c.target]));
  });

  it('checkUserLossAsync gives the report of checkUserLoss', async () => {
    for (const loss of [sigmoidLoss, crossEntropy as LossFunction, throwing]) {
      expect(await checkUserLossAsync(loss, { seed: 2 })).toEqual(checkUserLoss(loss, { seed: 2 }));
    }
    expect((await checkUserLossAsync(sigmoidLoss, { kinds: ['binary'] })).passed).toBe(true);
  });

  it('runVerifySuiteAsync gives the rows of runVerifySuite, passing and failing, and leaves no tensor behind', async () => {
    const before = tf.memory().numTensors;
    const rows = await runVerifySuiteAsync({ seed: 3 });
    expect(tf.memory().numTensors).toBe(before);
    expect(rows).toEqual(runVerifySuite({ seed: 3 }));
    expect(rows.filter((r) => !r.passed)).toEqual([]);

    const exact = crossEntropyModule.crossEntropy;
    jest
      .spyOn(crossEntropyModule, 'crossEntropy')
      .mockImplementation((input, target, options) => tf.mul(exact(input, target, options), 1.001));
    const failing = await runVerifySuiteAsync({ seed: 3 });
    expect(failing.filter((r) => !r.passed).map((r) => r.check)).toEqual([
      'CE(z, y) == BCEWithLogits(z1 - z0, y)',
      'CE(z, y) == BCE(softmax(z)[:,1], y)',
      'BCEWithLogits(s, y) == CE([0, s], y)',
      'softmaxFocal(z, y, γ=0) == CE(z, y)',
    ]);
    expect(failing).toEqual(runVerifySuite({ seed: 3 }));
  });

  it('read only with await data(): no dataSync, arraySync or backend readSync from the toolkit', async () => {
    const z = logits();
    // Functions of tfjs ops only: no synchronous read at all, the toolkit's or a loss's.
    const softmax = FUNCTIONS['tfjs softmaxCrossEntropy'];
    const softmaxSide = (zz: tf.Tensor, y: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.oneHot(y as tf.Tensor1D, 2), zz);
    const logSoftmaxSide = (zz: tf.Tensor, y: tf.Tensor) =>
      tf.neg(tf.mean(tf.sum(tf.mul(tf.logSoftmax(zz), tf.oneHot(y as tf.Tensor1D, 2)), 1)));
    expect(await syncReadsDuring(() => gradcheckAsync(softmax, [z]))).toEqual([]);
    expect(await syncReadsDuring(() => gradcheckAsync(FUNCTIONS['NaN output'], [z]))).toEqual([]);
    expect(await syncReadsDuring(() => checkEquivalenceAsync(softmaxSide, logSoftmaxSide, twoClass, { count: 5 }))).toEqual([]);
    expect(await syncReadsDuring(() => checkUserLossAsync(sigmoidLoss))).toEqual([]);
    // The suite runs this library's losses, whose host kernels read on cpu and wasm: none of those reads is the toolkit's.
    const suite = await syncReadsDuring(() => runVerifySuiteAsync({ seed: 3 }));
    expect(byToolkit(suite)).toEqual([]);
    // The counter sees the synchronous forms read.
    expect(byToolkit(await syncReadsDuring(() => gradcheck(softmax, [z]))).length).toBeGreaterThan(10);
    expect(byToolkit(await syncReadsDuring(() => checkEquivalence(softmaxSide, logSoftmaxSide, twoClass, { count: 5 })))).toHaveLength(20);
    z.dispose();
  });
});
