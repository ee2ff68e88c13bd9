import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from '../core/errors';
import { formatShape } from '../core/tensors';
import { releaseAbandonedTape } from './abandonedTape';
import { LossCase } from './cases';
import { readInTidy, Reads, runAsync, runSync } from './reads';
import { compareArrays, DEFAULT_TOLERANCE, describeElement, ElementComparison, formatNumber, Tolerance } from './compare';
import { SeededRandom, seededRandom, streamSeed } from './random';

/** A loss in this library's argument order. */
export type LossFunction = (input: tf.Tensor, target: tf.Tensor) => tf.Tensor;

/**
 * One side of an equivalence: a loss, and optional maps of the shared input and target before it.
 * The maps are differentiated through, so gradients are compared with respect to the shared input.
 *
 * ```js
 * // BCE on the probability of class 1 of two-class logits z
 * const side = { name: 'BCE(softmax(z)[:, 1], y)', loss: binaryCrossEntropy,
 *                input: (z) => twoClassToBinaryProbs(tf.softmax(z)), target: (y) => y.toFloat() };
 * ```
 */
export interface LossSide {
  /** Shown in reports; default the function's name. */
  name?: string;
  loss: LossFunction;
  input?: (input: tf.Tensor) => tf.Tensor;
  target?: (target: tf.Tensor) => tf.Tensor;
}

/** Makes the case of index `index` from its own seeded stream; `checkEquivalence` disposes its tensors. */
export type CaseGenerator = (random: SeededRandom, index: number) => LossCase;

export interface EquivalenceOptions extends Tolerance {
  /** Tolerance for the gradients; default the value tolerance. */
  gradient?: Tolerance;
  /** The shared arguments whose gradients are compared. Default `['input']`; add `'target'` for soft targets; `[]` compares values only. */
  wrt?: ReadonlyArray<'input' | 'target'>;
  /** How many cases a generator makes. Default 50. */
  count?: number;
  /** Seeds the generated cases and the cotangent of non-scalar losses. Default 0. */
  seed?: number;
}

/** What an equivalence discrepancy is about: the value, or the gradient of one shared argument. */
export type Quantity = 'value' | 'gradient of input' | 'gradient of target';

/** One element of one case: where, both sides, how far apart, what was allowed. */
export interface Discrepancy extends ElementComparison {
  case: number;
  caseName: string;
  quantity: Quantity;
}

/** The result of `checkEquivalence`: whether the two losses agree, the largest errors, the worst elements and the failures. */
export interface EquivalenceReport {
  passed: boolean;
  names: [string, string];
  /** Number of cases compared. */
  cases: number;
  /** Largest |a − b| over every value element of every case (Infinity for a non-finite mismatch). */
  maxValueError: number;
  /** Largest |a − b| over every gradient element. */
  maxGradientError: number;
  /** The value element furthest from (or closest to) its tolerance, by error / tolerance. */
  worstValue: Discrepancy | null;
  worstGradient: Discrepancy | null;
  /**
   * Whether the check was vacuous: every value and every gradient of both sides is exactly 0 on every
   * case, so nothing was compared (a loss that returns zeros, or a backend whose reads return zeros).
   * A vacuous check fails.
   */
  vacuous: boolean;
  /** One message per failing case and quantity (at most 10, then a count), then the one that says the check was vacuous. */
  failures: string[];
  summary: string;
}

const FN = 'checkEquivalence';
const MAX_MESSAGES = 10;

/**
 * Checks that two losses agree in value and in gradient with respect to the shared inputs, case by
 * case: elementwise `|a − b| ≤ atol + rtol·|b|`, where NaN equals only NaN, +Infinity only +Infinity
 * and -Infinity only -Infinity. Default tolerance: rtol 1.3e-6, atol 1e-5 (torch.testing.assert_close
 * for float32), for the gradients too unless `options.gradient` says otherwise.
 *
 * `cases` is a list of `{input, target}` (the caller keeps ownership) or a generator called `count`
 * times with seeded random streams (its tensors are disposed after each case). A loss that returns
 * more than a scalar is differentiated with a seeded random cotangent shared by both sides. A side
 * that throws, or whose value has another shape, fails that case with the error in the message.
 *
 * The identity of the two-class adapter, `CE(z, y) == BCE(softmax(z)[:, 1], y) == BCEWithLogits(z1 − z0, y)`:
 *
 * ```js
 * const twoClass = (random) => randomCase(random, { kind: 'multiclass', classes: 2 });
 * const ce = { name: 'CE(z, y)', loss: crossEntropy };
 * const viaProbs = { name: 'BCE(softmax(z)[:, 1], y)', loss: binaryCrossEntropy,
 *                    input: (z) => twoClassToBinaryProbs(tf.softmax(z)), target: (y) => y.toFloat() };
 * const viaLogits = { name: 'BCEWithLogits(z1 − z0, y)', loss: binaryCrossEntropyWithLogits,
 *                     input: twoClassToBinaryLogits, target: (y) => y.toFloat() };
 * console.log(checkEquivalence(ce, viaLogits, twoClass, { rtol: 1e-5 }).passed); // => true
 * // Through probabilities the gradient loses float32 precision where softmax saturates:
 * console.log(checkEquivalence(ce, viaProbs, twoClass, { rtol: 1e-5 }).passed);  // => false
 * console.log(checkEquivalence(ce, viaProbs, twoClass, { rtol: 1e-4 }).passed);  // => true
 * ```
 *
 * Two sides that are both identically 0, values and gradients on every case, are *vacuous*: the
 * report says so and fails, since nothing was compared.
 */
