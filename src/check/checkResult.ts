import { ArrayComparison, compareArrays, describeElement, ElementComparison, Tolerance } from './compare';

/** One row of the `verify` table. */
export interface CheckResult {
  check: string;
  cases: number;
  /**
   * Largest relative error of a value, `|a - b| / (atol/rtol + |b|)`: at most rtol exactly when every
   * element is within `atol + rtol·|b|`. Null for checks that compare no values (gradchecks).
   */
  maxValueError: number | null;
  /** The same for gradients; for gradchecks, the largest `|numerical - analytical|` over its tolerance. */
  maxGradientError: number;
  /** What the errors were held to, e.g. `rtol 1e-5, atol 1e-6`. */
  tolerance: string;
  passed: boolean;
  /**
   * Whether both sides of every case were identically 0, so that the check compared nothing: it then
   * fails. (A single such case among others is a case with nothing to compare, not a failure.)
   */
  vacuous: boolean;
  /** The first failing case, enough to replay it. */
  failure?: string;
}

export function describeTolerance({ rtol, atol }: Required<Tolerance>): string {
  return `rtol ${rtol.toExponential()}, atol ${atol.toExponential()}`;
}

/** `|a - b| / (atol/rtol + |b|)` of the element furthest outside (or nearest to) its tolerance. */
export function relativeError(worst: ElementComparison | null, rtol: number): number {
  if (worst === null || worst.error === 0) return 0;
  return worst.tolerance > 0 ? (rtol * worst.error) / worst.tolerance : Infinity;
}

/** What one piece of a row found: a case, or a report over several cases. */
export interface CaseOutcome {
  /** How many cases it stands for. */
  cases: number;
  /** Its largest relative value error (see `CheckResult`); absent for checks that compare no values. */
  valueError?: number;
  gradientError: number;
  /** Whether both of its sides were identically 0, so that it compared nothing. */
  vacuous: boolean;
  /** What failed, besides vacuity, or null. */
  failure: string | null;
}

/** Collects the outcomes of one check's cases into its row. */
export class CheckAccumulator {
  private readonly result: CheckResult;
  private vacuousCases = 0;

  constructor(check: string, tolerance: string, comparesValues: boolean) {
    this.result = {
      check,
      cases: 0,
      maxValueError: comparesValues ? 0 : null,
      maxGradientError: 0,
      tolerance,
      passed: true,
      vacuous: false,
    };
  }

  add(outcome: CaseOutcome): void {
    const r = this.result;
    r.cases += outcome.cases;
    if (outcome.vacuous) this.vacuousCases += outcome.cases;
    if (r.maxValueError !== null && outcome.valueError !== undefined) r.maxValueError = Math.max(r.maxValueError, outcome.valueError);
    r.maxGradientError = Math.max(r.maxGradientError, outcome.gradientError);
    if (outcome.failure !== null) this.fail(outcome.failure);
  }

  /** A case that threw: the check fails with the error's message. */
  addError(caseName: string, error: unknown): void {
    this.result.cases++;
    this.fail(`${caseName}: threw ${error instanceof Error ? error.message : String(error)}`);
  }

  /** The row; vacuous, and failed, when every case was. */
  done(): CheckResult {
    const { cases } = this.result;
    if (cases > 0 && this.vacuousCases === cases) {
      this.result.vacuous = true;
      this.fail(`vacuous: both sides are identically 0 in ${cases === 1 ? 'its only case' : `all ${cases} cases`}; nothing was compared`);
    }
    return { ...this.result };
  }

  private fail(message: string): void {
    if (!this.result.passed) return;
    this.result.passed = false;
    this.result.failure = message;
  }
}

/** One case of a comparison: its values and each named gradient, actual against expected. */
export function compareCase(
  caseName: string,
  value: [ArrayLike<number>, ArrayLike<number>],
  gradients: Record<string, [ArrayLike<number>, ArrayLike<number>]>,
  tolerance: Required<Tolerance>,
): CaseOutcome {
  const valueComparison = compareArrays(value[0], value[1], [value[1].length], tolerance);
  let failure = valueComparison.passed ? '' : `value ${describe(valueComparison, tolerance)}`;
  let gradientError = 0;
  const isZero = (xs: ArrayLike<number>) => Array.prototype.every.call(xs, (x: number) => x === 0);
  let vacuous = isZero(value[0]) && isZero(value[1]);
  for (const [name, [actual, expected]] of Object.entries(gradients)) {
    const comparison = compareArrays(actual, expected, [expected.length], tolerance);
    gradientError = Math.max(gradientError, relativeError(comparison.worst, tolerance.rtol));
    if (!comparison.passed && failure === '') failure = `gradient wrt ${name} ${describe(comparison, tolerance)}`;
    vacuous &&= isZero(actual) && isZero(expected);
  }
  return {
    cases: 1,
    valueError: relativeError(valueComparison.worst, tolerance.rtol),
    gradientError,
    vacuous,
    failure: failure === '' ? null : `${caseName}: ${failure}`,
  };
}

function describe(comparison: ArrayComparison, tolerance: Required<Tolerance>): string {
  const where = comparison.worst === null ? '' : describeElement(comparison.worst, tolerance);
  return `${where} (${comparison.mismatches} of ${comparison.size} elements outside tolerance)`;
}

const exponent = (x: number | null) => (x === null ? '-' : x === 0 ? '0' : Number.isFinite(x) ? x.toExponential(1) : String(x));

/**
 * Rows of checks as a Markdown table, one row per backend and check.
 *
 * ```js
 * const row = { check: 'CE == BCEWithLogits', cases: 48, maxValueError: 2.1e-7, maxGradientError: 2.6e-7, tolerance: 'rtol 1e-5, atol 1e-7', passed: true, vacuous: false };
 * console.log(formatCheckTable([{ ...row, backend: 'cpu' }, { ...row, backend: 'webgl', maxGradientError: 3e-5, passed: false }]));
 * // => | backend | check               | cases | max value error | max gradient error | tolerance            | verdict |
 * // => | ------- | ------------------- | ----- | --------------- | ------------------ | -------------------- | ------- |
 * // => | cpu     | CE == BCEWithLogits | 48    | 2.1e-7          | 2.6e-7             | rtol 1e-5, atol 1e-7 | pass    |
 * // => | webgl   | CE == BCEWithLogits | 48    | 2.1e-7          | 3.0e-5             | rtol 1e-5, atol 1e-7 | FAIL    |
 * ```
 */
export function formatCheckTable(rows: ReadonlyArray<CheckResult & { backend: string }>): string {
  const header = ['backend', 'check', 'cases', 'max value error', 'max gradient error', 'tolerance', 'verdict'];
  const cells = rows.map((r) => [
    r.backend,
    r.check,
    String(r.cases),
    exponent(r.maxValueError),
    exponent(r.maxGradientError),
    r.tolerance,
    r.passed ? 'pass' : r.vacuous ? 'FAIL (vacuous)' : 'FAIL',
  ]);
  const widths = header.map((h, k) => Math.max(h.length, ...cells.map((row) => row[k].length)));
  const line = (row: string[]) => `| ${row.map((c, k) => c.padEnd(widths[k])).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
