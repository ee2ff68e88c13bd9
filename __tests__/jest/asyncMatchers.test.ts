import * as tf from '@tensorflow/tfjs';
import '../../src/jest';
import { randomCase } from '../../src/check/cases';
import { CaseGenerator, LossFunction } from '../../src/check/equivalence';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { asyncMatchers, matchers } from '../../src/jest';
import { byToolkit, syncReadsDuring } from '../check/syncReads';
import { describeEachBackend } from '../helpers/backends';

/** Σ x², with its gradient 2x·dy scaled by `scale`. */
const sumOfSquares = (scale: number) => {
  const op = tf.customGrad(((x: tf.Tensor) => ({
    value: x.square().sum(),
    gradFunc: (dy: tf.Tensor) => x.mul(2).mul(dy).mul(scale),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return (x: tf.Tensor) => op(x);
};

const twoClass: CaseGenerator = (random) => randomCase(random, { kind: 'multiclass', classes: 2 });
const composite: LossFunction = (z, y) => tf.losses.softmaxCrossEntropy(tf.oneHot(y as tf.Tensor1D, 2), z);
const smoothed: LossFunction = (z, y) => crossEntropy(z, y, { labelSmoothing: 0.1 });
const zeros: LossFunction = (z) => tf.mul(tf.mean(z), 0);

describeEachBackend('asynchronous jest matchers', () => {
  it('register with the global expect beside the synchronous ones, and are exported', () => {
    expect(Object.keys(asyncMatchers)).toEqual(['toPassGradcheckAsync', 'toBeEquivalentLossAsync', 'toMatchTorchFixtureAsync']);
    expect(Object.keys(matchers)).not.toContain('toPassGradcheckAsync');
    expect(typeof expect(0).toPassGradcheckAsync).toBe('function');
    expect(typeof expect(0).toBeEquivalentLossAsync).toBe('function');
  });

  describe('toPassGradcheckAsync', () => {
    it('passes a right gradient and fails a gradient scaled by 1.01 with gradcheck’s message', async () => {
      const x = tf.tensor1d([0.5, -1, 2]);
      const before = tf.memory().numTensors;
      await expect(sumOfSquares(1)).toPassGradcheckAsync([x]);
      await expect(sumOfSquares(1.01)).not.toPassGradcheckAsync([x]);
      await expect(expect(sumOfSquares(1.01)).toPassGradcheckAsync([x], { names: ['x'] })).rejects.toThrow(
        /expect\(f\)\.toPassGradcheckAsync\(inputs\)\n\ngradcheck failed: Jacobian mismatch for output 0 with respect to input 0 \('x'\)/,
      );
      await expect(expect(sumOfSquares(1)).not.toPassGradcheckAsync([x])).rejects.toThrow(/gradcheck passed: input 0 \(\d+ directions\)/);
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    });

    it('fails a function that is identically 0 as vacuous, as the synchronous matcher does', async () => {
      const x = tf.tensor1d([0.5, -1, 2]);
      const zero = (v: tf.Tensor) => tf.mul(v, 0);
      await expect(expect(zero).toPassGradcheckAsync([x])).rejects.toThrow(/gradcheck failed \(vacuous\): both sides are identically 0/);
      expect(() => expect(zero).toPassGradcheck([x])).toThrow(/gradcheck failed \(vacuous\): both sides are identically 0/);
      x.dispose();
    });

    it('rejects a received value that is not a function', async () => {
      await expect(expect(3).toPassGradcheckAsync([])).rejects.toThrow(
        'toPassGradcheckAsync: the received value must be a function of tensors, got number',
      );
    });
  });

  describe('toBeEquivalentLossAsync', () => {
    it('passes equivalent losses and reports the first difference otherwise', async () => {
      await expect(crossEntropy).toBeEquivalentLossAsync(composite, twoClass, { count: 5, rtol: 1e-5 });
      await expect(crossEntropy).not.toBeEquivalentLossAsync(smoothed, twoClass, { count: 5 });
      await expect(expect(crossEntropy).toBeEquivalentLossAsync(smoothed, twoClass, { count: 5 })).rejects.toThrow(
        /expect\(loss\)\.toBeEquivalentLossAsync\(other, cases\)\n\n'crossEntropy' and 'smoothed' differ on 5 of 5 cases/,
      );
    });

    it('fails two losses that are both identically 0 as vacuous, as the synchronous matcher does', async () => {
      const vacuous =
        /'zeros' and 'zeros' are vacuous: both sides are identically 0 \(values and gradients\) on every case; nothing was compared/;
      await expect(expect(zeros).toBeEquivalentLossAsync(zeros, twoClass, { count: 3 })).rejects.toThrow(vacuous);
      expect(() => expect(zeros).toBeEquivalentLoss(zeros, twoClass, { count: 3 })).toThrow(vacuous);
    });
  });

  it('read only with await data()', async () => {
    const x = tf.tensor1d([0.5, -1, 2]);
    const reads = await syncReadsDuring(async () => {
      await expect(sumOfSquares(1)).toPassGradcheckAsync([x]);
      await expect(composite).toBeEquivalentLossAsync(composite, twoClass, { count: 3 });
    });
    expect(reads).toEqual([]);
    expect(byToolkit(await syncReadsDuring(() => expect(sumOfSquares(1)).toPassGradcheck([x]))).length).toBeGreaterThan(0);
    x.dispose();
  });
});