export function checkEquivalence(
  a: LossFunction | LossSide,
  b: LossFunction | LossSide,
  cases: readonly LossCase[] | CaseGenerator,
  options: EquivalenceOptions = {},
): EquivalenceReport {
  return runSync(equivalenceSteps(a, b, cases, options));
}

/**
 * `checkEquivalence`, reading tensors only with `await data()`: the form for backends that must not
 * be read synchronously (webgpu), with the same report as `checkEquivalence` wherever both run.
 *
 * ```js
 * const twoClass = (random) => randomCase(random, { kind: 'multiclass', classes: 2 });
 * const viaLogits = { name: 'BCEWithLogits(z1 − z0, y)', loss: binaryCrossEntropyWithLogits,
 *                     input: twoClassToBinaryLogits, target: (y) => y.toFloat() };
 * const report = await checkEquivalenceAsync(crossEntropy, viaLogits, twoClass, { rtol: 1e-5 });
 * console.log(report.passed, report.cases); // => true 50
 * ```
 */
export function checkEquivalenceAsync(
  a: LossFunction | LossSide,
  b: LossFunction | LossSide,
  cases: readonly LossCase[] | CaseGenerator,
  options: EquivalenceOptions = {},
): Promise<EquivalenceReport> {
  return runAsync(equivalenceSteps(a, b, cases, options));
}

/** The steps of `checkEquivalence`, whichever way its tensors are read. */
export function* equivalenceSteps(
  a: LossFunction | LossSide,
  b: LossFunction | LossSide,
  cases: readonly LossCase[] | CaseGenerator,
  options: EquivalenceOptions,
): Reads<EquivalenceReport> {
  const sides = [toSide(a, 'a'), toSide(b, 'b')] as const;
  const names: [string, string] = [sides[0].name ?? 'a', sides[1].name ?? 'b'];
  const valueTolerance = checkTolerance(options, 'options');
  const gradientTolerance = options.gradient === undefined ? valueTolerance : checkTolerance(options.gradient, 'options.gradient');
  const wrt = options.wrt ?? ['input'];
  if (!Array.isArray(wrt) || wrt.some((w) => w !== 'input' && w !== 'target') || new Set(wrt).size !== wrt.length) {
    throw new LossInputError(
      FN,
      'options.wrt',
      "distinct names among 'input' and 'target' (an empty list compares values only)",
      JSON.stringify(wrt),
    );
  }
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
    throw new LossInputError(FN, 'options.seed', 'an integer in [0, 2^32)', String(seed));
  const generated = typeof cases === 'function';
  const count = generated ? (options.count ?? 50) : cases.length;
  if (!Number.isInteger(count) || count < 1) {
    throw new LossInputError(
      FN,
      generated ? 'options.count' : 'cases',
      generated ? 'a positive integer' : 'a non-empty array of {input, target}',
      String(count),
    );
  }

  const state: ReportState = {
    maxValueError: 0,
    maxGradientError: 0,
    worstValue: null,
    worstGradient: null,
    messages: [],
    failedCases: new Set(),
    comparedCases: 0,
    nonzero: false,
  };
  for (let k = 0; k < count; k++) {
    const testCase = generated ? cases(seededRandom(streamSeed(seed, k)), k) : cases[k];
    try {
      yield* compareCase(sides, names, testCase, k, wrt, seed, valueTolerance, gradientTolerance, state);
    } finally {
      if (generated) tf.dispose([testCase.input, testCase.target]);
    }
  }
  const pair = `'${names[0]}' and '${names[1]}'`;
  const vacuous = state.comparedCases > 0 && !state.nonzero;
  const failures = state.messages.slice(0, MAX_MESSAGES);
  if (state.messages.length > MAX_MESSAGES) failures.push(`... and ${state.messages.length - MAX_MESSAGES} more`);
  if (vacuous) {
    const quantities = wrt.length === 0 ? 'values' : 'values and gradients';
    const where = state.comparedCases === count ? 'every case' : `the ${state.comparedCases} cases compared`;
    failures.push(`${pair} are vacuous: both sides are identically 0 (${quantities}) on ${where}; nothing was compared`);
  }
  const passed = failures.length === 0;
  const errors = `max value error ${formatNumber(state.maxValueError)}, max gradient error ${formatNumber(state.maxGradientError)}`;
  const summary = passed
    ? `${pair} agree on ${count} case${count > 1 ? 's' : ''} (${errors})`
    : state.messages.length === 0
      ? failures[0]
      : `${pair} differ on ${state.failedCases.size} of ${count} cases (${errors}): ${state.messages[0]}`;
  return {
    passed,
    names,
    cases: count,
    maxValueError: state.maxValueError,
    maxGradientError: state.maxGradientError,
    worstValue: state.worstValue,
    worstGradient: state.worstGradient,
    vacuous,
    failures,
    summary,
  };
}

