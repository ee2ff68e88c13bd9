import * as tf from '@tensorflow/tfjs';
import { binaryToTwoClassLogits, twoClassToBinaryLogits, twoClassToBinaryProbs } from '../../src/adapter/twoClass';
import { referenceBinaryCrossEntropyWithLogits, referenceCrossEntropy } from '../../src/check/reference';
import { seededRandom } from '../../src/check/random';
import type { Reduction } from '../../src/core/options';
import { binaryCrossEntropyWithLogits } from '../../src/losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { expectInputError } from '../helpers/assertions';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';
import { binaryCases, expectWithin, FLOAT64_SLACK, U, upstreamFor } from './float32Bounds';

const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];
const POS_WEIGHT = 2.5;

/** Value and gradient of `loss` at `x`, with upstream `dy` for a 'none' loss, as plain arrays. */
function valueAndGradient(
  loss: (x: tf.Tensor) => tf.Tensor,
  x: tf.Tensor,
  dy?: tf.Tensor,
): { value: Float32Array; gradient: Float32Array } {
  return tf.tidy(() => {
    const value = loss(x).dataSync() as Float32Array;
    const gradient = tf.grad(loss)(x, dy).dataSync() as Float32Array;
    return { value, gradient };
  });
}

/** Shape and values of the tensor `f` returns, checking that `f` leaves nothing else behind. */
function resultOf(f: () => tf.Tensor): { shape: number[]; values: number[] } {
  return expectNoLeak(() => {
    const t = f();
    const result = { shape: t.shape, values: Array.from(t.dataSync()) };
    t.dispose();
    return result;
  });
}

