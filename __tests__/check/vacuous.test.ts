import * as tf from '@tensorflow/tfjs';
import { randomCase } from '../../src/check/cases';
import { CheckAccumulator, compareCase, formatCheckTable } from '../../src/check/checkResult';
import { CaseGenerator, checkEquivalence, checkEquivalenceAsync, LossFunction } from '../../src/check/equivalence';
import { assertGradcheck, gradcheck, gradcheckAsync, GradcheckError, TensorFunction } from '../../src/check/gradcheck';
import { runVerifySuite, runVerifySuiteAsync } from '../../src/check/verifySuite';
import { binaryCrossEntropyWithLogits } from '../../src/losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

const twoClass: CaseGenerator = (random) => randomCase(random, { kind: 'multiclass', classes: 2 });
const zeroLoss: LossFunction = (z) => tf.mul(tf.sum(z), 0);
const viaLogits: LossFunction = (z, y) =>
  binaryCrossEntropyWithLogits(
    z
      .slice([0, 1], [-1, 1])
      .sub(z.slice([0, 0], [-1, 1]))
      .reshape([-1]),
    y.toFloat(),
  );

/** Every read of a tensor's values gives zeros of its size, as webgpu's dataSync() does in headless Chromium. */
const zerosOf = (t: tf.Tensor) => (t.dtype === 'int32' ? new Int32Array(t.size) : new Float32Array(t.size));
function readZerosSynchronously(): void {
  jest.spyOn(tf.Tensor.prototype, 'dataSync').mockImplementation(function (this: tf.Tensor) {
    return zerosOf(this) as never;
  });
}
function readZerosAsynchronously(): void {
  jest.spyOn(tf.Tensor.prototype, 'data').mockImplementation(async function (this: tf.Tensor) {
    return zerosOf(this) as never;
  });
}

const VACUOUS_GRADCHECK = /^gradcheck failed \(vacuous\): both sides are identically 0: .* nothing was compared$/;