interface ReportState {
  maxValueError: number;
  maxGradientError: number;
  worstValue: Discrepancy | null;
  worstGradient: Discrepancy | null;
  messages: string[];
  failedCases: Set<number>;
  /** Cases where both sides gave a value (and gradients) of the same shape. */
  comparedCases: number;
  /** Whether any compared element, of either side, is other than 0. */
  nonzero: boolean;
}

function toSide(loss: LossFunction | LossSide, argument: string): LossSide {
  if (typeof loss === 'function') return { name: loss.name || undefined, loss };
  if (typeof loss !== 'object' || loss === null || typeof loss.loss !== 'function') {
    throw new LossInputError(FN, argument, 'a loss function (input, target) => Tensor or {loss, input?, target?, name?}', typeof loss);
  }
  for (const map of ['input', 'target'] as const) {
    if (loss[map] !== undefined && typeof loss[map] !== 'function')
      throw new LossInputError(FN, `${argument}.${map}`, 'a function of one tensor', typeof loss[map]);
  }
  return loss;
}

/** `tolerance` with `defaults` for what it leaves out, checked: a `LossInputError` of `functionName` names a bad one. */
export function checkTolerance(
  tolerance: Tolerance,
  argument: string,
  functionName = FN,
  defaults: Required<Tolerance> = DEFAULT_TOLERANCE,
): Required<Tolerance> {
  const resolved = { rtol: tolerance.rtol ?? defaults.rtol, atol: tolerance.atol ?? defaults.atol };
  for (const key of ['rtol', 'atol'] as const) {
    if (!(resolved[key] >= 0 && Number.isFinite(resolved[key])))
      throw new LossInputError(functionName, `${argument}.${key}`, 'a finite number ≥ 0', String(resolved[key]));
  }
  return resolved;
}

/** The side's loss of the shared input and target, through its maps. */
function sideLoss(side: LossSide, input: tf.Tensor, target: tf.Tensor): tf.Tensor {
  return side.loss(side.input === undefined ? input : side.input(input), side.target === undefined ? target : side.target(target));
}

interface SideOutcome {
  shape: number[];
  value: Float32Array;
  /** One per name in `wrt`. */
  gradients: Float32Array[];
}

/** Value, then gradients (with `cotangent`, or 1 for a scalar), of one side; a string says what went wrong. */
function* runSide(
  side: LossSide,
  testCase: LossCase,
  wrt: ReadonlyArray<'input' | 'target'>,
  cotangentFor: (shape: number[]) => Float32Array,
): Reads<SideOutcome | string> {
  let read: { shape: number[]; value: Float32Array } | string;
  try {
    const loss = yield* readInTidy(() => {
      const value: unknown = sideLoss(side, testCase.input, testCase.target);
      if (!(value instanceof tf.Tensor)) return { problem: `returns ${value === null ? 'null' : typeof value}, not a tf.Tensor`, read: [] };
      return { problem: null, shape: value.shape.slice(), read: [value] };
    });
    read = loss.problem ?? { shape: loss.shape, value: Float32Array.from(loss.values[0]) };
  } catch (e) {
    return `throws: ${(e as Error).message}`;
  }
  if (typeof read === 'string') return read;
  const { shape } = read;
  if (wrt.length === 0) return { ...read, gradients: [] };
  try {
    const { values } = yield* readInTidy(() => {
      const shared = { input: testCase.input, target: testCase.target };
      const differentiated = (...xs: tf.Tensor[]) => {
        const args = { ...shared };
        wrt.forEach((name, k) => (args[name] = xs[k]));
        return sideLoss(side, args.input, args.target);
      };
      const dy = tf.tensor(cotangentFor(shape), shape, 'float32');
      return {
        read: tf.grads(differentiated)(
          wrt.map((name) => shared[name]),
          dy,
        ),
      };
    });
    return { ...read, gradients: values.map((g) => Float32Array.from(g)) };
  } catch (e) {
    releaseAbandonedTape();
    return `cannot be differentiated: ${(e as Error).message.split('\n')[0]}`;
  }
}

