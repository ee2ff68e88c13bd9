import * as tf from '@tensorflow/tfjs';
import '../../src/jest';
import { randomCase } from '../../src/check/cases';
import { CaseGenerator, LossFunction } from '../../src/check/equivalence';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { matchers } from '../../src/jest';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

/** `tf.customGrad` for a function of one tensor: its value, and the gradient it claims for an upstream dy. */
function withGradient(
  forward: (x: tf.Tensor) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor) => tf.Tensor },
): (x: tf.Tensor) => tf.Tensor {
  const op = tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0]);
  return (x) => op(x);
}

/** Σ x², with its gradient 2x·dy scaled by `scale`. */
const sumOfSquares = (scale: number) => withGradient((x) => ({ value: x.square().sum(), gradFunc: (dy) => x.mul(2).mul(dy).mul(scale) }));

const twoClass: CaseGenerator = (random) => randomCase(random, { kind: 'multiclass', classes: 2 });

describeEachBackend('jest matchers', () => {
  it('registers with the global expect and exports the matchers', () => {
    expect(Object.keys(matchers)).toEqual([
      'toBeCloseToTensor',
      'toPassGradcheck',
      'toBeEquivalentLoss',
      'toLeakTensors',
      'toMatchTorchFixture',
    ]);
    expect(typeof expect(0).toBeCloseToTensor).toBe('function');
  });

  describe('toBeCloseToTensor', () => {
    it('passes within atol + rtol·|expected|, for tensors and nested arrays, and fails beyond', () => {
      const x = tf.tensor2d([
        [1, 2],
        [3, 4],
      ]);
      const y = tf.tensor2d([
        [1.01, 2],
        [3, 4],
      ]);
      expectNoLeak(() => {
        expect(x).toBeCloseToTensor([
          [1, 2],
          [3, 4.000001],
        ]);
        expect(x).toBeCloseToTensor(y, { atol: 0.02 });
        expect(x).not.toBeCloseToTensor([
          [1, 2],
          [3, 4.1],
        ]);
        expect([0.5, NaN, Infinity]).toBeCloseToTensor([0.5, NaN, Infinity], { rtol: 0, atol: 0 });
        expect([NaN]).not.toBeCloseToTensor([Infinity], { rtol: 1, atol: 1 });
        expect([-Infinity]).not.toBeCloseToTensor([Infinity]);
      });
      tf.dispose([x, y]);
    });

    it('says where, how far, and what tolerance, and names a shape mismatch', () => {
      const x = tf.tensor2d([
        [1, 2],
        [3, 4],
      ]);
      expectNoLeak(() => {
        expect(() =>
          expect(x).toBeCloseToTensor(
            [
              [1, 2],
              [3.5, 4],
            ],
            { rtol: 0, atol: 0.1 },
          ),
        ).toThrow(
          /1 of 4 elements differ; worst at \[1, 0\]: received 3, expected 3\.5, \|difference\| 0\.5 > tolerance 0\.1 \(atol 0\.1 \+ rtol 0·\|expected\|\)/,
        );
        expect(() => expect(x).toBeCloseToTensor([1, 2, 3, 4])).toThrow(/received shape \[2, 2\], expected shape \[4\]/);
        expect(() => expect(x).not.toBeCloseToTensor(x)).toThrow(/all 4 elements are within tolerance/);
      });
      x.dispose();
    });
  });

  describe('toPassGradcheck', () => {
    it('passes a right gradient and fails a gradient scaled by 1.01 with gradcheck’s message', () => {
      const x = tf.tensor1d([0.5, -1, 2]);
      expectNoLeak(() => {
        expect(sumOfSquares(1)).toPassGradcheck([x]);
        expect(sumOfSquares(1.01)).not.toPassGradcheck([x]);
        expect(() => expect(sumOfSquares(1.01)).toPassGradcheck([x], { names: ['x'] })).toThrow(
          /Jacobian mismatch for output 0 with respect to input 0 \('x'\)/,
        );
      });
      x.dispose();
    });
  });

  describe('toBeEquivalentLoss', () => {
    it('passes equivalent losses and reports the first difference otherwise', () => {
      const composite: LossFunction = (z, y) =>
        tf
          .logSoftmax(z)
          .mul(tf.oneHot(y as tf.Tensor1D, 2))
          .sum(1)
          .mean()
          .neg();
      const smoothed: LossFunction = (z, y) => crossEntropy(z, y, { labelSmoothing: 0.1 });
      expectNoLeak(() => {
        expect(crossEntropy).toBeEquivalentLoss(composite, twoClass, { count: 5, rtol: 1e-5 });
        expect(crossEntropy).not.toBeEquivalentLoss(smoothed, twoClass, { count: 5 });
        expect(() => expect(crossEntropy).toBeEquivalentLoss(smoothed, twoClass, { count: 5 })).toThrow(
          /'crossEntropy' and 'smoothed' differ on 5 of 5 cases/,
        );
      });
    });
  });

  describe('toLeakTensors', () => {
    it('catches a function that leaves tensors behind, sync or async, and passes one that does not', async () => {
      const kept: tf.Tensor[] = [];
      const leaky = () => {
        kept.push(tf.ones([2]).add(1));
      };
      expect(leaky).toLeakTensors();
      expect(() => expect(leaky).not.toLeakTensors()).toThrow(/fn left 2 tensors behind: tf\.memory\(\)\.numTensors went from \d+ to \d+/);
      expect(() => tf.tidy(() => tf.ones([2]).add(1))).not.toLeakTensors(); // the returned tensor is disposed, not counted
      await expect(async () => {
        await tf.nextFrame();
        kept.push(tf.zeros([1]));
      }).toLeakTensors();
      await expect(async () => {
        await tf.nextFrame();
        return tf.tidy(() => tf.zeros([1]).add(1));
      }).not.toLeakTensors();
      tf.dispose(kept);
    });

    it('keeps a returned tensor that existed before the call, and counts what a throwing function leaves', () => {
      const x = tf.tensor1d([1, 2]);
      expect(() => x).not.toLeakTensors();
      expect(x.isDisposed).toBe(false);
      let leaked: tf.Tensor | undefined;
      const throwing = () => {
        leaked = tf.ones([1]);
        throw new Error('bad input');
      };
      expect(() => expect(throwing).not.toLeakTensors()).toThrow(/left 1 tensor behind.*\(it threw: bad input\)/);
      tf.dispose([x, leaked as tf.Tensor]);
    });

    it('types an async function’s matcher as a promise', async () => {
      const pending: Promise<void> = expect(async () => undefined).not.toLeakTensors();
      await pending;
    });
  });
});
