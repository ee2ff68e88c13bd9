import * as tf from '@tensorflow/tfjs';
import { binaryTargetsToClassIndices, binaryTargetsToTwoClassProbs, classIndicesToBinaryTargets } from '../../src/adapter/targets';
import { binaryToTwoClassLogits } from '../../src/adapter/twoClass';
import { referenceBinaryCrossEntropyWithLogits } from '../../src/check/reference';
import { seededRandom } from '../../src/check/random';
import { setValidation } from '../../src/core/validation';
import type { Reduction } from '../../src/core/options';
import { binaryCrossEntropyWithLogits } from '../../src/losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { expectInputError } from '../helpers/assertions';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';
import { expectWithin, FLOAT64_SLACK, U } from './float32Bounds';

function resultOf(f: () => tf.Tensor): { shape: number[]; dtype: string; values: number[] } {
  return expectNoLeak(() => {
    const t = f();
    const result = { shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) };
    t.dispose();
    return result;
  });
}

describeEachBackend('binary target conversions', () => {
  describe('binaryTargetsToClassIndices and classIndicesToBinaryTargets', () => {
    it('turn [N, 1] float labels into [N] int32 indices and back, letting ignoreIndex through', () => {
      const labels = tf.tensor2d([[1], [0], [-100], [1]]);
      expect(resultOf(() => binaryTargetsToClassIndices(labels))).toEqual({ shape: [4], dtype: 'int32', values: [1, 0, -100, 1] });
      const indices = tf.tensor1d([1, 0, 255], 'int32');
      expect(resultOf(() => classIndicesToBinaryTargets(indices, { ignoreIndex: 255 }))).toEqual({
        shape: [3],
        dtype: 'float32',
        values: [1, 0, 255],
      });
      tf.dispose([labels, indices]);
    });

    it('reject a soft or out-of-range target with its position, a wrong shape, and an unknown option', () => {
      expect(expectInputError(() => binaryTargetsToClassIndices([[1], [0.3]])).message).toBe(
        "binaryTargetsToClassIndices: argument 'target' must be binary class indices 0 or 1 or ignoreIndex -100, got 0.30000001192092896 at position [1, 0]",
      );
      expect(expectInputError(() => classIndicesToBinaryTargets([0, 2])).actual).toBe('2 at position [1]');
      expect(expectInputError(() => classIndicesToBinaryTargets([0, -100], { ignoreIndex: 255 })).actual).toBe('-100 at position [1]');
      expect(
        expectInputError(() =>
          binaryTargetsToClassIndices([
            [0, 1],
            [1, 0],
            [0, 0],
          ]),
        ).message,
      ).toBe(
        "binaryTargetsToClassIndices: argument 'target' must be a binary tensor of shape [N] or [N, 1] (one value per sample), got shape [3, 2]",
      );
      expect(
        expectInputError(() => binaryTargetsToClassIndices([1, 0], { ignore_index: 1 } as unknown as { ignoreIndex: number })).argument,
      ).toBe('options.ignore_index');
    });
  });

  describe('binaryTargetsToTwoClassProbs', () => {
    it("makes rows [1 - y, y]: one-hot rows for hard targets, and the gradient d/dy = g1 - g0 in y's shape", () => {
      tf.tidy(() => {
        const y = tf.tensor2d([[1], [0], [0.25]]);
        expect(resultOf(() => binaryTargetsToTwoClassProbs(y))).toEqual({
          shape: [3, 2],
          dtype: 'float32',
          values: [0, 1, 1, 0, 0.75, 0.25],
        });
        const g = tf.tensor2d([
          [1, 3],
          [0.5, -1],
          [2, 2],
        ]);
        expect(resultOf(() => tf.grad((t: tf.Tensor) => binaryTargetsToTwoClassProbs(t))(y, g))).toEqual({
          shape: [3, 1],
          dtype: 'float32',
          values: [2, -1.5, 0],
        });
      });
    });

    it('rejects targets outside [0, 1] (no ignoreIndex: a probability row cannot be ignored)', () => {
      tf.tidy(() => {
        expect(expectInputError(() => binaryTargetsToTwoClassProbs([0.5, 1.5])).message).toBe(
          "binaryTargetsToTwoClassProbs: argument 'target' must be binary targets in [0, 1], got 1.5 at position [1]",
        );
        expect(expectInputError(() => binaryTargetsToTwoClassProbs([0, -100])).actual).toBe('-100 at position [1]');
      });
    });

    it("in 'device' validation mode, gives a row of NaN for an invalid target instead of reading it back", () => {
      setValidation('device');
      try {
        expect(resultOf(() => binaryTargetsToTwoClassProbs([[0.5], [1.5], [1]])).values).toEqual([0.5, 0.5, NaN, NaN, 0, 1]);
      } finally {
        setValidation('auto');
      }
    });

    // With probability targets crossEntropy's mean divides by N, as BCE's does, so posWeight as the class
    // weight [1, pw] is exact for every reduction, soft targets included: the exact alternative for 'mean'.
    for (const reduction of ['mean', 'sum', 'none'] as Reduction[]) {
      it(`gives CE([0, z], [1 - y, y], weight [1, pw]) = BCEWithLogits(z, y, posWeight pw), soft targets, ${reduction}: value and gradients wrt z and y`, () => {
        const random = seededRandom(41);
        const n = 32;
        const z = Float32Array.from({ length: n }, (_, k) => (k < 4 ? [1e4, -1e4, 50, -50][k] : 4 * random.normal()));
        const y = Float32Array.from({ length: n }, (_, k) => (k % 3 === 0 ? random.integer(2) : random.uniform()));
        const pw = 3;
        const truth = referenceBinaryCrossEntropyWithLogits(
          { shape: [n], values: z },
          { shape: [n], values: y },
          { reduction, posWeight: { shape: [1], values: [pw] } },
        );
        const perSample = referenceBinaryCrossEntropyWithLogits(
          { shape: [n], values: z },
          { shape: [n], values: y },
          { reduction: 'none', posWeight: { shape: [1], values: [pw] } },
        ).value.values;
        const [zTensor, yTensor] = [tf.tensor1d(z), tf.tensor1d(y)];
        const bce = (x: tf.Tensor, t: tf.Tensor) => binaryCrossEntropyWithLogits(x, t, { reduction, posWeight: [pw] });
        const ce = (x: tf.Tensor, t: tf.Tensor) =>
          crossEntropy(binaryToTwoClassLogits(x), binaryTargetsToTwoClassProbs(t), { reduction, weight: [1, pw] });
        const run = (loss: (x: tf.Tensor, t: tf.Tensor) => tf.Tensor) =>
          expectNoLeak(() =>
            tf.tidy(() => {
              // For 'none', the gradients of the total: every upstream is 1.
              const total = (x: tf.Tensor, t: tf.Tensor) => tf.sum(loss(x, t));
              const [dz, dy] = tf.grads(total)([zTensor, yTensor]);
              return { value: loss(zTensor, yTensor).dataSync(), dz: dz.dataSync(), dy: dy.dataSync() };
            }),
          );
        const fromBce = run(bce);
        const fromCe = run(ce);
        const scale = reduction === 'mean' ? 1 / n : 1;
        const slack = (k: number) => FLOAT64_SLACK * (1 + Math.abs(z[k])) * pw;
        const items = (i: number) => (reduction === 'none' ? [i] : Array.from({ length: n }, (_, k) => k));
        // Float32 roundings: the kernel's result (1), the targets 1 - y (1), the float32 sum of 'none' (n).
        const valueBound = (i: number) =>
          (4 * U * items(i).reduce((s, k) => s + perSample[k], 0) + items(i).reduce((s, k) => s + slack(k) + pw * U, 0)) * scale;
        // The target gradient is (g1 - g0), two float32 numbers of size up to pw·|z| that cancel: u·pw·(1 + |z|) each.
        const dzBound = (k: number) => 6 * U * Math.abs(truth.grad.input[k]) + (2 * U * pw + slack(k)) * scale;
        const dyBound = (k: number) => 6 * U * Math.abs(truth.grad.target![k]) + (2 * U * pw * (2 + Math.abs(z[k])) + slack(k)) * scale;
        for (const [side, result] of [
          ['BCE', fromBce],
          ['CE', fromCe],
        ] as const) {
          expectWithin(result.value, truth.value.values, valueBound, `${side} value`);
          expectWithin(result.dz, truth.grad.input, dzBound, `${side} gradient wrt z`);
          expectWithin(result.dy, truth.grad.target!, dyBound, `${side} gradient wrt y`);
        }
        tf.dispose([zTensor, yTensor]);
      });
    }
  });
});
