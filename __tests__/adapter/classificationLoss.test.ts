import * as tf from '@tensorflow/tfjs';
import { classificationLoss, ClassificationLossOptions } from '../../src/adapter/classificationLoss';
import { referenceBinaryCrossEntropyWithLogits, referenceCrossEntropy } from '../../src/check/reference';
import { seededRandom } from '../../src/check/random';
import { setValidation, ValidationMode } from '../../src/core/validation';
import { setKernelPath } from '../../src/kernels/dispatch';
import type { Reduction } from '../../src/core/options';
import { binaryCrossEntropyWithLogits } from '../../src/losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { ErrorCase, expectInputErrors } from '../helpers/assertions';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';
import { binaryCases, expectWithin, FLOAT64_SLACK, U, upstreamFor } from './float32Bounds';

const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];

interface Evaluated {
  shape: number[];
  value: Float32Array;
  gradient: Float32Array;
}

/** Value and gradient wrt the logits (with upstream `dy` for 'none'), checking that nothing leaks. */
function evaluate(loss: (z: tf.Tensor) => tf.Tensor, z: tf.Tensor, dy?: tf.Tensor): Evaluated {
  return expectNoLeak(() =>
    tf.tidy(() => {
      const value = loss(z);
      return { shape: value.shape, value: value.dataSync() as Float32Array, gradient: tf.grad(loss)(z, dy).dataSync() as Float32Array };
    }),
  );
}

/** Runs `body` with the values of the arguments checked as `mode` says, then restores the default. */
function inMode<T>(mode: ValidationMode, body: () => T): T {
  setValidation(mode);
  try {
    return body();
  } finally {
    setValidation('auto');
  }
}

