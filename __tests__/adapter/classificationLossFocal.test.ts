import * as tf from '@tensorflow/tfjs';
import { classificationLoss, ClassificationLossOptions } from '../../src/adapter/classificationLoss';
import { referenceBinaryCrossEntropyWithLogits } from '../../src/check/reference';
import { referenceSigmoidFocalLoss } from '../../src/check/referenceFocal';
import { seededRandom, SeededRandom } from '../../src/check/random';
import type { Reduction } from '../../src/core/options';
import { setValidation } from '../../src/core/validation';
import { setKernelPath } from '../../src/kernels/dispatch';
import { softmaxFocalLoss } from '../../src/losses/softmaxFocalLoss';
import { ErrorCase, expectInputErrors } from '../helpers/assertions';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';
import { expectWithin, FLOAT64_SLACK } from './float32Bounds';

/**
 * classificationLoss on a binary head, through the native path (BCE with logits, or sigmoid focal loss)
 * and through the two-class path (cross-entropy, or softmax focal loss, on `[0, z]`): both must give the
 * binary head's float64 value and gradient for every option and every reduction, including 'mean' with
 * posWeight or focalAlpha, whose class weights `[1, pw]` and `[1 - α, α]` would make cross-entropy's own
 * mean divide by `Σ w[y]`.
 */

const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];
const CASES_PER_VARIANT = 40;

interface Variant {
  name: string;
  posWeight?: boolean;
  gamma?: boolean;
  alpha?: 'on' | 'off';
  labelSmoothing?: boolean;
  sampleWeight?: boolean;
  ignore?: boolean;
}

const VARIANTS: Variant[] = [
  { name: 'posWeight', posWeight: true },
  { name: 'posWeight, sampleWeight, ignored targets', posWeight: true, sampleWeight: true, ignore: true },
  { name: 'posWeight, labelSmoothing', posWeight: true, labelSmoothing: true },
  { name: 'focalGamma', gamma: true },
  { name: 'focalAlpha (gamma 0)', alpha: 'on' },
  { name: 'focalGamma, focalAlpha', gamma: true, alpha: 'on' },
  { name: 'focalGamma, negative focalAlpha (no weighting)', gamma: true, alpha: 'off' },
  { name: 'focalGamma, focalAlpha, sampleWeight, ignored targets', gamma: true, alpha: 'on', sampleWeight: true, ignore: true },
];

interface Case {
  z: Float32Array;
  y: Float32Array;
  options: ClassificationLossOptions;
  /** The float64 truth: the value (one per sample for 'none') and the gradient wrt the logits. */
  value: Float64Array;
  gradient: Float64Array;
  upstream: Float32Array | null;
  /** Per sample, the absolute float64 error of a log-sum-exp of `[0, z]` in the loss (see float32Bounds.ts), and in its gradient. */
  slack: { value: Float64Array; gradient: Float64Array };
}

const GAMMAS = [0.5, 1, 2, 5];

/** Logits mostly of moderate size, some saturated (|z| = 30), the odd one at 1e4. */
function logit(random: SeededRandom): number {
  const u = random.uniform();
  if (u < 0.05) return (random.uniform() < 0.5 ? -1 : 1) * 1e4;
  if (u < 0.15) return (random.uniform() < 0.5 ? -1 : 1) * 30;
  return 4 * random.normal();
}

