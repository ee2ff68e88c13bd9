import * as tf from '@tensorflow/tfjs-core';
import { binaryCrossEntropy } from '../losses/binaryCrossEntropy';
import { binaryCrossEntropyWithLogits } from '../losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../losses/crossEntropy';
import type { Reduction } from '../core/options';

/** One row of the `verify` table. */
export interface CheckResult {
  check: string;
  cases: number;
  /** Largest relative error of a value, `|a - b| / max(|b|, atol/rtol)`, over all cases. */
  maxValueError: number;
  /** The same for gradients, element by element. */
  maxGradientError: number;
  /** The check passes when every error is at most `rtol`. */
  rtol: number;
  passed: boolean;
  /** The first failing case, enough to replay it. */
  failure?: string;
}

const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];

/** Seeded uniform numbers in [0, 1) (mulberry32): the same cases on every backend and every run. */
function uniformGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Largest `|a - b| / max(|b|, floor)`; a NaN or infinity counts as infinitely wrong unless both sides agree on it. */
function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor: number): number {
  let worst = 0;
  for (let k = 0; k < expected.length; k++) {
    const a = actual[k];
    const b = expected[k];
    if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) continue;
    const error = Math.abs(a - b) / Math.max(Math.abs(b), floor);
    worst = Number.isNaN(error) ? Infinity : Math.max(worst, error);
  }
  return worst;
}

/** A loss of the logits `z` alone, whose value and gradient wrt `z` two formulations must share. */
type LossOfLogits = (z: tf.Tensor) => tf.Tensor;

interface IdentityCase {
  name: string;
  logits: () => tf.Tensor;
  sides: [LossOfLogits, LossOfLogits];
}

/** Value and gradient of `loss(z)·upstream` summed, read to the host; disposes everything it makes. */
function valueAndGradient(loss: LossOfLogits, z: tf.Tensor, upstream: tf.Tensor): { value: Float32Array; gradient: Float32Array } {
  return tf.tidy(() => {
    const value = loss(z).dataSync() as Float32Array;
    const gradient = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(loss(x), upstream)))(z).dataSync() as Float32Array;
    return { value, gradient };
  });
}

function runIdentity(check: string, cases: IdentityCase[], rtol: number, atol: number, random: () => number): CheckResult {
  const result: CheckResult = { check, cases: cases.length, maxValueError: 0, maxGradientError: 0, rtol, passed: true };
  for (const testCase of cases) {
    const [valueError, gradientError] = tf.tidy(() => {
      const z = testCase.logits();
      const valueShape = testCase.sides[1](z).shape;
      const upstream = tf.tensor(Array.from({ length: tf.util.sizeFromShape(valueShape) }, () => 0.5 + random()), valueShape);
      const [a, b] = testCase.sides.map((side) => valueAndGradient(side, z, upstream));
      return [maxRelativeError(a.value, b.value, atol / rtol), maxRelativeError(a.gradient, b.gradient, atol / rtol)];
    });
    result.maxValueError = Math.max(result.maxValueError, valueError);
    result.maxGradientError = Math.max(result.maxGradientError, gradientError);
    if (result.passed && !(valueError <= rtol && gradientError <= rtol)) {
      result.passed = false;
      result.failure = `${testCase.name}: value error ${valueError.toExponential(2)}, gradient error ${gradientError.toExponential(2)}`;
    }
  }
  return result;
}

/** Two-class logits `[N, 2]` with seeded values `scale·(2u - 1)` and seeded binary targets. */
function twoClassCases(
  random: () => number,
  batchSizes: number[],
  scales: number[],
  sides: (labels: number[], reduction: Reduction) => [LossOfLogits, LossOfLogits],
): IdentityCase[] {
  const cases: IdentityCase[] = [];
  for (const batch of batchSizes) {
    for (const scale of scales) {
      for (const reduction of REDUCTIONS) {
        const values = Array.from({ length: batch * 2 }, () => scale * (2 * random() - 1));
        const labels = Array.from({ length: batch }, () => (random() < 0.5 ? 0 : 1));
        cases.push({ name: `N=${batch} |z|<=${scale} ${reduction}`, logits: () => tf.tensor2d(values, [batch, 2]), sides: sides(labels, reduction) });
      }
    }
  }
  return cases;
}

const positiveLogit = (z: tf.Tensor) => tf.squeeze(tf.sub(tf.slice(z, [0, 1], [-1, 1]), tf.slice(z, [0, 0], [-1, 1])), [1]);
const positiveProbability = (z: tf.Tensor) => tf.squeeze(tf.slice(tf.softmax(z), [0, 1], [-1, 1]), [1]);

/**
 * The seed identity on the current backend: for two-class logits `z` and binary targets `y`,
 * `CE(z, y) == BCEWithLogits(z1 - z0, y) == BCE(softmax(z)[:, 1], y)` in value and in gradient wrt `z`.
 *
 * Tolerances from float32 conditioning: `z1 - z0` is rounded to float32 (relative 6e-8), so the
 * logit form agrees to rtol 1e-5 at any scale up to |z| = 1e4. The probability form rounds
 * `p = softmax(z)[:, 1]` to float32, which costs `eps32 / min(p, 1-p)` relatively in the loss and its
 * gradient; it is checked for |z| <= 3 (min(p, 1-p) >= 2.5e-3) with rtol 1e-4, and is not an
 * identity at all once float32 saturates p to 0 or 1 (from |z1 - z0| of about 17).
 */
export function seedIdentityChecks(seed: number): CheckResult[] {
  const random = uniformGenerator(seed);
  const logitForm = twoClassCases(random, [1, 7, 100, 1000], [1, 10, 100, 1e4], (labels, reduction) => [
    (z) => crossEntropy(z, tf.tensor1d(labels, 'int32'), { reduction }),
    (z) => binaryCrossEntropyWithLogits(positiveLogit(z), tf.tensor1d(labels), { reduction }),
  ]);
  const probabilityForm = twoClassCases(random, [1, 7, 100, 1000], [0.1, 1, 3], (labels, reduction) => [
    (z) => crossEntropy(z, tf.tensor1d(labels, 'int32'), { reduction }),
    (z) => binaryCrossEntropy(positiveProbability(z), tf.tensor1d(labels), { reduction }),
  ]);
  return [
    runIdentity('CE(z, y) == BCEWithLogits(z1 - z0, y)', logitForm, 1e-5, 1e-7, random),
    runIdentity('CE(z, y) == BCE(softmax(z)[:,1], y)', probabilityForm, 1e-4, 1e-7, random),
  ];
}

/** Every check of the suite on the current backend, seeded. */
export function runVerifySuite(options: { seed?: number } = {}): CheckResult[] {
  const seed = options.seed ?? 1;
  return [...seedIdentityChecks(seed)];
}
