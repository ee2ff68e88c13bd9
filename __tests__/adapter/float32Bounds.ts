import { seededRandom } from '../../src/check/random';

/**
 * Error bounds for comparing two float32 computations of one mathematical quantity, and the binary
 * test cases the adapter suites share.
 *
 * The losses compute in float64 from their float32 inputs and round once to float32, so each side of
 * an identity is within `u·|x|` of the exact value (u = 2^-24, float32's unit roundoff) plus the float64
 * error of the kernel. That error is absolute and grows with the logit: cross-entropy's log-sum-exp of
 * `[0, z]` is `z + log1p(e^-z)`, computed to about `2^-52·|z|`, and subtracting `z` from it leaves that
 * absolute error in a loss that can be as small as e^-|z|. So every bound below is
 * `k·u·|exact| + FLOAT64_SLACK·(1 + |z|)` per element, with k counting the float32 roundings on the path.
 */
export const U = 2 ** -24;
/** A few float64 ulps of a log-sum-exp at 1: 2^-48 ≈ 3.6e-15 (16 ulps). */
export const FLOAT64_SLACK = 2 ** -48;

/**
 * Fails with the worst element (index, both values, the bound) unless `|actual − expected| ≤ bound`
 * for every element; returns the largest absolute difference, for the report.
 */
export function expectWithin(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  bound: (index: number) => number,
  what: string,
): number {
  expect(actual.length).toBe(expected.length);
  let worstRatio = 0;
  let worst = -1;
  let maxDifference = 0;
  for (let i = 0; i < actual.length; i++) {
    const difference = Math.abs(actual[i] - expected[i]);
    const ratio = difference === 0 ? 0 : difference / bound(i);
    if (!(ratio <= worstRatio)) {
      worstRatio = ratio;
      worst = i;
    }
    maxDifference = Math.max(maxDifference, difference);
  }
  if (!(worstRatio <= 1)) {
    throw new Error(
      `${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} within ${bound(worst)} (difference ${Math.abs(actual[worst] - expected[worst])})`,
    );
  }
  return maxDifference;
}

/** Binary logits, targets and per-sample weights, as float32 numbers. */
export interface BinaryCase {
  name: string;
  z: Float32Array;
  y: Float32Array;
  weight: Float32Array;
}

/** Logits whose magnitudes cover every regime of σ: tiny, moderate, past float32's exp overflow (88.7), and |z| = 1e4. */
const EXTREME_LOGITS = [1e4, -1e4, 5000.5, -5000.5, 1000, -1000, 88.75, -88.75, 30, -30, 17, -17, 3, -3, 1e-4, -1e-4, 0];

export function binaryCases(seed: number): BinaryCase[] {
  const random = seededRandom(seed);
  const n = 48;
  const randomCase: BinaryCase = {
    name: 'random z ~ 4·N(0, 1)',
    z: Float32Array.from({ length: n }, () => 4 * random.normal()),
    y: Float32Array.from({ length: n }, () => random.integer(2)),
    weight: Float32Array.from({ length: n }, () => 2 * random.uniform()),
  };
  // Every extreme logit with both targets.
  const z = Float32Array.from([...EXTREME_LOGITS, ...EXTREME_LOGITS]);
  const extremeCase: BinaryCase = {
    name: 'extreme z up to |z| = 1e4',
    z,
    y: Float32Array.from(z, (_, i) => (i < EXTREME_LOGITS.length ? 0 : 1)),
    weight: Float32Array.from(z, () => 0.25 + 2 * random.uniform()),
  };
  return [randomCase, extremeCase];
}

/** Uniform numbers in [-1, 1): the cotangent of a 'none' loss. */
export function upstreamFor(n: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: n }, () => 2 * random.uniform() - 1);
}
