import * as tf from '@tensorflow/tfjs-core';
import type { CaseKind } from '../check/cases';
import type { LossFunction } from '../check/equivalence';
import { checkUserLoss, UserLossReport } from '../check/userLoss';
import type { BackendName } from './backends';

/** Where the kinds checked came from: every kind by default, `--kinds`, or the module's `kinds` export. */
export type KindsSource = 'default' | '--kinds' | 'the kinds export';

export interface UserLossRun {
  loss: string;
  seed: number;
  kindsFrom: KindsSource;
  reports: Array<UserLossReport & { backend: BackendName }>;
  passed: boolean;
}

/** `checkUserLoss` on each backend in turn, on `kinds` (as `kindsFrom` chose them). */
export async function runUserLossCheck(
  loss: string,
  f: LossFunction,
  backends: BackendName[],
  seed: number,
  kinds: readonly CaseKind[],
  kindsFrom: KindsSource,
): Promise<UserLossRun> {
  const reports: UserLossRun['reports'] = [];
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    reports.push({ backend, ...checkUserLoss(f, { seed, kinds }) });
  }
  return { loss, seed, kindsFrom, reports, passed: reports.length > 0 && reports.every((r) => r.passed) };
}

/** One line per check and backend (the failures' messages in full), the verdict on each kind, then the verdict. */
export function formatUserLossReport(run: UserLossRun): string {
  const lines = [`tfjs-loss-adapter verify --loss ${run.loss} (seed ${run.seed})`, ''];
  for (const report of run.reports) {
    for (const check of report.checks)
      lines.push(`${check.passed ? 'pass' : 'FAIL'} [${report.backend}] ${check.name} (${check.kind}): ${check.message}`);
  }
  lines.push('');
  for (const report of run.reports) {
    for (const [kind, verdict] of Object.entries(report.verdicts))
      lines.push(`[${report.backend}] ${kind}: ${verdict === 'skipped' ? `skipped (by ${run.kindsFrom})` : verdict}`);
  }
  lines.push('', run.passed ? 'verify --loss: every check passed' : 'verify --loss: some checks failed');
  return lines.join('\n');
}
