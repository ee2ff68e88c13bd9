import { formatPosition } from '../core/tensors';

/**
 * How close two numbers must be: `|actual − expected| ≤ atol + rtol·|expected|`. The defaults are
 * those of `torch.testing.assert_close` for float32 (rtol 1.3e-6, atol 1e-5), which PyTorch users know.
 */
export interface Tolerance {
  rtol?: number;
  atol?: number;
}

/**
 * The default tolerance of comparisons: `torch.testing.assert_close` for float32 (rtol 1.3e-6, atol 1e-5).
 *
 * ```js
 * console.log(DEFAULT_TOLERANCE.rtol, DEFAULT_TOLERANCE.atol); // => 0.0000013 0.00001
 * ```
 */
export const DEFAULT_TOLERANCE: Required<Tolerance> = { rtol: 1.3e-6, atol: 1e-5 };

/**
 * Whether `actual` is within tolerance of `expected`, with explicit rules for the values that are
 * not finite: NaN equals only NaN, +Infinity only +Infinity, -Infinity only -Infinity. (tfjs'
 * `expectArraysClose` treats NaN as equal to Infinity; this does not.)
 *
 * ```js
 * console.log(isClose(1.000005, 1, 1.3e-6, 1e-5), isClose(1.1, 1, 1.3e-6, 1e-5)); // => true false
 * console.log(isClose(NaN, NaN, 0, 0), isClose(NaN, Infinity, 0, 0));            // => true false
 * ```
 */
export function isClose(actual: number, expected: number, rtol: number, atol: number): boolean {
  if (Number.isNaN(actual) || Number.isNaN(expected)) return Number.isNaN(actual) && Number.isNaN(expected);
  if (!Number.isFinite(actual) || !Number.isFinite(expected)) return actual === expected;
  return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
}

/** One element of a comparison: where, both values, how far apart, and what was allowed. */
export interface ElementComparison {
  /** Flat index. */
  index: number;
  /** The position in the compared shape, e.g. `[1, 2]`. */
  position: string;
  actual: number;
  expected: number;
  /** `|actual − expected|`; Infinity when exactly one side is not finite or they are different non-finite values. */
  error: number;
  /** `atol + rtol·|expected|` (0 for a non-finite expected value, which must be matched exactly). */
  tolerance: number;
}

/** The result of `compareArrays`: whether every element is within tolerance, and the worst one. */
export interface ArrayComparison {
  passed: boolean;
  /** Number of elements compared. */
  size: number;
  /** Number of elements outside the tolerance. */
  mismatches: number;
  /** The element with the largest error relative to its tolerance (null for empty arrays). */
  worst: ElementComparison | null;
  /** The largest `|actual − expected|` over all elements (0 for matching non-finite pairs, Infinity for mismatching ones). */
  maxError: number;
}

function elementError(actual: number, expected: number): number {
  if (Number.isNaN(actual) || Number.isNaN(expected)) return Number.isNaN(actual) && Number.isNaN(expected) ? 0 : Infinity;
  if (!Number.isFinite(actual) || !Number.isFinite(expected)) return actual === expected ? 0 : Infinity;
  return Math.abs(actual - expected);
}

/**
 * Compares two arrays of one length elementwise; `shape` only names positions in the report.
 *
 * ```js
 * const comparison = compareArrays([1, 2, 3.5, 4], [1, 2, 3, 4], [2, 2]);
 * console.log(comparison.passed, comparison.mismatches, comparison.worst.position, comparison.maxError); // => false 1 [1, 0] 0.5
 * ```
 */
export function compareArrays(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  shape: readonly number[],
  tolerance: Tolerance = {},
): ArrayComparison {
  if (actual.length !== expected.length) throw new Error(`compareArrays: lengths differ (${actual.length} and ${expected.length})`);
  const rtol = tolerance.rtol ?? DEFAULT_TOLERANCE.rtol;
  const atol = tolerance.atol ?? DEFAULT_TOLERANCE.atol;
  let mismatches = 0;
  let maxError = 0;
  let worst: ElementComparison | null = null;
  let worstRatio = -1;
  for (let k = 0; k < actual.length; k++) {
    const a = actual[k];
    const e = expected[k];
    const error = elementError(a, e);
    const allowed = Number.isFinite(e) ? atol + rtol * Math.abs(e) : 0; // a non-finite value must be matched exactly
    const close = isClose(a, e, rtol, atol);
    if (!close) mismatches++;
    maxError = Math.max(maxError, error);
    // Above 1 exactly for the mismatches (Infinity for a non-finite mismatch or a zero tolerance).
    const ratio = error === 0 ? 0 : allowed > 0 ? error / allowed : Infinity;
    if (ratio > worstRatio) {
      worstRatio = ratio;
      worst = { index: k, position: formatPosition(k, shape), actual: a, expected: e, error, tolerance: allowed };
    }
  }
  return { passed: mismatches === 0, size: actual.length, mismatches, worst, maxError };
}

/** A number for a message: enough digits to see a difference, exponent form when very small or large. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const magnitude = Math.abs(x);
  return magnitude < 1e-3 || magnitude >= 1e6 ? x.toExponential(4) : String(Number(x.toPrecision(7)));
}

/** "at [1, 2]: actual 0.51, expected 0.5, |difference| 0.01 > tolerance 1e-5 (atol 1e-5 + rtol 1.3e-6·|expected|)". */
export function describeElement(
  element: ElementComparison,
  tolerance: Tolerance,
  actualName = 'actual',
  expectedName = 'expected',
): string {
  const rtol = tolerance.rtol ?? DEFAULT_TOLERANCE.rtol;
  const atol = tolerance.atol ?? DEFAULT_TOLERANCE.atol;
  const within = isClose(element.actual, element.expected, rtol, atol);
  return (
    `at ${element.position}: ${actualName} ${formatNumber(element.actual)}, ${expectedName} ${formatNumber(element.expected)}, ` +
    `|difference| ${formatNumber(element.error)} ${within ? '≤' : '>'} tolerance ${formatNumber(element.tolerance)} ` +
    `(atol ${atol} + rtol ${rtol}·|${expectedName}|)`
  );
}
