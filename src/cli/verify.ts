import * as tf from '@tensorflow/tfjs-core';
import { CheckResult, runVerifySuite } from '../check/verifySuite';
import type { BackendName } from './backends';

export interface VerifyReport {
  seed: number;
  results: Array<CheckResult & { backend: BackendName }>;
  unavailable: Record<string, string>;
  passed: boolean;
}

/** Runs the suite on each backend in turn; a check that throws is a failed row, not a crash. */
export async function runVerify(backends: BackendName[], seed: number, unavailable: Record<string, string>): Promise<VerifyReport> {
  const results: VerifyReport['results'] = [];
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const result of runVerifySuite({ seed })) results.push({ backend, ...result });
  }
  return { seed, results, unavailable, passed: results.every((r) => r.passed) };
}

const exponent = (x: number) => (x === 0 ? '0' : Number.isFinite(x) ? x.toExponential(1) : String(x));

/** The report as a Markdown table, then the failures and the backends that could not load. */
export function formatVerifyReport(report: VerifyReport): string {
  const header = ['backend', 'check', 'cases', 'max value error', 'max gradient error', 'tolerance', 'verdict'];
  const rows = report.results.map((r) => [r.backend, r.check, String(r.cases), exponent(r.maxValueError), exponent(r.maxGradientError), exponent(r.rtol), r.passed ? 'pass' : 'FAIL']);
  const widths = header.map((h, k) => Math.max(h.length, ...rows.map((row) => row[k].length)));
  const line = (cells: string[]) => `| ${cells.map((c, k) => c.padEnd(widths[k])).join(' | ')} |`;
  const lines = [`tfjs-loss-adapter verify (seed ${report.seed}); errors are relative: |a - b| / max(|b|, floor)`, '', line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line), ''];
  for (const r of report.results.filter((r) => !r.passed)) lines.push(`FAIL [${r.backend}] ${r.check}: ${r.failure ?? 'see the errors above'}`);
  for (const [name, reason] of Object.entries(report.unavailable)) lines.push(`not run on ${name}: ${reason}`);
  lines.push(report.passed ? 'verify: every check passed' : 'verify: some checks failed');
  return lines.join('\n');
}
