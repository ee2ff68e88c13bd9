// The loop and the table of the calibration scripts: runs a check on seeded cases on one backend and
// counts failures by input size.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import type { GradcheckResult } from '../../src/check/gradcheck';
import type { Case } from './cases';

/** `count` cases of one kind; `correct` kinds report their worst error/tolerance. */
export interface CaseGroup {
  kind: string;
  count: number;
  make: (seed: number) => Case;
  correct: boolean;
}

/** Runs `check` (with its default options but the seed) on every group's cases on `backend`, and prints the table. */
export async function tally(checkName: string, backend: string, check: (c: Case, seed: number) => GradcheckResult, groups: CaseGroup[]) {
  tf.enableProdMode();
  await tf.setBackend(backend);
  await tf.ready();
  const buckets = [16, 64, 256, 1024, Infinity];
  const table: Record<string, { failed: number[]; total: number[] }> = {};
  let leaks = 0;
  let worstCorrect = { ratio: 0, what: '' };
  const errors: Record<string, number> = {};
  const falseAlarms: string[] = [];
  const t0 = Date.now();
  for (const { kind, count, make, correct } of groups) {
    for (let seed = 0; seed < count; seed++) {
      try {
        tf.tidy(() => {
          const c = make(seed);
          const before = tf.memory().numTensors;
          const r = check(c, seed);
          if (tf.memory().numTensors !== before) leaks++;
          const b = buckets.findIndex((limit) => c.size <= limit);
          const row = (table[kind] ??= { failed: buckets.map(() => 0), total: buckets.map(() => 0) });
          row.total[b]++;
          if (!r.passed) row.failed[b]++;
          if (correct && !r.passed) falseAlarms.push(`${c.family} seed ${seed} size ${c.size}: ${r.summary}`);
          if (correct && r.worst !== null) {
            const ratio = r.worst.error / r.worst.tolerance;
            if (!r.passed || ratio > worstCorrect.ratio)
              worstCorrect = { ratio, what: `${c.family} seed ${seed} size ${c.size}: ${r.summary}` };
          }
        });
      } catch (e) {
        const key = (e as Error).message.slice(0, 100);
        errors[key] = (errors[key] ?? 0) + 1;
      }
    }
  }
  console.log(
    `backend ${backend}: ${checkName} with default options; ${(Date.now() - t0) / 1000} s; ${checkName} calls that changed tf.memory().numTensors: ${leaks}`,
  );
  console.log('failed/total by input elements ≤', buckets.join(', '), ' | all');
  for (const [kind, row] of Object.entries(table)) {
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    console.log(
      kind.padEnd(16),
      row.failed.map((f, b) => `${f}/${row.total[b]}`.padStart(9)).join(' '),
      ` | ${sum(row.failed)}/${sum(row.total)}`,
    );
  }
  console.log('worst correct case by error/tolerance:', worstCorrect.ratio.toFixed(3), worstCorrect.what);
  for (const alarm of falseAlarms) console.log('false alarm:', alarm);
  if (Object.keys(errors).length > 0) console.log('cases not run (the case itself threw):', errors);
}