function makeCase(variant: Variant, reduction: Reduction, random: SeededRandom): Case {
  const n = 1 + random.integer(12);
  const z = Float32Array.from({ length: n }, () => logit(random));
  // Some targets ignored, never all (a mean over no sample is NaN, tested in classificationLoss.test.ts).
  const y = Float32Array.from({ length: n }, (_, i) => (variant.ignore && i > 0 && random.uniform() < 0.25 ? -100 : random.integer(2)));
  const sampleWeight = variant.sampleWeight ? Float32Array.from({ length: n }, () => 2 * random.uniform()) : undefined;
  const posWeight = variant.posWeight ? Math.fround(0.2 + 4.8 * random.uniform()) : undefined;
  const gamma = variant.gamma ? GAMMAS[random.integer(GAMMAS.length)] : undefined;
  const alpha = variant.alpha === 'on' ? Math.fround(random.uniform()) : variant.alpha === 'off' ? -1 : undefined;
  const labelSmoothing = variant.labelSmoothing ? Math.fround(0.3 * random.uniform()) : undefined;
  const options: ClassificationLossOptions = { reduction, posWeight, focalGamma: gamma, focalAlpha: alpha, labelSmoothing, sampleWeight };

  // The truth, per sample: BCE with logits or torchvision's focal loss of the (smoothed) target, times the
  // sample's weight (0 when ignored); 'mean' divides by the samples kept.
  const eps = labelSmoothing ?? 0;
  const kept = Float64Array.from(y, (v) => (v === -100 ? 0 : 1));
  const weight = Float64Array.from(kept, (k, i) => k * (sampleWeight?.[i] ?? 1));
  const targets = { shape: [n], values: Float64Array.from(y, (v) => (v === -100 ? 0 : (1 - eps) * v + eps / 2)) };
  const logits = { shape: [n], values: z };
  const focal = gamma !== undefined || alpha !== undefined;
  const perSample = focal
    ? referenceSigmoidFocalLoss(logits, targets, { alpha: alpha ?? -1, gamma: gamma ?? 0, reduction: 'none' })
    : referenceBinaryCrossEntropyWithLogits(logits, targets, { reduction: 'none', posWeight: { shape: [1], values: [posWeight ?? 1] } });
  const keptCount = kept.reduce((s, k) => s + k, 0);
  const scale = reduction === 'mean' ? 1 / keptCount : 1;
  const upstream = reduction === 'none' ? Float32Array.from({ length: n }, () => 2 * random.uniform() - 1) : null;
  const losses = Float64Array.from(perSample.value.values, (l, i) => l * weight[i]);
  const total = losses.reduce((s, l) => s + l, 0) * scale;
  return {
    z,
    y,
    options,
    value: reduction === 'none' ? losses : Float64Array.of(total),
    gradient: Float64Array.from(perSample.grad.input, (g, i) => g * weight[i] * scale * (upstream?.[i] ?? 1)),
    upstream,
    slack: {
      value: Float64Array.from(z, (x, i) => FLOAT64_SLACK * (1 + Math.abs(x)) * weight[i] * scale),
      gradient: Float64Array.from(z, (x, i) => FLOAT64_SLACK * (1 + Math.abs(x)) * weight[i] * scale * Math.abs(upstream?.[i] ?? 1)),
    },
  };
}

/** Value and gradient wrt the logits, checking that nothing leaks. */
function evaluate(z: Float32Array, y: Float32Array, options: ClassificationLossOptions, upstream: Float32Array | null) {
  return expectNoLeak(() =>
    tf.tidy(() => {
      const loss = (x: tf.Tensor) => classificationLoss(x, y, options);
      const logits = tf.tensor1d(z);
      const dy = upstream === null ? undefined : tf.tensor1d(upstream);
      return { value: loss(logits).dataSync(), gradient: tf.grad(loss)(logits, dy).dataSync() };
    }),
  );
}

/**
 * float32 against float64: a relative error of `rtol`, `rtol` of the largest magnitude as an absolute
 * floor, and the float64 slack of each sample (summed for a reduced value).
 */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, slack: Float64Array, rtol: number, what: string): void {
  const floor = rtol * Math.max(...Array.from(expected, Math.abs));
  const total = slack.reduce((s, e) => s + e, 0);
  expectWithin(actual, expected, (i) => rtol * Math.abs(expected[i]) + floor + (expected.length === slack.length ? slack[i] : total), what);
}

/** Both paths' value and gradient against the truth of case `c`. */
function expectTruth(c: Case, result: { value: ArrayLike<number>; gradient: ArrayLike<number> }, rtol: number, what: string): void {
  expectClose(result.value, c.value, c.slack.value, rtol, `${what} value`);
  expectClose(result.gradient, c.gradient, c.slack.gradient, rtol, `${what} gradient`);
}

