// Usage: npx tsx tools/gradcheck-calibration/validate.ts <backend> <correct cases> <wrong cases per kind>
// gradcheck with its DEFAULT options (only the seed varies) on seeded random correct functions and on
// deliberately wrong gradients; counts failures by input size.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { gradcheck } from '../../src/check/gradcheck';
import { Case, correctCase, rightCase, wrongCase, WRONG_KINDS } from './cases';

async function main() {
  const [backend, correctCount, wrongCount] = process.argv.slice(2);
  tf.enableProdMode();
  await tf.setBackend(backend);
  await tf.ready();
  const buckets = [16, 64, 256, 1024, Infinity];
  const table: Record<string, { failed: number[]; total: number[] }> = {};
  let leaks = 0;
  let worstCorrect = { ratio: 0, what: '' };
  const errors: Record<string, number> = {};
  const run = (kind: string, seed: number, make: () => Case) => {
    try {
      tf.tidy(() => {
        const c = make();
        const before = tf.memory().numTensors;
        const r = gradcheck(c.f, c.inputs, { wrt: c.wrt, seed, ...(process.env.STEP ? { step: Number(process.env.STEP) } : {}) });
        if (tf.memory().numTensors !== before) leaks++;
        const b = buckets.findIndex((limit) => c.size <= limit);
        const row = (table[kind] ??= { failed: buckets.map(() => 0), total: buckets.map(() => 0) });
        row.total[b]++;
        if (!r.passed) row.failed[b]++;
        if ((kind === 'correct' || kind === 'right') && r.worst !== null) {
          const ratio = r.worst.error / r.worst.tolerance;
          if (!r.passed || ratio > worstCorrect.ratio)
            worstCorrect = { ratio, what: `${c.family} seed ${seed} size ${c.size}: ${r.summary}` };
        }
      });
    } catch (e) {
      const key = (e as Error).message.slice(0, 100);
      errors[key] = (errors[key] ?? 0) + 1;
    }
  };
  const t0 = Date.now();
  for (let s = 0; s < Number(correctCount); s++) run('correct', s, () => correctCase(s));
  for (let s = 0; s < Number(wrongCount); s++) run('right', s, () => rightCase(1e6 + s));
  for (const kind of WRONG_KINDS) for (let s = 0; s < Number(wrongCount); s++) run(kind, s, () => wrongCase(1e6 + s, kind));
  console.log(
    `backend ${backend}: gradcheck with default options; ${(Date.now() - t0) / 1000} s; gradcheck calls that changed tf.memory().numTensors: ${leaks}`,
  );
  console.log('failed/total by input elements ≤', buckets.join(', '), ' | all');
  for (const [kind, row] of Object.entries(table)) {
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    console.log(
      kind.padEnd(14),
      row.failed.map((f, b) => `${f}/${row.total[b]}`.padStart(9)).join(' '),
      ` | ${sum(row.failed)}/${sum(row.total)}`,
    );
  }
  console.log('worst correct case by error/tolerance:', worstCorrect.ratio.toFixed(3), worstCorrect.what);
  if (Object.keys(errors).length > 0) console.log('cases not run (the case itself threw):', errors);
}
main();
