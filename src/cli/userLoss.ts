import * as tf from '@tensorflow/tfjs-core';
import type { LossFunction } from '../check/equivalence';
import { checkUserLoss, UserLossReport } from '../check/userLoss';
import type { BackendName } from './backends';

export interface UserLossRun {
  loss: string;
  seed: number;
  reports: Array<UserLossReport & { backend: BackendName }>;
  passed: boolean;
}

/** `checkUserLoss` on each backend in turn. */
export async function runUserLossCheck(loss: string, f: LossFunction, backends: BackendName[], seed: number): Promise<UserLossRun> {
  const reports: UserLossRun['reports'] = [];
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    reports.push({ backend, ...checkUserLoss(f, { seed }) });
  }
  return { loss, seed, reports, passed: reports.every((r) => r.passed) };
}

/** One line per check and backend, the failures' messages in full, then the verdict. */
export function formatUserLossReport(run: UserLossRun): string {
  const lines = [`tfjs-loss-adapter verify --loss ${run.loss} (seed ${run.seed})`, ''];
  for (const report of run.reports) {
    for (const check of report.checks) {
      lines.push(
        `${check.passed ? 'pass' : 'FAIL'} [${report.backend}] ${check.name}${check.kind === null ? '' : ` (${check.kind})`}: ${check.message}`,
      );
    }
  }
  lines.push('', run.passed ? 'verify --loss: every check passed' : 'verify --loss: some checks failed');
  return lines.join('\n');
}
