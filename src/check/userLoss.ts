import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from '../core/errors';
import { formatPosition, formatShape } from '../core/tensors';
import { releaseAbandonedTape } from './abandonedTape';
import { CaseKind, LossCase, randomCase } from './cases';
import { LossFunction } from './equivalence';
import { GradcheckOptions, gradcheckSteps } from './gradcheck';
import { read, readInTidy, Reads, runAsync, runSync } from './reads';
import { seededRandom, streamSeed } from './random';

/** Options of `checkUserLoss`: the input kinds, the seed, and gradcheck's options. */
export interface UserLossOptions {
  /** The input kinds to test (default both). A kind left out is skipped; on a kind tested, a loss that throws fails. */
  kinds?: readonly CaseKind[];
  /** Seeds the cases and gradcheck. Default 0. */
  seed?: number;
  /** Options passed to `gradcheck` (its `wrt`, `names` and `seed` are set here). */
  gradcheck?: Omit<GradcheckOptions, 'wrt' | 'names' | 'seed'>;
}

/** The checks `checkUserLoss` runs on a user's loss. */
export type UserLossCheckName =
  'accepts' | 'returnsTensor' | 'finiteValue' | 'noLeakValue' | 'finiteGradient' | 'noLeakGradient' | 'gradcheck';

/** One check of `checkUserLoss`: its name, the input kind, whether it passed, and what it found. */
export interface UserLossCheck {
  name: UserLossCheckName;
  /** The input kind checked. */
  kind: CaseKind;
  passed: boolean;
  /** What was checked, or on failure what is wrong, with the case. */
  message: string;
}

/** The result of `checkUserLoss` (what `verify --loss` prints). */
export interface UserLossReport {
  passed: boolean;
  /** The kinds the loss was checked on. */
  kinds: CaseKind[];
  /** The verdict on each kind: every check of it passed, one failed, or it was not asked for (`options.kinds`). */
  verdicts: Record<CaseKind, 'pass' | 'fail' | 'skipped'>;
  checks: UserLossCheck[];
  /** One line: passed, or the first failure. */
  summary: string;
}

const FN = 'checkUserLoss';
const KINDS: readonly CaseKind[] = ['binary', 'multiclass'];
/** Sizes of the cases of each kind: small, with a single sample and a larger one among them. */
const SHAPES = [
  { batch: 8, classes: 3 },
  { batch: 1, classes: 2 },
  { batch: 16, classes: 5 },
] as const;

const DESCRIPTIONS: Record<CaseKind, string> = {
  binary: 'binary logits [N] with float32 targets in {0, 1}',
  multiclass: 'logits [N, C] with int32 class-index targets [N]',
};

/**
 * Checks a user's loss `(input, target) => Tensor` as `tfjs-loss-adapter verify --loss` does: on
 * seeded cases of each kind (binary `[N]` logits with float32 {0, 1} targets; `[N, C]` logits with
 * int32 class indices), the loss returns a float32 tensor, finite, leaving no tensor behind; its
 * gradient with respect to the input is finite and leaves no tensor behind; and it passes
 * `gradcheck`. Every kind in `options.kinds` (default both) is checked: a loss that throws on one, or
 * returns no tensor, fails that kind with the error shown. A loss made for one kind says so in `kinds`.
 *
 * ```js
 * const loss = (z, y) => tf.losses.sigmoidCrossEntropy(y, z);
 * // It throws on [N, C] logits:
 * console.log(JSON.stringify(checkUserLoss(loss).verdicts));                        // => {"binary":"pass","multiclass":"fail"}
 * console.log(JSON.stringify(checkUserLoss(loss, { kinds: ['binary'] }).verdicts)); // => {"binary":"pass","multiclass":"skipped"}
 * ```
 */
export function checkUserLoss(loss: LossFunction, options: UserLossOptions = {}): UserLossReport {
  return runSync(userLossSteps(loss, options));
}

/**
 * `checkUserLoss`, reading tensors only with `await data()`: the form for backends that must not be
 * read synchronously (webgpu), with the same report as `checkUserLoss` wherever both run.
 *
 * ```js
 * const report = await checkUserLossAsync((z, y) => tf.losses.sigmoidCrossEntropy(y, z), { kinds: ['binary'] });
 * console.log(report.passed, report.summary); // => true the loss passes 7 checks on binary (3 cases); multiclass skipped
 * ```
 */
