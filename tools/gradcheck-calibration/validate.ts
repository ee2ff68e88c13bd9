// Usage: npx tsx tools/gradcheck-calibration/validate.ts <backend> <correct cases> <wrong cases per kind>
// gradcheck with its DEFAULT options (only the seed varies) on seeded random correct functions and on
// deliberately wrong gradients; counts failures by input size.
import { gradcheck } from '../../src/check/gradcheck';
import { correctCase, rightCase, wrongCase, WRONG_KINDS } from './cases';
import { tally } from './tally';

const [backend, correctCount, wrongCount] = process.argv.slice(2);
const step = process.env.STEP ? { step: Number(process.env.STEP) } : {};
tally('gradcheck', backend, (c, seed) => gradcheck(c.f, c.inputs, { wrt: c.wrt, seed, ...step }), [
  { kind: 'correct', count: Number(correctCount), make: correctCase, correct: true },
  { kind: 'right', count: Number(wrongCount), make: (s) => rightCase(1e6 + s), correct: true },
  ...WRONG_KINDS.map((kind) => ({ kind, count: Number(wrongCount), make: (s: number) => wrongCase(1e6 + s, kind), correct: false })),
]);