describeEachBackend('classificationLoss with focal options and class-weighted means', (backend) => {
  const rtol = backend === 'wasm' ? 1e-4 : 1e-5;

  describe('binaryAsTwoClass gives the binary head, value and gradient, on seeded cases', () => {
    for (const variant of VARIANTS) {
      for (const reduction of REDUCTIONS) {
        it(`${variant.name}, ${reduction} (${CASES_PER_VARIANT} cases)`, () => {
          const random = seededRandom(1000 * VARIANTS.indexOf(variant) + REDUCTIONS.indexOf(reduction));
          for (let k = 0; k < CASES_PER_VARIANT; k++) {
            const c = makeCase(variant, reduction, random);
            const native = evaluate(c.z, c.y, c.options, c.upstream);
            const twoClass = evaluate(c.z, c.y, { ...c.options, binaryAsTwoClass: true }, c.upstream);
            const label = `case ${k}: z ${Array.from(c.z)}, y ${Array.from(c.y)}, ${JSON.stringify(c.options)}`;
            expectTruth(c, native, rtol, `native, ${label}`);
            expectTruth(c, twoClass, rtol, `two-class, ${label}`);
          }
        });
      }
    }

    it("counts the samples kept with tensor ops in 'device' validation mode, with the composite kernels", () => {
      const random = seededRandom(77);
      setValidation('device');
      setKernelPath('composite');
      try {
        for (const variant of VARIANTS) {
          for (const reduction of REDUCTIONS) {
            const c = makeCase({ ...variant, ignore: true }, reduction, random);
            for (const binaryAsTwoClass of [false, true]) {
              const result = evaluate(c.z, c.y, { ...c.options, binaryAsTwoClass }, c.upstream);
              const label = `${variant.name}, ${reduction}, binaryAsTwoClass ${binaryAsTwoClass}`;
              expectTruth(c, result, 10 * rtol, label);
            }
          }
        }
      } finally {
        setValidation('auto');
        setKernelPath('auto');
      }
    });
  });

  it('a multiclass head with focalGamma is softmaxFocalLoss, with class weights, ignored targets and smoothing', () => {
    const random = seededRandom(5);
    const logits = tf.tensor2d(
      Array.from({ length: 24 }, () => 3 * random.normal()),
      [6, 4],
    );
    const labels = tf.tensor1d([0, 3, -100, 1, 2, 2], 'int32');
    const weight = [0.5, 2, 1, 0.25];
    for (const reduction of REDUCTIONS) {
      const dy = reduction === 'none' ? tf.ones([6]) : undefined;
      const ours = (x: tf.Tensor) => classificationLoss(x, labels, { focalGamma: 2, classWeight: weight, labelSmoothing: 0.1, reduction });
      const theirs = (x: tf.Tensor) => softmaxFocalLoss(x, labels, { gamma: 2, weight, labelSmoothing: 0.1, reduction });
      expectNoLeak(() =>
        tf.tidy(() => {
          expect(ours(logits).arraySync()).toEqual(theirs(logits).arraySync());
          expect(tf.grad(ours)(logits, dy).arraySync()).toEqual(tf.grad(theirs)(logits, dy).arraySync());
        }),
      );
      dy?.dispose();
    }
    tf.dispose([logits, labels]);
  });

  it('names the option, what was expected and what was given', () => {
    const z = [2, -1, 0.5];
    const multiclass = [
      [1, 2],
      [3, 4],
    ];
    const cases: ErrorCase[] = [
      [() => classificationLoss(z, [1, 0, 1], { focalGamma: -1 }), 'options.focalGamma', 'a finite number >= 0', '-1'],
      [() => classificationLoss(z, [1, 0, 1], { focalGamma: Infinity }), 'options.focalGamma', 'a finite number >= 0', 'Infinity'],
      [
        () => classificationLoss(z, [1, 0, 1], { focalAlpha: 1.5 }),
        'options.focalAlpha',
        'a number <= 1 (a negative alpha turns the weighting off)',
        '1.5',
      ],
      [
        () => classificationLoss(z, [1, 0, 2], { focalGamma: 2 }),
        'target',
        'binary targets in [0, 1] or ignoreIndex -100',
        '2 at position [2]',
      ],
      [
        () => classificationLoss(z, [1, 0, -0.5], { focalAlpha: 0.25 }),
        'target',
        'binary targets in [0, 1] or ignoreIndex -100',
        '-0.5 at position [2]',
      ],
      [
        () => classificationLoss(z, [1, 0, 1], { focalGamma: 2, posWeight: 3 }),
        'options.posWeight',
        'absent with focalGamma or focalAlpha (focal loss weights positive targets with focalAlpha)',
        '3',
      ],
      [
        () => classificationLoss(z, [1, 0, 1], { focalAlpha: 0.25, classWeight: [1, 2], binaryAsTwoClass: true }),
        'options.focalAlpha',
        'absent when classWeight is given (posWeight pw is the class weight [1, pw], focalAlpha α the class weight [1 - α, α])',
        '0.25',
      ],
      [
        () => classificationLoss(z, [1, 0, 1], { focalGamma: 2, labelSmoothing: 0.1, binaryAsTwoClass: true }),
        'options.labelSmoothing',
        "0 with focalGamma or focalAlpha when binaryAsTwoClass is true (smoothed targets are soft, and for soft targets the binary head's focal loss differs from its two-class form; use binaryAsTwoClass: false)",
        '0.1',
      ],
      [
        () => classificationLoss(multiclass, [0, 1], { focalAlpha: 0.25 }),
        'options.focalAlpha',
        "absent for a multiclass head (it weights the positive target of a binary head; use classWeight, each class's alpha)",
        'logits of shape [2, 2]',
      ],
    ];
    expectInputErrors('classificationLoss', cases);
  });
});