export function checkUserLossAsync(loss: LossFunction, options: UserLossOptions = {}): Promise<UserLossReport> {
  return runAsync(userLossSteps(loss, options));
}

/** The steps of `checkUserLoss`, whichever way its tensors are read. */
function* userLossSteps(loss: LossFunction, options: UserLossOptions): Reads<UserLossReport> {
  if (typeof loss !== 'function')
    throw new LossInputError(FN, 'loss', 'a function (input, target) => tf.Tensor', loss === null ? 'null' : typeof loss);
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
    throw new LossInputError(FN, 'options.seed', 'an integer in [0, 2^32)', String(seed));
  const requested = options.kinds;
  if (requested !== undefined && (!Array.isArray(requested) || requested.length === 0 || requested.some((k) => !KINDS.includes(k)))) {
    throw new LossInputError(FN, 'options.kinds', "a non-empty list of 'binary' and 'multiclass'", JSON.stringify(requested));
  }
  const kinds = KINDS.filter((kind) => requested === undefined || requested.includes(kind));
  const checks: UserLossCheck[] = [];
  const verdicts: UserLossReport['verdicts'] = { binary: 'skipped', multiclass: 'skipped' };
  for (const [k, kind] of KINDS.entries()) {
    if (!kinds.includes(kind)) continue;
    const cases = SHAPES.map((shape, c) => ({
      ...randomCase(seededRandom(streamSeed(seed, k, c)), { kind, ...shape, logitScale: 2 }),
      index: c,
    }));
    try {
      const refusal = firstCallProblem(loss, cases[0]);
      const kindChecks: UserLossCheck[] =
        refusal === null
          ? [
              { name: 'accepts', kind, passed: true, message: `the loss accepts ${DESCRIPTIONS[kind]}` },
              ...(yield* checkKind(loss, kind, cases, seed, options.gradcheck ?? {})),
            ]
          : [
              {
                name: 'accepts',
                kind,
                passed: false,
                message: `the loss ${refusal.problem} on ${DESCRIPTIONS[kind]} (${cases[0].name})${refusal.thrown ? `: ${refusal.thrown}` : ''}`,
              },
            ];
      verdicts[kind] = kindChecks.every((c) => c.passed) ? 'pass' : 'fail';
      checks.push(...kindChecks);
    } finally {
      cases.forEach((c) => tf.dispose([c.input, c.target]));
    }
  }
  const failures = checks.filter((c) => !c.passed);
  const passed = failures.length === 0;
  const skipped = KINDS.filter((kind) => verdicts[kind] === 'skipped');
  const summary = passed
    ? `the loss passes ${checks.length} checks on ${kinds.map((kind) => `${kind} (${SHAPES.length} cases)`).join(' and ')}` +
      (skipped.length > 0 ? `; ${skipped.join(' and ')} skipped` : '')
    : `the loss fails ${failures.length} check${failures.length > 1 ? 's' : ''}: ${failures[0].message.split('\n')[0]}`;
  return { passed, kinds, verdicts, checks, summary };
}

/** Why the loss cannot be called on this case (it throws, or returns no tensor), or null. */
function firstCallProblem(loss: LossFunction, testCase: LossCase): { problem: string; thrown?: string } | null {
  try {
    const value: unknown = tf.tidy(() => loss(testCase.input, testCase.target));
    if (value instanceof tf.Tensor) {
      value.dispose();
      return null;
    }
    return { problem: `returns ${value === null ? 'null' : typeof value} instead of a tf.Tensor` };
  } catch (e) {
    return { problem: 'throws', thrown: describeThrown(e) };
  }
}

/** What was thrown, on one line: `TypeError: x is undefined`, or the value itself when it is not an Error. */
function describeThrown(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : `${typeof e === 'string' ? `'${e}'` : String(e)} (not an Error)`;
}

interface Outcome {
  passed: boolean;
  message: string;
}