function excess(d: ElementComparison): number {
  return d.error === 0 ? 0 : d.tolerance > 0 ? d.error / d.tolerance : Infinity;
}

function* compareCase(
  sides: readonly [LossSide, LossSide],
  names: [string, string],
  testCase: LossCase,
  k: number,
  wrt: ReadonlyArray<'input' | 'target'>,
  seed: number,
  valueTolerance: Required<Tolerance>,
  gradientTolerance: Required<Tolerance>,
  state: ReportState,
): Reads<void> {
  if (
    testCase === null ||
    typeof testCase !== 'object' ||
    !(testCase.input instanceof tf.Tensor) ||
    !(testCase.target instanceof tf.Tensor)
  ) {
    throw new LossInputError(FN, `cases[${k}]`, 'an object {input: tf.Tensor, target: tf.Tensor}', typeof testCase);
  }
  for (const name of wrt) {
    if (testCase[name].dtype !== 'float32')
      throw new LossInputError(FN, `cases[${k}].${name}`, 'float32 to be differentiated (options.wrt)', `${testCase[name].dtype}`);
  }
  const caseName = testCase.name ?? `${formatShape(testCase.input.shape)}`;
  const where = `case ${k} (${caseName})`;
  const fail = (message: string) => {
    state.messages.push(`'${names[0]}' and '${names[1]}' ${message}`);
    state.failedCases.add(k);
  };
  // Scalars get the cotangent 1; larger values a seeded one, the same for both sides.
  const cotangentFor = (shape: number[]) => {
    const size = shape.reduce((p, d) => p * d, 1);
    if (shape.length === 0) return Float32Array.of(1);
    const random = seededRandom(streamSeed(seed, k, 0x647920)); // 'dy '
    return Float32Array.from({ length: size }, () => random.normal());
  };
  const outcomes = [yield* runSide(sides[0], testCase, wrt, cotangentFor), yield* runSide(sides[1], testCase, wrt, cotangentFor)];
  for (const s of [0, 1]) {
    const outcome = outcomes[s];
    if (typeof outcome === 'string') {
      state.messages.push(`'${names[s]}' ${outcome} on ${where}`);
      state.failedCases.add(k);
    }
  }
  const [first, second] = outcomes;
  if (typeof first === 'string' || typeof second === 'string') return;
  if (first.shape.length !== second.shape.length || first.shape.some((d, axis) => d !== second.shape[axis])) {
    fail(`give values of different shapes on ${where}: ${formatShape(first.shape)} and ${formatShape(second.shape)}`);
    return;
  }
  state.comparedCases++;
  const record = (quantity: Quantity, actual: Float32Array, expected: Float32Array, shape: number[], tolerance: Required<Tolerance>) => {
    state.nonzero ||= actual.some((x) => x !== 0) || expected.some((x) => x !== 0);
    const comparison = compareArrays(actual, expected, shape, tolerance);
    const isValue = quantity === 'value';
    if (isValue) state.maxValueError = Math.max(state.maxValueError, comparison.maxError);
    else state.maxGradientError = Math.max(state.maxGradientError, comparison.maxError);
    if (comparison.worst === null) return; // nothing to compare: an empty value
    const discrepancy: Discrepancy = { ...comparison.worst, case: k, caseName, quantity };
    const previous = isValue ? state.worstValue : state.worstGradient;
    if (previous === null || excess(discrepancy) > excess(previous)) {
      if (isValue) state.worstValue = discrepancy;
      else state.worstGradient = discrepancy;
    }
    if (!comparison.passed) {
      fail(
        `differ in ${quantity} on ${where}, ${comparison.mismatches} of ${comparison.size} element${comparison.size > 1 ? 's' : ''}; worst ` +
          describeElement(comparison.worst, tolerance, 'a', 'b'),
      );
    }
  };
  record('value', first.value, second.value, first.shape, valueTolerance);
  wrt.forEach((name, w) => {
    const shape = testCase[name].shape;
    record(`gradient of ${name}`, first.gradients[w], second.gradients[w], shape, gradientTolerance);
  });
}
