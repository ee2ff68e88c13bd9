import * as tf from '@tensorflow/tfjs-core';
import { CheckResult, formatCheckTable } from '../check/checkResult';
import { runVerifySuite } from '../check/verifySuite';
import type { BackendName } from './backends';

export interface VerifyReport {
  seed: number;
  results: Array<CheckResult & { backend: BackendName }>;
  unavailable: Record<string, string>;
  passed: boolean;
}

/** Runs the suite on each backend in turn, with the time each took. */
export async function runVerify(backends: BackendName[], seed: number, unavailable: Record<string, string>): Promise<VerifyReport> {
  const results: VerifyReport['results'] = [];
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const result of runVerifySuite({ seed })) results.push({ backend, ...result });
  }
  return { seed, results, unavailable, passed: results.every((r) => r.passed) };
}

/** The report as a Markdown table, then the failures and the backends that could not load. */
export function formatVerifyReport(report: VerifyReport): string {
  const lines = [
    `tfjs-loss-adapter verify (seed ${report.seed})`,
    'Errors are relative, |a - b| / (atol/rtol + |b|): a check passes when every error is at most rtol.',
    'Gradcheck rows give the worst |numerical - analytical| as a fraction of its tolerance.',
    '',
    formatCheckTable(report.results),
    '',
  ];
  for (const r of report.results.filter((r) => !r.passed))
    lines.push(`FAIL [${r.backend}] ${r.check}: ${r.failure ?? 'see the errors above'}`);
  for (const [name, reason] of Object.entries(report.unavailable)) lines.push(`not run on ${name}: ${reason}`);
  lines.push(report.passed ? 'verify: every check passed' : 'verify: some checks failed');
  return lines.join('\n');
}