describeEachBackend('classificationLoss', () => {
  describe('binary head, native path: exactly binaryCrossEntropyWithLogits', () => {
    const { z, y, weight } = binaryCases(3)[0];
    const n = z.length;
    for (const reduction of REDUCTIONS) {
      it(`[N] and [N, 1] logits with [N] and [N, 1] targets, ${reduction}, with sampleWeight and posWeight`, () => {
        const dy = reduction === 'none' ? tf.tensor1d(upstreamFor(n, 1)) : undefined;
        const native = evaluate((x) => binaryCrossEntropyWithLogits(x, y, { reduction, weight, posWeight: [1.5] }), tf.tensor1d(z), dy);
        for (const [zShape, yShape] of [
          [[n], [n]],
          [[n, 1], [n]],
          [
            [n, 1],
            [n, 1],
          ],
          [[n], [n, 1]],
        ]) {
          const [zTensor, yTensor, wTensor] = [tf.tensor(z, zShape), tf.tensor(y, yShape), tf.tensor(weight, yShape)];
          const ours = evaluate((x) => classificationLoss(x, yTensor, { reduction, sampleWeight: wTensor, posWeight: 1.5 }), zTensor, dy);
          expect(ours.shape).toEqual(native.shape);
          expect(ours.value).toEqual(native.value);
          expect(ours.gradient).toEqual(native.gradient);
          tf.dispose([zTensor, yTensor, wTensor]);
        }
        dy?.dispose();
      });
    }
  });

  describe('multiclass head: exactly crossEntropy', () => {
    it('[N, C] with class weights, ignoreIndex and label smoothing; channels-last [N, d, C] with classAxis -1', () => {
      const random = seededRandom(8);
      const logits = tf.tensor2d(
        Array.from({ length: 15 }, () => 3 * random.normal()),
        [5, 3],
      );
      const labels = tf.tensor1d([0, 2, -100, 1, 2], 'int32');
      const options = { classWeight: [0.5, 2, 1], labelSmoothing: 0.1 };
      for (const reduction of REDUCTIONS) {
        const ours = evaluate(
          (x) => classificationLoss(x, labels, { ...options, reduction }),
          logits,
          reduction === 'none' ? tf.ones([5]) : undefined,
        );
        const theirs = evaluate(
          (x) => crossEntropy(x, labels, { weight: options.classWeight, labelSmoothing: 0.1, reduction }),
          logits,
          reduction === 'none' ? tf.ones([5]) : undefined,
        );
        expect(ours).toEqual(theirs);
      }
      const channelsLast = tf.tensor3d(
        Array.from({ length: 24 }, () => 3 * random.normal()),
        [2, 4, 3],
      );
      const denseLabels = tf.tensor2d(
        [
          [0, 1, 2, 2],
          [1, 0, 0, 2],
        ],
        [2, 4],
        'int32',
      );
      expect(evaluate((x) => classificationLoss(x, denseLabels, { classAxis: -1 }), channelsLast)).toEqual(
        evaluate((x) => crossEntropy(x, denseLabels, { classAxis: -1 }), channelsLast),
      );
      tf.dispose([logits, labels, channelsLast, denseLabels]);
    });

    it("multiplies each sample by sampleWeight and keeps crossEntropy's denominator Σ w[y] over the kept targets", () => {
      const random = seededRandom(9);
      const n = 12;
      const z = Float32Array.from({ length: n * 4 }, () => 3 * random.normal());
      const y = Float32Array.from({ length: n }, (_, k) => (k === 3 ? -100 : random.integer(4)));
      const sampleWeight = Float32Array.from({ length: n }, () => 2 * random.uniform());
      const classWeight = [0.5, 1, 2, 3];
      const perSample = referenceCrossEntropy(
        { shape: [n, 4], values: z },
        { shape: [n], values: y },
        { reduction: 'none', weight: { shape: [4], values: classWeight } },
      );
      const denominator = Array.from(y).reduce((s, c) => (c === -100 ? s : s + classWeight[c]), 0);
      const expectedValue = Array.from(perSample.value.values).reduce((s, l, k) => s + l * sampleWeight[k], 0) / denominator;
      const expectedGradient = Float64Array.from(perSample.grad.input, (g, e) => (g * sampleWeight[Math.floor(e / 4)]) / denominator);
      const [zTensor, yTensor] = [tf.tensor2d(z, [n, 4]), tf.tensor1d(y, 'int32')];
      for (const mode of ['sync', 'device'] as ValidationMode[]) {
        const ours = inMode(mode, () => evaluate((x) => classificationLoss(x, yTensor, { classWeight, sampleWeight }), zTensor));
        // Float32 roundings: each per-sample loss, its product with the weight, a float32 sum of n terms, the division.
        const magnitude = Array.from(perSample.value.values).reduce((s, l, k) => s + l * sampleWeight[k], 0) / denominator;
        expectWithin(ours.value, [expectedValue], () => (n + 3) * U * magnitude, `weighted mean (${mode})`);
        expectWithin(
          ours.gradient,
          expectedGradient,
          (e) => 6 * U * Math.abs(expectedGradient[e]) + (2 * U * 3 * 2) / denominator,
          `weighted mean gradient (${mode})`,
        );
      }
      tf.dispose([zTensor, yTensor]);
    });
  });

  describe('binary head, binaryAsTwoClass: the same value and gradient through crossEntropy on [0, z]', () => {
    interface Variant {
      name: string;
      posWeight?: number;
      labelSmoothing?: number;
      sampleWeighted?: boolean;
      ignore?: boolean;
    }
    const variants: Variant[] = [
      { name: 'plain' },
      { name: 'sampleWeight', sampleWeighted: true },
      { name: 'posWeight 2.5', posWeight: 2.5 },
      { name: 'labelSmoothing 0.2', labelSmoothing: 0.2 },
      { name: 'ignored targets', ignore: true },
      { name: 'everything', sampleWeighted: true, posWeight: 2.5, labelSmoothing: 0.2, ignore: true },
    ];
    for (const testCase of binaryCases(5)) {
      for (const variant of variants) {
        for (const reduction of REDUCTIONS) {
          const label = `${testCase.name}, ${variant.name}, ${reduction}`;
          it(label, () => {
            const { z, weight } = testCase;
            const n = z.length;
            const y = Float32Array.from(testCase.y, (v, k) => (variant.ignore && k % 5 === 2 ? -100 : v));
            const kept = Float32Array.from(y, (v) => (v === -100 ? 0 : 1));
            const options: ClassificationLossOptions = {
              reduction,
              posWeight: variant.posWeight,
              labelSmoothing: variant.labelSmoothing,
              sampleWeight: variant.sampleWeighted ? weight : undefined,
            };
            const pw = variant.posWeight ?? 1;
            const eps = variant.labelSmoothing ?? 0;
            const w = Float32Array.from(kept, (k, i) => k * (variant.sampleWeighted ? weight[i] : 1));

            // The float64 truth: BCE with logits on the smoothed targets (1-ε)y + ε/2, ignored samples weighted 0,
            // the mean taken over the samples kept.
            const smoothed = Float64Array.from(y, (v) => (v === -100 ? 0 : (1 - eps) * v + eps / 2));
            const upstream = upstreamFor(n, 2);
            const none = referenceBinaryCrossEntropyWithLogits(
              { shape: [n], values: z },
              { shape: [n], values: smoothed },
              { reduction: 'none', weight: { shape: [n], values: w }, posWeight: { shape: [1], values: [pw] } },
              reduction === 'none' ? upstream : undefined,
            );
            const keptCount = kept.reduce((s, k) => s + k, 0);
            const scale = reduction === 'mean' ? 1 / keptCount : 1;
            const total = Array.from(none.value.values).reduce((s, l) => s + l, 0);
            const truthValue = reduction === 'none' ? none.value.values : [total * scale];
            const truthGradient = Float64Array.from(none.grad.input, (g) => g * scale);

            const zTensor = tf.tensor1d(z);
            const dy = reduction === 'none' ? tf.tensor1d(upstream) : undefined;
            // 'sync' reads the targets back (and takes BCE's own path when nothing is ignored); 'device' masks
            // and counts them with tensor ops, and the composite kernels compute with tfjs ops, as on a GPU
            // backend. All must give the truth.
            const configurations: Array<[ValidationMode, 'fused' | 'composite']> = [
              ['sync', 'fused'],
              ['device', 'fused'],
              ['device', 'composite'],
            ];
            const results = configurations.flatMap(([mode, kernels]) =>
              inMode(mode, () => {
                setKernelPath(kernels);
                try {
                  return [
                    { path: `native, ${mode}, ${kernels}`, result: evaluate((x) => classificationLoss(x, y, options), zTensor, dy) },
                    {
                      path: `two-class, ${mode}, ${kernels}`,
                      result: evaluate((x) => classificationLoss(x, y, { ...options, binaryAsTwoClass: true }), zTensor, dy),
                    },
                  ];
                } finally {
                  setKernelPath('auto');
                }
              }),
            );
            const [native, twoClass] = [results[0].result, results[1].result];
            for (const { result } of results) expect(result.shape).toEqual(reduction === 'none' ? [n] : []);

            // Bounds as in twoClass.test.ts; besides, the native path rounds the smoothed targets to float32
            // (moving the loss by up to u·w·pw·(1 + |z|)) and, with weights or ignored samples, sums n float32 terms.
            const slack = (k: number) => (FLOAT64_SLACK + (eps > 0 ? U : 0)) * (1 + Math.abs(z[k])) * w[k] * pw;
            const items = (i: number) => (reduction === 'none' ? [i] : Array.from({ length: n }, (_, k) => k));
            const roundings = reduction === 'none' ? 4 : n + 4;
            const valueBound = (i: number) =>
              (roundings * U * items(i).reduce((s, k) => s + Math.abs(none.value.values[k]), 0) +
                items(i).reduce((s, k) => s + slack(k), 0)) *
              scale;
            const outer = (k: number) => scale * (reduction === 'none' ? Math.abs(upstream[k]) : 1);
            const gradientBound = (k: number) => 6 * U * Math.abs(truthGradient[k]) + (2 * U * w[k] * pw + slack(k)) * outer(k);
            for (const { path, result } of results) {
              expectWithin(result.value, truthValue, valueBound, `${path} value (${label})`);
              expectWithin(result.gradient, truthGradient, gradientBound, `${path} gradient (${label})`);
            }
            expectWithin(twoClass.value, native.value, (i) => 2 * valueBound(i), `two-class vs native value (${label})`);
            expectWithin(twoClass.gradient, native.gradient, (k) => 2 * gradientBound(k), `two-class vs native gradient (${label})`);
            tf.dispose([zTensor, dy]);
          });
        }
      }
    }

    it('gives NaN with a zero gradient for a mean over no kept sample, and 0 for the sum, on both paths', () => {
      const z = tf.tensor1d([1, -2, 3]);
      const y = [-100, -100, -100];
      for (const binaryAsTwoClass of [false, true]) {
        const mean = evaluate((x) => classificationLoss(x, y, { binaryAsTwoClass }), z);
        expect(Number.isNaN(mean.value[0])).toBe(true);
        expect(Array.from(mean.gradient)).toEqual([0, 0, 0]);
        expect(Array.from(evaluate((x) => classificationLoss(x, y, { binaryAsTwoClass, reduction: 'sum' }), z).value)).toEqual([0]);
      }
      z.dispose();
    });

    it("in 'device' validation mode, makes the loss NaN where a target is invalid instead of reading it back", () => {
      const z = tf.tensor1d([1, -2, 3, 0.5]);
      inMode('device', () => {
        for (const [binaryAsTwoClass, y] of [
          [false, [1, 0, 2, 0.25]],
          [true, [1, 0, 0.5, 1]],
        ] as Array<[boolean, number[]]>) {
          const none = evaluate((x) => classificationLoss(x, y, { binaryAsTwoClass, reduction: 'none' }), z, tf.ones([4]));
          expect(Array.from(none.value, Number.isNaN)).toEqual([false, false, true, false]);
          expect(Array.from(none.gradient, Number.isNaN)).toEqual([false, false, true, false]);
          expect(Number.isNaN(evaluate((x) => classificationLoss(x, y, { binaryAsTwoClass }), z).value[0])).toBe(true);
        }
      });
      z.dispose();
    });

    it('differentiates soft targets on the native path, through label smoothing and around ignored samples, in both validation modes', () => {
      const z = Float32Array.of(2, -1, 0.5, 30, -4);
      const y = Float32Array.of(0.25, 1, -100, 0.75, 0);
      const eps = 0.2;
      const kept = Float64Array.from(y, (v) => (v === -100 ? 0 : 1));
      const smoothed = Float64Array.from(y, (v) => (v === -100 ? 0 : (1 - eps) * v + eps / 2));
      const truth = referenceBinaryCrossEntropyWithLogits(
        { shape: [5], values: z },
        { shape: [5], values: smoothed },
        { reduction: 'none', weight: { shape: [5], values: kept }, posWeight: { shape: [1], values: [2] } },
      );
      // d/dy = (1-ε)·∂ℓ/∂y', averaged over the 4 samples kept; 0 for the ignored one.
      const expected = Float64Array.from(truth.grad.target!, (g) => ((1 - eps) * g) / 4);
      const [zTensor, yTensor] = [tf.tensor1d(z), tf.tensor1d(y)];
      for (const mode of ['sync', 'device'] as ValidationMode[]) {
        const dy = inMode(mode, () =>
          expectNoLeak(() =>
            tf.tidy(() =>
              tf
                .grad((t: tf.Tensor) => classificationLoss(zTensor, t, { labelSmoothing: eps, posWeight: 2 }))(yTensor)
                .dataSync(),
            ),
          ),
        );
        expectWithin(dy, expected, (k) => 8 * U * Math.abs(expected[k]) + U * (1 + Math.abs(z[k])), `target gradient (${mode})`);
      }
      tf.dispose([zTensor, yTensor]);
    });

    it('smooths int32 binary targets like float ones', () => {
      const z = tf.tensor1d([2, -1, 0.5]);
      const asFloat = evaluate((x) => classificationLoss(x, [1, 0, 1], { labelSmoothing: 0.3 }), z);
      const labels = tf.tensor1d([1, 0, 1], 'int32');
      expect(evaluate((x) => classificationLoss(x, labels, { labelSmoothing: 0.3 }), z)).toEqual(asFloat);
      tf.dispose([z, labels]);
    });
  });

  describe('errors', () => {
    const z = [2, -1, 0.5];
    it('names the argument, what was expected and what was given', () => {
      const cases: ErrorCase[] = [
        [
          () => classificationLoss(z, [1, 0, 0.5], { binaryAsTwoClass: true }),
          'target',
          'binary class indices 0 or 1 or ignoreIndex -100',
          '0.5 at position [2]',
        ],
        [() => classificationLoss(z, [1, 0, 2]), 'target', 'binary targets in [0, 1] or ignoreIndex -100', '2 at position [2]'],
        [
          () =>
            classificationLoss(z, [
              [1, 0],
              [0, 1],
              [1, 0],
            ]),
          'target',
          'shape [3] or [3, 1] (one value per logit of the binary head)',
          'shape [3, 2]',
        ],
        [() => classificationLoss(z, [1, 0]), 'target', 'shape [3] or [3, 1] (one value per logit of the binary head)', 'shape [2]'],
        [
          () => classificationLoss(z, [1, 0, 1], { sampleWeight: [[1, 2, 3]] }),
          'options.sampleWeight',
          'shape [3] or [3, 1] (one value per logit of the binary head)',
          'shape [1, 3]',
        ],
        [
          () => classificationLoss(z, [1, 0, 1], { posWeight: [1, 2] }),
          'options.posWeight',
          'a single number (a scalar or shape [1]) for a binary head',
          'shape [2]',
        ],
        [
          () => classificationLoss(z, [1, 0, 1], { classWeight: [1, 2] }),
          'options.classWeight',
          'absent for a binary head unless binaryAsTwoClass is true (BCE has no class weight: use posWeight)',
          'a class weight',
        ],
        [
          () => classificationLoss(z, [1, 0, 1], { classWeight: [1, 2, 3], binaryAsTwoClass: true }),
          'options.classWeight',
          'a tensor of shape [2] (one weight per class)',
          'shape [3]',
        ],
        [
          () =>
            classificationLoss(
              [
                [1, 2],
                [3, 4],
              ],
              [0, 1],
              { posWeight: 2 },
            ),
          'options.posWeight',
          'absent for a multiclass head (it weights the positive target of a binary head; use classWeight)',
          'logits of shape [2, 2]',
        ],
        [
          () =>
            classificationLoss(
              [
                [1, 2],
                [3, 4],
              ],
              [0, 2],
            ),
          'target',
          'class indices in [0, 2) or ignoreIndex -100',
          '2 (out of range) at position [1]',
        ],
        [
          () =>
            classificationLoss(
              [
                [1, 2],
                [3, 4],
              ],
              [0, 1],
              { sampleWeight: [1, 2, 3] },
            ),
          'options.sampleWeight',
          'shape [2] (one weight per sample)',
          'shape [3]',
        ],
        [
          () =>
            classificationLoss(tf.zeros([2, 1, 4]), [
              [0, 1, 0, 1],
              [1, 1, 0, 0],
            ]),
          'logits',
          'binary logits [N] or [N, 1], or class logits with at least 2 classes (one class would always give a loss of 0)',
          'shape [2, 1, 4] with a class axis of size 1 (reshape a per-element binary head to [N])',
        ],
        [
          () => classificationLoss(z, [1, 0, 1], { binaryAsTwoClass: 'yes' as unknown as boolean }),
          'options.binaryAsTwoClass',
          'true or false',
          '"yes"',
        ],
        [
          () => classificationLoss(z, [1, 0, 1], { pos_weight: 2 } as ClassificationLossOptions),
          'options.pos_weight',
          expect.stringContaining('posWeight') as unknown as string,
          'an unknown option',
        ],
      ];
      expectInputErrors('classificationLoss', cases);
    });
  });
});