describeEachBackend('binary/two-class adapter', () => {
  describe('binaryToTwoClassLogits', () => {
    it('turns [N] and [N, 1] logits into rows [0, z], exactly', () => {
      const z = [1.5, -2, 1e4, -3.75e-7];
      for (const input of [tf.tensor1d(z), tf.tensor2d(z, [4, 1])]) {
        expect(resultOf(() => binaryToTwoClassLogits(input))).toEqual({ shape: [4, 2], values: z.flatMap((v) => [0, Math.fround(v)]) });
        input.dispose();
      }
    });

    it("sends the gradient of column 1 back to z, in z's shape", () => {
      tf.tidy(() => {
        const upstream = tf.tensor2d([
          [0.5, -1],
          [2, 3],
          [-4, 0.25],
        ]);
        for (const z of [tf.tensor1d([1, 2, 3]), tf.tensor2d([1, 2, 3], [3, 1])]) {
          expect(resultOf(() => tf.grad((x: tf.Tensor) => binaryToTwoClassLogits(x))(z, upstream))).toEqual({
            shape: z.shape,
            values: [-1, 3, 0.25],
          });
        }
      });
    });

    it('makes softmax column 1 the sigmoid of z', () => {
      tf.tidy(() => {
        const z = tf.tensor1d([-30, -2, 0, 0.5, 7]);
        const p = tf.softmax(binaryToTwoClassLogits(z));
        expectWithin(twoClassToBinaryProbs(p).dataSync(), tf.sigmoid(z).dataSync(), () => 4 * U, 'softmax([0, z])[1] vs σ(z)');
      });
    });

    it('rejects a shape other than [N] or [N, 1], a non-float tensor and a non-tensor, naming the argument and both shapes', () => {
      tf.tidy(() => {
        const e = expectInputError(() =>
          binaryToTwoClassLogits([
            [1, 2],
            [3, 4],
            [5, 6],
          ]),
        );
        expect(e.message).toBe(
          "binaryToTwoClassLogits: argument 'logits' must be a binary tensor of shape [N] or [N, 1] (one value per sample), got shape [3, 2]",
        );
        const [rank3, scalar, integers] = [tf.zeros([3, 1, 1]), tf.scalar(1), tf.tensor1d([1, 0], 'int32')];
        expect(expectInputError(() => binaryToTwoClassLogits(rank3)).actual).toBe('shape [3, 1, 1]');
        expect(expectInputError(() => binaryToTwoClassLogits(scalar)).actual).toBe('shape []');
        expect(expectInputError(() => binaryToTwoClassLogits(integers)).expected).toMatch(/float32/);
        expect(expectInputError(() => binaryToTwoClassLogits('logits' as unknown as number[])).argument).toBe('logits');
      });
    });
  });

  describe('twoClassToBinaryLogits and twoClassToBinaryProbs', () => {
    it('give z[:, 1] - z[:, 0] and p[:, 1] as [N]', () => {
      tf.tidy(() => {
        const z = tf.tensor2d([
          [0.5, 2],
          [1, -1],
          [-3, -3],
        ]);
        expect(resultOf(() => twoClassToBinaryLogits(z))).toEqual({ shape: [3], values: [1.5, -2, 0] });
        const p = tf.tensor2d([
          [0.25, 0.75],
          [0.9, 0.1],
        ]);
        expect(resultOf(() => twoClassToBinaryProbs(p))).toEqual({ shape: [2], values: [0.75, Math.fround(0.1)] });
      });
    });

    it('send gradients [-g, g] and [0, g] back to the two columns', () => {
      tf.tidy(() => {
        const x = tf.tensor2d([
          [0.5, 2],
          [1, -1],
        ]);
        const g = tf.tensor1d([3, -0.5]);
        expect(resultOf(() => tf.grad((t: tf.Tensor) => twoClassToBinaryLogits(t))(x, g)).values).toEqual([-3, 3, 0.5, -0.5]);
        expect(resultOf(() => tf.grad((t: tf.Tensor) => twoClassToBinaryProbs(t))(x, g)).values).toEqual([0, 3, 0, -0.5]);
      });
    });

    it('invert binaryToTwoClassLogits exactly', () => {
      tf.tidy(() => {
        const z = tf.tensor1d([1e4, -2.5, 3.0e-8, 0]);
        expect(Array.from(twoClassToBinaryLogits(binaryToTwoClassLogits(z)).dataSync())).toEqual(Array.from(z.dataSync()));
      });
    });

    it('reject anything but [N, 2], naming the argument and both shapes', () => {
      tf.tidy(() => {
        const [wide, flat, deep] = [tf.zeros([4, 3]), tf.zeros([4]), tf.zeros([2, 2, 1])];
        expect(expectInputError(() => twoClassToBinaryLogits(wide)).message).toBe(
          "twoClassToBinaryLogits: argument 'logits' must be a two-class tensor of shape [N, 2] (class 0 in column 0, class 1 in column 1), got shape [4, 3]",
        );
        expect(expectInputError(() => twoClassToBinaryLogits(flat)).actual).toBe('shape [4]');
        const p = expectInputError(() => twoClassToBinaryProbs(deep));
        expect([p.functionName, p.argument, p.actual]).toEqual(['twoClassToBinaryProbs', 'probabilities', 'shape [2, 2, 1]']);
      });
    });
  });

  describe('the identity BCEWithLogits(z, y) = CE(binaryToTwoClassLogits(z), y), value and gradient wrt z', () => {
    for (const testCase of binaryCases(11)) {
      for (const reduction of REDUCTIONS) {
        for (const weighted of [false, true]) {
          // posWeight pw is the class weight [1, pw] only for 'sum' and 'none' (see the next test for 'mean').
          for (const posWeight of reduction === 'mean' ? [undefined] : [undefined, POS_WEIGHT]) {
            const label = `${testCase.name}, ${reduction}${weighted ? ', per-sample weights' : ''}${posWeight === undefined ? '' : `, posWeight ${posWeight}`}`;
            it(label, () => {
              const { z, y, weight } = testCase;
              const n = z.length;
              const upstream = upstreamFor(n, 5);
              const pw = posWeight ?? 1;
              const w = weighted ? weight : new Float32Array(n).fill(1);
              const truth = referenceBinaryCrossEntropyWithLogits(
                { shape: [n], values: z },
                { shape: [n], values: y },
                {
                  reduction,
                  weight: weighted ? { shape: [n], values: weight } : undefined,
                  posWeight: posWeight === undefined ? undefined : { shape: [1], values: [posWeight] },
                },
                reduction === 'none' ? upstream : undefined,
              );
              const perSample = referenceBinaryCrossEntropyWithLogits(
                { shape: [n], values: z },
                { shape: [n], values: y },
                { reduction: 'none', weight: { shape: [n], values: w }, posWeight: { shape: [1], values: [pw] } },
              ).value.values;

              const yTensor = tf.tensor1d(y);
              const indices = tf.tensor1d(y, 'int32');
              const weightTensor = tf.tensor1d(w);
              const bce = (x: tf.Tensor) =>
                binaryCrossEntropyWithLogits(x, yTensor, {
                  reduction,
                  weight: weighted ? weightTensor : undefined,
                  posWeight: posWeight === undefined ? undefined : [posWeight],
                });
              const ce = (x: tf.Tensor) =>
                tf.tidy(() => {
                  const twoClass = binaryToTwoClassLogits(x);
                  const classWeight = posWeight === undefined ? undefined : [1, posWeight];
                  if (!weighted) return crossEntropy(twoClass, indices, { reduction, weight: classWeight });
                  // crossEntropy has no per-sample weight: weigh its 'none' output, then reduce as BCE does (over N).
                  const weightedLoss = crossEntropy(twoClass, indices, { reduction: 'none', weight: classWeight }).mul(weightTensor);
                  return reduction === 'none' ? weightedLoss : reduction === 'sum' ? weightedLoss.sum() : weightedLoss.sum().div(n);
                });

              const zTensor = tf.tensor1d(z);
              const dy = reduction === 'none' ? tf.tensor1d(upstream) : undefined;
              const fromBce = expectNoLeak(() => valueAndGradient(bce, zTensor, dy));
              const fromCe = expectNoLeak(() => valueAndGradient(ce, zTensor, dy));

              // Bounds (see float32Bounds.ts): the kernels round once (2u with the comparison); the weighted
              // composite adds a float32 multiply and, reduced, a float32 sum of N terms (N·u of Σ|ℓ|).
              const scale = reduction === 'mean' ? 1 / n : 1;
              const slack = (k: number) => FLOAT64_SLACK * (1 + Math.abs(z[k])) * w[k] * pw;
              const reduced = (k: number) => (reduction === 'none' ? [k] : Array.from({ length: n }, (_, i) => i));
              const valueBound = (composite: boolean) => (i: number) => {
                const items = reduced(i);
                const magnitude = items.reduce((s, k) => s + perSample[k], 0) * scale;
                const roundings = composite && weighted ? 3 + (reduction === 'none' ? 0 : n) : 2;
                return roundings * U * magnitude + items.reduce((s, k) => s + slack(k), 0) * scale;
              };
              // crossEntropy forms p - onehot from a float32 p: an absolute error of u·w·pw (times the outer
              // factor), the float32 precision of any softmax gradient (PyTorch's float32 one included).
              const gradientBound = (k: number) =>
                6 * U * Math.abs(truth.grad.input[k]) +
                (2 * U * w[k] * pw + slack(k)) * scale * (reduction === 'none' ? Math.abs(upstream[k]) : 1);

              expectWithin(fromBce.value, truth.value.values, valueBound(false), `BCE value (${label})`);
              expectWithin(fromCe.value, truth.value.values, valueBound(true), `CE([0, z]) value (${label})`);
              expectWithin(
                fromCe.value,
                fromBce.value,
                (i) => valueBound(false)(i) + valueBound(true)(i),
                `CE([0, z]) vs BCE value (${label})`,
              );
              expectWithin(fromBce.gradient, truth.grad.input, gradientBound, `BCE gradient (${label})`);
              expectWithin(fromCe.gradient, truth.grad.input, gradientBound, `CE([0, z]) gradient (${label})`);
              expectWithin(fromCe.gradient, fromBce.gradient, (k) => 2 * gradientBound(k), `CE([0, z]) vs BCE gradient (${label})`);
              tf.dispose([yTensor, indices, weightTensor, zTensor, dy]);
            });
          }
        }
      }
    }

    it("with posWeight and 'mean', CE's class-weighted mean divides by Σ w[y], BCE's by N: they differ by exactly that factor", () => {
      const { z, y } = binaryCases(11)[0];
      const n = z.length;
      const positives = y.reduce((s, v) => s + v, 0);
      tf.tidy(() => {
        const bce = binaryCrossEntropyWithLogits(z, y, { posWeight: [POS_WEIGHT] }).dataSync()[0];
        const ce = crossEntropy(binaryToTwoClassLogits(tf.tensor1d(z)), tf.tensor1d(y, 'int32'), { weight: [1, POS_WEIGHT] }).dataSync()[0];
        const classWeightSum = n - positives + POS_WEIGHT * positives;
        expect(classWeightSum).not.toBe(n);
        expect(Math.abs((ce * classWeightSum) / n - bce)).toBeLessThanOrEqual(8 * U * bce);
      });
    });
  });

  describe('the identity CE(z, y) = BCEWithLogits(twoClassToBinaryLogits(z), y), value and gradient wrt z', () => {
    const random = seededRandom(23);
    const n = 40;
    const rows: number[][] = Array.from({ length: n }, () => [4 * random.normal(), 4 * random.normal()]);
    rows.push([1e4, -1e4], [-1e4, 1e4], [5000.5, 4990.25], [-1e4, -1e4 + 3], [88.75, -88.75], [30, 0], [0, 30], [2e-4, -1e-4]);
    const z2 = Float32Array.from(rows.flat());
    const count = rows.length;
    const y = Float32Array.from({ length: count }, () => random.integer(2));
    const weight = Float32Array.from({ length: count }, () => 2 * random.uniform());

    for (const reduction of REDUCTIONS) {
      for (const weighted of [false, true]) {
        for (const posWeight of reduction === 'mean' ? [undefined] : [undefined, POS_WEIGHT]) {
          const label = `${reduction}${weighted ? ', per-sample weights' : ''}${posWeight === undefined ? '' : `, posWeight ${posWeight}`}`;
          it(label, () => {
            const upstream = upstreamFor(count, 9);
            const pw = posWeight ?? 1;
            const w = weighted ? weight : new Float32Array(count).fill(1);
            const classWeight = posWeight === undefined ? undefined : [1, posWeight];
            // The truth is float64 cross-entropy on the [N, 2] logits themselves.
            const truthNone = referenceCrossEntropy(
              { shape: [count, 2], values: z2 },
              { shape: [count], values: y },
              { reduction: 'none', weight: classWeight && { shape: [2], values: classWeight } },
              reduction === 'none' ? upstream : undefined,
            );
            const scale = reduction === 'mean' ? 1 / count : 1;
            const perSample = Float64Array.from(truthNone.value.values, (v, k) => v * w[k]);
            const truthValue = reduction === 'none' ? perSample : [perSample.reduce((s, v) => s + v, 0) * scale];
            const truthGradient = Float64Array.from(truthNone.grad.input, (g, e) => g * w[e >> 1] * scale);

            const yTensor = tf.tensor1d(y);
            const indices = tf.tensor1d(y, 'int32');
            const weightTensor = tf.tensor1d(w);
            const bce = (x: tf.Tensor) =>
              binaryCrossEntropyWithLogits(twoClassToBinaryLogits(x), yTensor, {
                reduction,
                weight: weighted ? weightTensor : undefined,
                posWeight: posWeight === undefined ? undefined : [posWeight],
              });
            const ce = (x: tf.Tensor) =>
              tf.tidy(() => {
                if (!weighted) return crossEntropy(x, indices, { reduction, weight: classWeight });
                const weightedLoss = crossEntropy(x, indices, { reduction: 'none', weight: classWeight }).mul(weightTensor);
                return reduction === 'none' ? weightedLoss : reduction === 'sum' ? weightedLoss.sum() : weightedLoss.sum().div(count);
              });
            const zTensor = tf.tensor2d(z2, [count, 2]);
            const dy = reduction === 'none' ? tf.tensor1d(upstream) : undefined;
            const fromBce = expectNoLeak(() => valueAndGradient(bce, zTensor, dy));
            const fromCe = expectNoLeak(() => valueAndGradient(ce, zTensor, dy));

            // On top of the bounds of the first identity, the subtraction z1 - z0 rounds once: the binary
            // logit is off by δ ≤ u·|z1 - z0|, which moves the loss by at most w·pw·δ and σ by at most δ/4.
            const delta = (k: number) => U * Math.abs(z2[2 * k + 1] - z2[2 * k]);
            const slack = (k: number) => FLOAT64_SLACK * (1 + Math.abs(z2[2 * k]) + Math.abs(z2[2 * k + 1])) * w[k] * pw;
            const items = (i: number) => (reduction === 'none' ? [i] : Array.from({ length: count }, (_, k) => k));
            const valueBound = (i: number) => {
              const ks = items(i);
              const roundings = weighted && reduction !== 'none' ? 3 + count : 3;
              return (
                (roundings * U * ks.reduce((s, k) => s + perSample[k], 0) + ks.reduce((s, k) => s + slack(k) + w[k] * pw * delta(k), 0)) *
                scale
              );
            };
            const gradientBound = (e: number) => {
              const k = e >> 1;
              const outer = scale * (reduction === 'none' ? Math.abs(upstream[k]) : 1);
              return 6 * U * Math.abs(truthGradient[e]) + (2 * U * w[k] * pw + slack(k) + (w[k] * pw * delta(k)) / 4) * outer;
            };
            expectWithin(fromCe.value, truthValue, valueBound, `CE value (${label})`);
            expectWithin(fromBce.value, truthValue, valueBound, `BCE(z1 - z0) value (${label})`);
            expectWithin(fromBce.value, fromCe.value, (i) => 2 * valueBound(i), `BCE(z1 - z0) vs CE value (${label})`);
            expectWithin(fromCe.gradient, truthGradient, gradientBound, `CE gradient (${label})`);
            expectWithin(fromBce.gradient, truthGradient, gradientBound, `BCE(z1 - z0) gradient (${label})`);
            expectWithin(fromBce.gradient, fromCe.gradient, (e) => 2 * gradientBound(e), `BCE(z1 - z0) vs CE gradient (${label})`);
            tf.dispose([yTensor, indices, weightTensor, zTensor, dy]);
          });
        }
      }
    }
  });
});
