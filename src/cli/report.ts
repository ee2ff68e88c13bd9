import { CheckResult, formatCheckTable } from '../check/checkResult';

/** A report of rows of checks: its heading, the table, the failures, the backends that could not load, the verdict. */
export function formatRowsReport(
  heading: string[],
  rows: ReadonlyArray<CheckResult & { backend: string }>,
  failures: string[],
  unavailable: Record<string, string>,
  verdict: string,
): string {
  const notRun = Object.entries(unavailable).map(([name, reason]) => `not run on ${name}: ${reason}`);
  return [...heading, '', formatCheckTable(rows), '', ...failures, ...notRun, verdict].join('\n');
}