describeEachBackend('vacuous checks', () => {
  afterEach(() => jest.restoreAllMocks());

  describe('gradcheck', () => {
    it('fails a function that is identically 0, or constant, as vacuous, sync and async', async () => {
      const x = tf.tensor1d([0.5, -1, 2]);
      for (const f of [(v: tf.Tensor) => tf.mul(v, 0), (v: tf.Tensor) => tf.add(tf.mul(tf.sum(v), 0), 3)]) {
        const result = expectNoLeak(() => gradcheck(f, [x]));
        expect(result).toMatchObject({ passed: false, vacuous: true });
        expect(result.directions.every((d) => d.numerical === 0 && d.analytical === 0)).toBe(true);
        expect(result.failures).toEqual([expect.stringMatching(VACUOUS_GRADCHECK)]);
        expect(result.summary).toMatch(/^gradcheck failed 1 check \(seed 0\): gradcheck failed \(vacuous\)/);
        expect(await gradcheckAsync(f, [x])).toEqual(result);
        expect(() => assertGradcheck(f, [x])).toThrow(GradcheckError);
      }
      x.dispose();
    });

    it('is not vacuous where one of several inputs genuinely does not matter', () => {
      const [x, unused] = [tf.tensor1d([0.5, -1, 2]), tf.tensor1d([1, 2])];
      const result = gradcheck((a, b) => tf.add(tf.sum(tf.square(a)), tf.mul(tf.sum(b), 0)), [x, unused]);
      expect(result).toMatchObject({ passed: true, vacuous: false });
      tf.dispose([x, unused]);
    });

    it('fails a correct loss read through a backend whose reads return zeros', async () => {
      const f: TensorFunction = (z) => crossEntropy(z, [0, 1]);
      const z = tf.tensor2d([
        [2, 0, -1],
        [0.5, 1.5, 0],
      ]);
      expect(gradcheck(f, [z])).toMatchObject({ passed: true, vacuous: false });
      readZerosAsynchronously();
      expect(await gradcheckAsync(f, [z])).toMatchObject({ passed: false, vacuous: true });
      readZerosSynchronously();
      expect(gradcheck(f, [z])).toMatchObject({ passed: false, vacuous: true });
      z.dispose();
    });
  });

  describe('checkEquivalence', () => {
    it('fails two losses that are both identically 0, values and gradients, as vacuous', async () => {
      const report = expectNoLeak(() => checkEquivalence(zeroLoss, (z) => tf.mul(tf.mean(z), 0), twoClass, { count: 5 }));
      expect(report).toMatchObject({ passed: false, vacuous: true, maxValueError: 0, maxGradientError: 0 });
      expect(report.failures).toEqual([
        "'zeroLoss' and 'b' are vacuous: both sides are identically 0 (values and gradients) on every case; nothing was compared",
      ]);
      expect(report.summary).toBe(report.failures[0]);
      expect(await checkEquivalenceAsync(zeroLoss, (z) => tf.mul(tf.mean(z), 0), twoClass, { count: 5 })).toEqual(report);
    });

    it('passes a case that is genuinely 0 among others, and fails it alone', () => {
      // Every target ignored with reduction 'sum': PyTorch's loss is 0 and so is its gradient.
      const sum: LossFunction = (z, y) => crossEntropy(z, y, { reduction: 'sum' });
      const sumOfDifference: LossFunction = (z, y) => viaLogits(z, y).mul(0).add(sum(z, y));
      const ignored = { name: 'every target ignored', input: tf.tensor2d([[1, 2]]), target: tf.tensor1d([-100], 'int32') };
      const counted = { name: 'one target', input: tf.tensor2d([[1, 2]]), target: tf.tensor1d([1], 'int32') };
      expect(checkEquivalence(sum, sumOfDifference, [ignored, counted])).toMatchObject({ passed: true, vacuous: false });
      const alone = checkEquivalence(sum, sumOfDifference, [ignored]);
      expect(alone).toMatchObject({ passed: false, vacuous: true });
      tf.dispose([ignored.input, ignored.target, counted.input, counted.target]);
    });

    it('fails a right identity read through a backend whose reads return zeros', async () => {
      expect(checkEquivalence(crossEntropy, viaLogits, twoClass, { count: 5, rtol: 1e-5 })).toMatchObject({ passed: true, vacuous: false });
      readZerosAsynchronously();
      expect(await checkEquivalenceAsync(crossEntropy, viaLogits, twoClass, { count: 5 })).toMatchObject({ passed: false, vacuous: true });
      readZerosSynchronously();
      expect(checkEquivalence(crossEntropy, viaLogits, twoClass, { count: 5 })).toMatchObject({ passed: false, vacuous: true });
    });

    it('keeps the real failures first, with the vacuous one after', () => {
      const throwsOnSecond: LossFunction = (z) => {
        if (z.shape[0] === 2) throw new Error('no');
        return tf.mul(tf.sum(z), 0);
      };
      const cases = [1, 2].map((n) => ({ input: tf.zeros([n, 2]), target: tf.zeros([n], 'int32') }));
      const report = checkEquivalence(zeroLoss, throwsOnSecond, cases);
      expect(report).toMatchObject({ passed: false, vacuous: true });
      expect(report.failures).toEqual([
        "'throwsOnSecond' throws: no on case 1 ([2, 2])",
        "'zeroLoss' and 'throwsOnSecond' are vacuous: both sides are identically 0 (values and gradients) on the 1 cases compared; nothing was compared",
      ]);
      expect(report.summary).toMatch(/^'zeroLoss' and 'throwsOnSecond' differ on 1 of 2 cases .*: 'throwsOnSecond' throws: no/);
      tf.dispose(cases.flatMap((c) => [c.input, c.target]));
    });
  });

  describe('the rows of the verify suite', () => {
    it('fail as vacuous only when every case of the row is', () => {
      const tolerance = { rtol: 1e-5, atol: 1e-6 };
      const zero = compareCase(
        'zero',
        [[0], [0]],
        {
          input: [
            [0, 0],
            [-0, 0],
          ],
        },
        tolerance,
      );
      const one = compareCase(
        'one',
        [[1], [1]],
        {
          input: [
            [0, 0],
            [0, 0],
          ],
        },
        tolerance,
      );
      expect([zero.vacuous, one.vacuous]).toEqual([true, false]);
      const mixed = new CheckAccumulator('mixed', 'rtol 1e-5', true);
      [zero, one].forEach((outcome) => mixed.add(outcome));
      expect(mixed.done()).toMatchObject({ cases: 2, passed: true, vacuous: false });
      const zeros = new CheckAccumulator('zeros', 'rtol 1e-5', true);
      [zero, zero].forEach((outcome) => zeros.add(outcome));
      const row = zeros.done();
      expect(row).toMatchObject({
        cases: 2,
        passed: false,
        vacuous: true,
        failure: 'vacuous: both sides are identically 0 in all 2 cases; nothing was compared',
      });
      expect(formatCheckTable([{ backend: 'cpu', ...row }])).toMatch(/\| FAIL \(vacuous\) \|$/);
    });

    it('all fail when every read returns zeros: the identity, gradcheck and gradgradcheck rows as vacuous, sync and async', async () => {
      const identities = [
        'CE(z, y) == BCEWithLogits(z1 - z0, y)',
        'CE(z, y) == BCE(softmax(z)[:,1], y)',
        'BCEWithLogits(s, y) == CE([0, s], y)',
        'sigmoidFocal(s, y) == softmaxFocal([0, s], y, w=[1-α, α])',
        'softmaxFocal(z, y, γ=0) == CE(z, y)',
      ];
      const gradchecks = [
        'gradcheck crossEntropy, class indices, class weights',
        'gradcheck crossEntropy, class probabilities',
        'gradcheck nllLoss of logSoftmax',
        'gradcheck binaryCrossEntropy, soft targets',
        'gradcheck binaryCrossEntropyWithLogits, posWeight, soft targets',
        'gradcheck classificationLoss, binary head as two classes',
      ];
      readZerosSynchronously();
      const rows = runVerifySuite({ seed: 3 });
      expect(rows.filter((r) => r.passed)).toEqual([]);
      const gradgradchecks = gradchecks.map((check) => check.replace(/^gradcheck/, 'gradgradcheck').replace('of logSoftmax', 'of log'));
      expect(rows.filter((r) => r.vacuous).map((r) => r.check)).toEqual([...identities, ...gradchecks, ...gradgradchecks]);
      jest.restoreAllMocks();
      // Only the toolkit's reads give zeros here: the losses' own reads on cpu and wasm are right, so a
      // gradcheck at the zeros it read may leave a loss's domain (BCE at p = -0.01) and fail otherwise.
      readZerosAsynchronously();
      const asynchronous = await runVerifySuiteAsync({ seed: 3 });
      expect(asynchronous.filter((r) => r.passed)).toEqual([]);
      expect(asynchronous.filter((r) => r.vacuous).map((r) => r.check)).toEqual(
        expect.arrayContaining([...identities, ...gradchecks.slice(0, 3)]),
      );
      expect(rows[0].failure).toBe('vacuous: both sides are identically 0 in all 48 cases; nothing was compared');
      // The float64 reference is not read from a tensor: those rows fail as mismatches.
      expect(rows.find((r) => r.check === 'nllLoss vs float64 reference')?.failure).toMatch(
        /^input .*: value at \[0\]: actual 0, expected/,
      );
    });
  });
});