/** Every check of one kind over its cases: passes when every case does, else names the first failing case. */
function* checkKind(
  loss: LossFunction,
  kind: CaseKind,
  cases: Array<LossCase & { index: number }>,
  seed: number,
  gradcheckOptions: UserLossOptions['gradcheck'],
): Reads<UserLossCheck[]> {
  const results = new Map<UserLossCheckName, Outcome>();
  const record = (name: UserLossCheckName, passed: boolean, message: string) => {
    if (!results.has(name) || (results.get(name)?.passed && !passed)) results.set(name, { passed, message });
  };
  for (const testCase of cases) {
    const at = `${kind} case ${testCase.index} (${testCase.name})`;
    // Value: a float32 tensor, finite, and nothing left behind besides it. Counted inside a tidy, which
    // then disposes what the loss would have leaked.
    let value: { shape: number[]; dtype: string; values: Float32Array; leaked: number } | string;
    try {
      const y = yield* readInTidy(() => {
        const before = tf.memory().numTensors;
        const output: unknown = loss(testCase.input, testCase.target);
        if (!(output instanceof tf.Tensor)) return { problem: output === null ? 'null' : typeof output, read: [] };
        const leaked = tf.memory().numTensors - before - (output === testCase.input || output === testCase.target ? 0 : 1);
        return { problem: null, shape: output.shape.slice(), dtype: output.dtype, leaked, read: [output] };
      });
      value = y.problem ?? { shape: y.shape, dtype: y.dtype, values: Float32Array.from(y.values[0]), leaked: y.leaked };
    } catch (e) {
      record('returnsTensor', false, `the loss throws on ${at}: ${describeThrown(e)}`);
      continue;
    }
    if (typeof value === 'string' || value.dtype !== 'float32') {
      const got = typeof value === 'string' ? value : `a ${value.dtype} tensor`;
      record('returnsTensor', false, `the loss returns ${got} on ${at}, expected a float32 tf.Tensor`);
      continue;
    }
    record('returnsTensor', true, `the loss returns a float32 tensor on every ${kind} case`);
    const { values, shape, leaked } = value;
    const bad = values.findIndex((x) => !Number.isFinite(x));
    record(
      'finiteValue',
      bad < 0,
      bad < 0
        ? `the loss is finite on every ${kind} case`
        : `the loss is ${values[bad]} at ${formatPosition(bad, shape)} of its value of shape ${formatShape(shape)} on ${at}`,
    );
    record(
      'noLeakValue',
      leaked === 0,
      leaked === 0
        ? `computing the loss leaves no tensor behind`
        : `computing the loss leaves ${leaked} tensor${leaked > 1 ? 's' : ''} behind on ${at} (use tf.tidy)`,
    );
    // Gradient with respect to the input: finite, and nothing left behind.
    const beforeGradient = tf.memory().numTensors;
    let gradientProblem: string | null = null;
    try {
      const gradient = tf.grad((x: tf.Tensor) => loss(x, testCase.target))(testCase.input);
      try {
        const [g] = yield* read([gradient]);
        const badGradient = g.findIndex((x) => !Number.isFinite(x));
        if (badGradient >= 0)
          gradientProblem = `the gradient is ${g[badGradient]} at ${formatPosition(badGradient, gradient.shape)} on ${at}`;
      } finally {
        gradient.dispose();
      }
    } catch (e) {
      releaseAbandonedTape();
      gradientProblem = `tf.grad cannot differentiate the loss with respect to its input on ${at}: ${describeThrown(e)}`;
    }
    record('finiteGradient', gradientProblem === null, gradientProblem ?? `the gradient is finite on every ${kind} case`);
    const leakedByGradient = tf.memory().numTensors - beforeGradient;
    record(
      'noLeakGradient',
      leakedByGradient === 0,
      leakedByGradient === 0
        ? `computing the gradient leaves no tensor behind`
        : `computing the gradient leaves ${leakedByGradient} tensor${leakedByGradient > 1 ? 's' : ''} behind on ${at}`,
    );
    if (gradientProblem !== null) continue;
    const result = yield* gradcheckSteps(loss, [testCase.input, testCase.target], {
      ...gradcheckOptions,
      wrt: [0],
      names: ['input', 'target'],
      seed,
    });
    record(
      'gradcheck',
      result.passed,
      result.passed
        ? `the gradient matches finite differences on every ${kind} case`
        : `gradcheck fails on ${at}:\n${result.failures.join('\n\n')}`,
    );
  }
  return Array.from(results, ([name, outcome]) => ({ name, kind, ...outcome }));
}
