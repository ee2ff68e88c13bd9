import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from '../core/errors';
import { formatPosition, formatShape } from '../core/tensors';
import { releaseAbandonedTape } from './abandonedTape';
import { formatNumber } from './compare';
import { read, readInTidy, Reads, runAsync, runSync } from './reads';
import { seededRandom, streamSeed } from './random';

/** What `gradcheck` checks: any function from tensors to one float32 tensor, differentiable by `tf.grads`. */
export type TensorFunction = (...inputs: tf.Tensor[]) => tf.Tensor;

/** Options of `gradcheck`; the defaults (`GRADCHECK_DEFAULTS`) are justified in its doc comment. */
export interface GradcheckOptions {
  /** Indices of the inputs to differentiate. Default: every float32 input (int32 class indices are passed through unchanged). */
  wrt?: readonly number[];
  /** Names of the inputs for messages, e.g. `['logits', 'target']`. Default `input 0`, `input 1`, ... */
  names?: readonly string[];
  /** Directions per checked input: the first along the analytic gradient, the others seeded random. */
  directions?: number;
  /** Seeds the output cotangent and the random directions; a failure message says which seed replays it. */
  seed?: number;
  /** Relative finite-difference step h: element i moves by `h·max(1, |x_i|)·u_i` along a unit direction u. */
  step?: number;
  /** Allowed error relative to the norm of the gradient. */
  rtol?: number;
  /** Allowed absolute error of a directional derivative. */
  atol?: number;
  /** Multiplies the noise term of the tolerance (float32 rounding of f, measured or estimated). */
  noiseFactor?: number;
  /** Inputs with at most this many elements are also checked element by element (each axis a direction). */
  axisLimit?: number;
  /** A failing input with at most this many elements is scanned element by element, to name the worst ones. */
  locateLimit?: number;
}

/**
 * float32 machine epsilon, 2^-23.
 *
 * ```js
 * console.log(FLOAT32_EPSILON, Math.fround(1 + FLOAT32_EPSILON) > 1, Math.fround(1 + FLOAT32_EPSILON / 2) > 1); // => 1.1920928955078125e-7 true false
 * ```
 */
export const FLOAT32_EPSILON = 2 ** -23;

/** Roundings of f's magnitude allowed in each value (the float32 noise floor when nothing is measured). */
const VALUE_ROUNDINGS = 2;
/** Measured noise σ allowed, in standard deviations: 4 for the tail, doubled for σ's uncertainty from a few directions. */
const NOISE_DEVIATIONS = 8;

/**
 * The defaults; see `gradcheck` for the measurements behind them.
 *
 * ```js
 * console.log(GRADCHECK_DEFAULTS.step, GRADCHECK_DEFAULTS.rtol, GRADCHECK_DEFAULTS.atol, GRADCHECK_DEFAULTS.directions); // => 0.01 0.001 0.00001 4
 * ```
 */
export const GRADCHECK_DEFAULTS = {
  directions: 4,
  seed: 0,
  step: 1e-2,
  rtol: 1e-3,
  atol: 1e-5,
  noiseFactor: 1,
  axisLimit: 64,
  locateLimit: 1024,
} as const;

/** The comparison along one direction of one input. */
export interface DirectionCheck {
  /** Index of the input in `inputs`. */
  input: number;
  inputName: string;
  /** `gradient`: along the analytic gradient; `random`: a seeded random unit vector; `axis`: one element. */
  along: 'gradient' | 'random' | 'axis';
  /** For `gradient` and `random`, the direction's index (0 is the gradient); for `axis`, the element's flat index. */
  direction: number;
  /** For `axis`, the element's position, e.g. `[3, 1]`; otherwise null. */
  position: string | null;
  /** Directional derivative of `φ = Σ v·f` from central differences (Richardson-extrapolated from steps h and h/2). */
  numerical: number;
  /** The same directional derivative from `tf.grads`. */
  analytical: number;
  /** `|numerical − analytical|`. */
  error: number;
  /** `rtol·‖g‖ + atol + noise + truncation` (see `gradcheck`). */
  tolerance: number;
  passed: boolean;
  /** ‖g‖, the norm of this input's analytic gradient of φ. */
  gradientNorm: number;
  /** The noise term of the tolerance. */
  noise: number;
  /** The truncation term of the tolerance: the Richardson estimate of what remains. */
  truncation: number;
  /** The relative step actually used: `step`, divided by 4 each time f was not finite or threw at x ± step. */
  step: number;
  /** Why the direction could not be measured (f not finite or throwing even at the smallest step), else null. */
  problem: string | null;
}

/** The checks besides the directional derivatives. */
export type SideCheckName =
  | 'output' // f returns one finite float32 tensor at the given inputs
  | 'differentiable' // tf.grads differentiates f with respect to the checked inputs (it also requires each gradient to have its input's shape and dtype)
  | 'finite' // no NaN or Infinity in a gradient (the value is finite)
  | 'zeroCotangent' // a zero upstream gradient gives a zero gradient
  | 'linearInCotangent' // the gradient for -2v is -2 times the gradient for v
  | 'repeatable'; // two runs give the same gradients (to 4 float32 ulps)

/** One of gradcheck's checks besides the directional derivatives (finite, zero for a zero cotangent, linear, repeatable...). */
export interface SideCheck {
  name: SideCheckName;
  /** The input concerned, or null for the output. */
  input: number | null;
  passed: boolean;
  message: string;
}

/** The result of `gradcheck`: every directional comparison and side check, the worst one, and the failure messages. */
export interface GradcheckResult {
  passed: boolean;
  /** The seed used: pass it back to replay the same cotangent and directions. */
  seed: number;
  /** The options in force, defaults filled in. */
  settings: Required<Omit<GradcheckOptions, 'names'>>;
  directions: DirectionCheck[];
  sideChecks: SideCheck[];
  /** The direction closest to (or furthest past) its tolerance, by error / tolerance. */
  worst: DirectionCheck | null;
  /**
   * Whether the check was vacuous: the numerical and the analytical derivative are both exactly 0 along
   * every direction of every checked input, so f is constant under every perturbation and its gradient
   * is 0, and nothing was compared (a function that returns zeros, or a backend whose reads return
   * zeros). A vacuous check fails.
   */
  vacuous: boolean;
  /**
   * One message per failed side check and per input with failing directions, in the style of
   * torch.autograd.gradcheck, then the one that says the check was vacuous.
   */
  failures: string[];
  /** One line: passed, or how many checks failed and the first failure. */
  summary: string;
}

/**
 * Thrown by `assertGradcheck`; carries the full result.
 *
 * ```js
 * // x² with a gradient 5% too large:
 * const wrong = tf.customGrad((x) => ({ value: tf.sum(tf.square(x)), gradFunc: (dy) => tf.mul(dy, tf.mul(x, 2.1)) }));
 * try { assertGradcheck(wrong, [tf.tensor1d([1, -2, 3])]); } catch (e) {
 *   console.log(e instanceof GradcheckError, e.result.passed); // => true false
 *   console.log(e.message.split('\n')[0]);
 *   // => gradcheck failed: Jacobian mismatch for output 0 with respect to input 0, along the analytic gradient (direction 0 of 4),
 * }
 * ```
 */
export class GradcheckError extends Error {
  constructor(readonly result: GradcheckResult) {
    super(result.failures.join('\n\n'));
    this.name = 'GradcheckError';
  }
}

interface TensorValues {
  shape: number[];
  values: Float32Array;
}

type Settings = GradcheckResult['settings'];

const FN = 'gradcheck';

/**
 * Checks the gradient `tf.grads` gives for `f` against finite differences: the tfjs counterpart of
 * `torch.autograd.gradcheck` (fast mode) and `jax.test_util.check_grads`, made for float32, since
 * tfjs has no float64 to difference in.
 *
 * `f` may return any shape: it is reduced to `φ(x) = Σ_j v_j·f(x)_j` with a seeded random unit
 * cotangent `v`, and `g = tf.grads(f)(x, v)` is its analytic gradient. Each checked input is probed
 * along `directions` unit directions u (the first along g itself, which makes a wrongly scaled gradient
 * stand out whatever the size; the others seeded random) and, when it has at most `axisLimit` elements,
 * along every axis, as torch's slow mode does. Along u, with s = h·max(1, |x|) elementwise:
 *
 *     x(t) = float32(x + t·s∘u)                        what f really receives, t ∈ {±1, ±½}
 *     D(t) = (φ(x(t)) − φ(x(−t))) / ‖x(t) − x(−t)‖    the step recomputed in float64 from the float32 values
 *     numerical = (r·D(½) − D(1)) / (r − 1)            Richardson: cancels the h² truncation, r = (‖Δ1‖/‖Δ½‖)²
 *     analytical = the same combination of g·Δ/‖Δ‖
 *     |numerical − analytical| ≤ rtol·‖g‖ + atol + noise + truncation
 *
 *  - noise = noiseFactor·a·(2·eps32·Σ_j|v_j|·|f(x(t))_j| + 8σ) / ‖Δ1‖, a = √(2(r³+1))/(r−1) ≈ 3.8 the noise
 *    gain of the extrapolation: float32 rounding of φ, estimated from the values' magnitude (two
 *    roundings) and measured: σ is the RMS over all probed directions of the fourth difference
 *    φ(1) + φ(−1) − 4(φ(½) + φ(−½)) + 6φ(0) divided by √70, which cancels everything smooth and leaves
 *    noise. It catches what the magnitude misses: `log(1 + x)` of a small x, or a float32 sum of
 *    thousands of terms (wasm). 8σ: four standard deviations, doubled for σ's uncertainty.
 *  - truncation = |e(½) − e(1)|/(r − 1), with e = D − analytical: the Richardson estimate of the
 *    error left, large only where f is far from smooth at the scale of the step (kinks, saturation).
 *
 * If f is not finite or throws at x(±1), the step is divided by 4 (three times at most): a step must
 * not leave f's domain (probabilities in (0, 1)). Side checks: f returns one finite float32 tensor;
 * `tf.grads` differentiates it (and so each gradient has its input's shape and dtype); each gradient
 * is finite; a zero cotangent gives exactly zero; the cotangent −2v gives −2 times the gradient for v
 * (to 4 ulp: catches a gradient that ignores `dy`); two runs give identical gradients. A check is
 * *vacuous*, and fails, when the numerical and the analytical derivative are both exactly 0 along
 * every direction: f is constant and its gradient 0, so nothing was compared (`f` returns zeros, or the
 * backend's reads do, as webgpu's `dataSync()` does in headless Chromium: use `gradcheckAsync` there).
 *
 * The defaults (`GRADCHECK_DEFAULTS`: step 1e-2, rtol 1e-3, atol 1e-5, 4 directions, axes up to 64
 * elements) were measured on 3000 seeded random correct cases and 300 correct closed-form gradients,
 * each of cpu and wasm (tf.losses.softmaxCrossEntropy and sigmoidCrossEntropy with every reduction
 * and label smoothing, log-softmax, tanh(x·W + b), and this library's crossEntropy, nllLoss,
 * binaryCrossEntropy and binaryCrossEntropyWithLogits with random options; 1 to 7936 elements,
 * logits of scale 0.1 to 20 and offsets up to ±30): no false alarm; the largest error/tolerance was
 * 0.15 on cpu and 0.55 on wasm. Against 300 closed-form wrong gradients of each kind (weighted
 * softmax and sigmoid cross-entropy, weighted log-softmax, 2 to 7936 elements), on cpu / wasm: scaled
 * by 1.01, 300 / 290 flagged (all up to 256 elements); a missing dy factor and a gradient ignoring the
 * weight, 300 / 300 each; the sign of one element flipped (an element with at least a tenth of the
 * largest gradient), 274 / 270 (all up to 64 elements, where every axis is checked). Other steps, same
 * criterion: at 1e-3 float32 noise dominates (wasm, 1000 correct cases: one false alarm; scaled by 1.01:
 * 71/100 flagged); at 3e-2 truncation does (no false alarm, but a worst error/tolerance of 0.72, and a
 * 1.01 scaling missed in a 16-element case).
 *
 * The inputs must be finite. `gradcheck` leaves `tf.memory()` unchanged; an exception that `f` throws
 * at the given inputs propagates.
 *
 * ```js
 * const z = tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]);
 * const y = tf.tensor2d([[1, 0, 0], [0, 1, 0]]);
 * console.log(gradcheck((z, y) => tf.losses.softmaxCrossEntropy(y, z), [z, y], { wrt: [0] }).passed); // => true
 * // x² with a gradient 5% too large:
 * const wrong = tf.customGrad((x) => ({ value: tf.sum(tf.square(x)), gradFunc: (dy) => tf.mul(dy, tf.mul(x, 2.1)) }));
 * console.log(gradcheck(wrong, [tf.tensor1d([1, -2, 3])]).passed); // => false
 * ```
 */
export function gradcheck(f: TensorFunction, inputs: readonly tf.Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  return runSync(gradcheckSteps(f, inputs, options));
}

/**
 * `gradcheck`, reading tensors only with `await data()`: the form for backends that must not be read
 * synchronously (webgpu), with the same result as `gradcheck` wherever both run.
 *
 * ```js
 * const z = tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]);
 * const y = tf.tensor2d([[1, 0, 0], [0, 1, 0]]);
 * const result = await gradcheckAsync((z, y) => tf.losses.softmaxCrossEntropy(y, z), [z, y], { wrt: [0] });
 * console.log(result.passed); // => true
 * ```
 */
export function gradcheckAsync(f: TensorFunction, inputs: readonly tf.Tensor[], options: GradcheckOptions = {}): Promise<GradcheckResult> {
  return runAsync(gradcheckSteps(f, inputs, options));
}

/**
 * Runs `gradcheck` and throws a `GradcheckError` (carrying the result) when any check fails.
 *
 * ```js
 * const result = assertGradcheck((x) => tf.sum(tf.square(x)), [tf.tensor1d([1, -2, 3])]);
 * console.log(result.passed); // => true
 * ```
 */
export function assertGradcheck(f: TensorFunction, inputs: readonly tf.Tensor[], options: GradcheckOptions = {}): GradcheckResult {
  return throwUnlessPassed(gradcheck(f, inputs, options));
}

/**
 * Runs `gradcheckAsync` and rejects with a `GradcheckError` (carrying the result) when any check fails.
 *
 * ```js
 * const result = await assertGradcheckAsync((x) => tf.sum(tf.square(x)), [tf.tensor1d([1, -2, 3])]);
 * console.log(result.passed); // => true
 * ```
 */
export async function assertGradcheckAsync(
  f: TensorFunction,
  inputs: readonly tf.Tensor[],
  options: GradcheckOptions = {},
): Promise<GradcheckResult> {
  return throwUnlessPassed(await gradcheckAsync(f, inputs, options));
}

/** The result, or a `GradcheckError` carrying it when a check failed. */
export function throwUnlessPassed(result: GradcheckResult): GradcheckResult {
  if (!result.passed) throw new GradcheckError(result);
  return result;
}

/** The steps of `gradcheck`, whichever way its tensors are read; `checkName` names the check in errors and messages. */
export function* gradcheckSteps(
  f: TensorFunction,
  inputs: readonly tf.Tensor[],
  options: GradcheckOptions,
  checkName: string = FN,
): Reads<GradcheckResult> {
  const settings = resolveSettings(f, inputs, options, checkName);
  const names = inputs.map((_, i) => options.names?.[i] ?? `input ${i}`);
  const { wrt, seed } = settings;
  const sideChecks: SideCheck[] = [];
  const directions: DirectionCheck[] = [];

  const checkedValues = (yield* read(wrt.map((i) => inputs[i]))).map((values) => Float32Array.from(values));
  wrt.forEach((i, k) => {
    const bad = checkedValues[k].findIndex((x) => !Number.isFinite(x));
    if (bad >= 0)
      throw new LossInputError(
        checkName,
        `inputs[${i}]`,
        'finite values at the point to check',
        `${checkedValues[k][bad]} at position ${formatPosition(bad, inputs[i].shape)}`,
      );
  });

  const base = yield* evaluate(f, inputs);
  const outputProblem = typeof base === 'string' ? base : describeNonFinite(base, 'at the given inputs');
  sideChecks.push({
    name: 'output',
    input: null,
    passed: outputProblem === null,
    message: outputProblem ?? 'f returns a finite float32 tensor',
  });
  if (typeof base === 'string' || outputProblem !== null) return summarize(checkName, settings, names, directions, sideChecks);

  const cotangent = randomUnitVector(base.values.length, streamSeed(seed, 0x636f74)); // 'cot'
  const gradientsOrError = yield* tryGradients(f, inputs, wrt, cotangent, base.shape);
  sideChecks.push({
    name: 'differentiable',
    input: null,
    passed: typeof gradientsOrError !== 'string',
    message: typeof gradientsOrError === 'string' ? gradientsOrError : 'tf.grads differentiates f',
  });
  if (typeof gradientsOrError === 'string') return summarize(checkName, settings, names, directions, sideChecks);
  const gradients = gradientsOrError;

  const usable = wrt.map((i, k) => checkGradientFinite(names[i], i, gradients[k], sideChecks));
  yield* checkCotangentHandling(f, inputs, settings, names, cotangent, base.shape, gradients, usable, sideChecks);

  const probe: Probe = { f, inputs, cotangent, baseValue: contract(cotangent, base.values), settings };
  const checked = wrt.flatMap((i, k) => (usable[k] ? [{ i, name: names[i], x: checkedValues[k], g: gradients[k].values }] : []));
  const measured: Measurement[][] = [];
  for (const { i, x, g } of checked) measured.push(yield* measureDirections(probe, i, x, g));
  // The noise is f's, whichever input moves: one estimate from every direction of every input.
  const measurable = measured.flat().filter((m) => m.problem === null);
  const sigma = Math.sqrt(measurable.reduce((sum, m) => sum + m.fourthDifference ** 2, 0) / Math.max(1, measurable.length) / 70);
  for (const [k, { i, name, x, g }] of checked.entries()) directions.push(...(yield* judgeInput(probe, measured[k], sigma, i, name, x, g)));
  return summarize(checkName, settings, names, directions, sideChecks);
}

/** The options with defaults filled in, after checking `f`, `inputs` and every option (errors name `checkName`). */
export function resolveSettings(
  f: unknown,
  inputs: readonly tf.Tensor[],
  options: GradcheckOptions,
  checkName: string = FN,
): GradcheckResult['settings'] {
  if (typeof f !== 'function') throw new LossInputError(checkName, 'f', 'a function from tensors to a tensor', typeof f);
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new LossInputError(checkName, 'inputs', 'a non-empty array of tensors', Array.isArray(inputs) ? 'an empty array' : typeof inputs);
  inputs.forEach((t, i) => {
    if (!(t instanceof tf.Tensor)) throw new LossInputError(checkName, `inputs[${i}]`, 'a tf.Tensor', typeof t);
    if (t.isDisposed) throw new LossInputError(checkName, `inputs[${i}]`, 'a tf.Tensor', 'a disposed tensor');
  });
  const floatInputs = inputs.flatMap((t, i) => (t.dtype === 'float32' ? [i] : []));
  const wrt = options.wrt === undefined ? floatInputs : [...options.wrt];
  if (wrt.length === 0)
    throw new LossInputError(
      checkName,
      'options.wrt',
      'at least one float32 input to check',
      options.wrt === undefined ? 'no float32 input' : 'an empty list',
    );
  wrt.forEach((i) => {
    if (!Number.isInteger(i) || i < 0 || i >= inputs.length)
      throw new LossInputError(checkName, 'options.wrt', `indices of inputs in [0, ${inputs.length})`, String(i));
    if (inputs[i].dtype !== 'float32')
      throw new LossInputError(checkName, 'options.wrt', 'indices of float32 inputs', `input ${i} of dtype ${inputs[i].dtype}`);
  });
  if (new Set(wrt).size !== wrt.length) throw new LossInputError(checkName, 'options.wrt', 'distinct indices', `[${wrt.join(', ')}]`);
  const number = (name: keyof typeof GRADCHECK_DEFAULTS, valid: (x: number) => boolean, expected: string): number => {
    const value = options[name] ?? GRADCHECK_DEFAULTS[name];
    if (typeof value !== 'number' || !valid(value)) throw new LossInputError(checkName, `options.${name}`, expected, String(value));
    return value;
  };
  const positiveInteger = (x: number) => Number.isInteger(x) && x > 0;
  const nonNegative = (x: number) => x >= 0 && Number.isFinite(x);
  return {
    wrt,
    directions: number('directions', positiveInteger, 'a positive integer'),
    seed: number('seed', (x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32, 'an integer in [0, 2^32)'),
    step: number('step', (x) => x > 0 && x < 1, 'a number in (0, 1)'),
    rtol: number('rtol', nonNegative, 'a finite number ≥ 0'),
    atol: number('atol', nonNegative, 'a finite number ≥ 0'),
    noiseFactor: number('noiseFactor', nonNegative, 'a finite number ≥ 0'),
    axisLimit: number('axisLimit', (x) => Number.isInteger(x) && x >= 0, 'an integer ≥ 0'),
    locateLimit: number('locateLimit', (x) => Number.isInteger(x) && x >= 0, 'an integer ≥ 0'),
  };
}

/** The values of `f(...args)`, or a description of what f returned instead of a float32 tensor. */
function* evaluate(f: TensorFunction, args: readonly tf.Tensor[]): Reads<TensorValues | string> {
  const y = yield* readInTidy(() => {
    const output: unknown = f(...args);
    if (!(output instanceof tf.Tensor))
      return { problem: `f must return a tf.Tensor, got ${output === null ? 'null' : typeof output}`, read: [] };
    if (output.dtype !== 'float32')
      return { problem: `f must return a float32 tensor, got a ${output.dtype} tensor of shape ${formatShape(output.shape)}`, read: [] };
    return { problem: null, shape: output.shape.slice(), read: [output] };
  });
  return y.problem ?? { shape: y.shape, values: Float32Array.from(y.values[0]) };
}

/**
 * `f` with input `index` replaced by a tensor of `values` (same shape and dtype); what f returned
 * instead of a float32 tensor, or the message of what it threw, as a string.
 */
function* tryEvaluateAt(
  f: TensorFunction,
  inputs: readonly tf.Tensor[],
  index: number,
  values: Float32Array,
): Reads<TensorValues | string> {
  const args = inputs.slice();
  args[index] = tf.tensor(values, inputs[index].shape, 'float32');
  try {
    return yield* evaluate(f, args);
  } catch (e) {
    return (e as Error).message;
  } finally {
    args[index].dispose();
  }
}

/** Where f's output is NaN or infinite, or null. */
function describeNonFinite(output: TensorValues, where: string): string | null {
  const bad = output.values.findIndex((y) => !Number.isFinite(y));
  if (bad < 0) return null;
  return `f is not finite ${where} (${output.values[bad]} at position ${formatPosition(bad, output.shape)} of its output of shape ${formatShape(output.shape)})`;
}

/** Gradients of `Σ cotangent·f` for the inputs `wrt`, or the message of the error `tf.grads` threw. */
function* tryGradients(
  f: TensorFunction,
  inputs: readonly tf.Tensor[],
  wrt: readonly number[],
  cotangent: Float32Array,
  outputShape: number[],
): Reads<TensorValues[] | string> {
  try {
    return yield* gradients(f, inputs, wrt, cotangent, outputShape);
  } catch (e) {
    releaseAbandonedTape();
    return `tf.grads cannot differentiate f with respect to the checked inputs: ${(e as Error).message.split('\n')[0]}`;
  }
}

function* gradients(
  f: TensorFunction,
  inputs: readonly tf.Tensor[],
  wrt: readonly number[],
  cotangent: Float32Array,
  outputShape: number[],
): Reads<TensorValues[]> {
  const { read: grads, values } = yield* readInTidy(() => {
    const withChecked = (...checked: tf.Tensor[]) => {
      const args = inputs.slice();
      wrt.forEach((i, k) => (args[i] = checked[k]));
      return f(...args);
    };
    const dy = tf.tensor(cotangent, outputShape, 'float32');
    return {
      read: tf.grads(withChecked)(
        wrt.map((i) => inputs[i]),
        dy,
      ),
    };
  });
  return grads.map((g, k) => ({ shape: g.shape.slice(), values: Float32Array.from(values[k]) }));
}

/** Finiteness of one gradient (tf.grads has already required its input's shape and float32); true when it can be compared with finite differences. */
function checkGradientFinite(name: string, i: number, gradient: TensorValues, sideChecks: SideCheck[]): boolean {
  const bad = gradient.values.findIndex((g) => !Number.isFinite(g));
  sideChecks.push({
    name: 'finite',
    input: i,
    passed: bad < 0,
    message:
      bad < 0
        ? `the gradient for ${name} is finite`
        : `the gradient for ${name} is ${gradient.values[bad]} at position ${formatPosition(bad, gradient.shape)} where the value of f is finite`,
  });
  return bad < 0;
}

/** How far two runs of one gradient may differ, in float32 ulps of the larger, and still count as the same. */
const REPEATABLE_ULPS = 4;

/** Zero cotangent, linearity in the cotangent, repeatability: three more gradient passes. */
function* checkCotangentHandling(
  f: TensorFunction,
  inputs: readonly tf.Tensor[],
  settings: GradcheckResult['settings'],
  names: string[],
  cotangent: Float32Array,
  outputShape: number[],
  reference: TensorValues[],
  usable: boolean[],
  sideChecks: SideCheck[],
): Reads<void> {
  const { wrt } = settings;
  const again = yield* gradients(f, inputs, wrt, cotangent, outputShape);
  const zero = yield* gradients(f, inputs, wrt, new Float32Array(cotangent.length), outputShape);
  const scaled = yield* gradients(
    f,
    inputs,
    wrt,
    cotangent.map((v) => -2 * v),
    outputShape,
  );
  wrt.forEach((i, k) => {
    if (!usable[k]) return;
    const g = reference[k].values;
    const where = (e: number) => formatPosition(e, reference[k].shape);
    // To a few float32 ulps, not to the bit: tfjs' GPU backends run small ops on the CPU while their
    // inputs are still there (the first run) and on the GPU afterwards, whose exp and log round differently.
    const differs = again[k].values.findIndex(
      (x, e) => !Object.is(x, g[e]) && !(Math.abs(x - g[e]) <= REPEATABLE_ULPS * FLOAT32_EPSILON * Math.max(Math.abs(x), Math.abs(g[e]))),
    );
    sideChecks.push({
      name: 'repeatable',
      input: i,
      passed: differs < 0,
      message:
        differs < 0
          ? `two runs give the same gradient for ${names[i]}`
          : `two runs give different gradients for ${names[i]}: ${again[k].values[differs]} and ${g[differs]} at position ${where(differs)}`,
    });
    const nonzero = zero[k].values.findIndex((x) => x !== 0);
    sideChecks.push({
      name: 'zeroCotangent',
      input: i,
      passed: nonzero < 0,
      message:
        nonzero < 0
          ? `a zero upstream gradient gives a zero gradient for ${names[i]}`
          : `a zero upstream gradient (dy = 0) gives the gradient ${zero[k].values[nonzero]} for ${names[i]} at position ${where(nonzero)}, expected 0: the gradient does not scale with dy`,
    });
    // Scaling by -2 is exact in floating point, so a gradient linear in dy matches to rounding of the last bits.
    const scale = g.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    const nonlinear = scaled[k].values.findIndex((x, e) => !(Math.abs(x + 2 * g[e]) <= 4 * FLOAT32_EPSILON * (Math.abs(x) + scale)));
    sideChecks.push({
      name: 'linearInCotangent',
      input: i,
      passed: nonlinear < 0,
      message:
        nonlinear < 0
          ? `the gradient for ${names[i]} is linear in the upstream gradient`
          : `the gradient for ${names[i]} is not linear in the upstream gradient dy: for dy = -2v it is ${scaled[k].values[nonlinear]} ` +
            `at position ${where(nonlinear)}, expected -2 × ${g[nonlinear]} = ${-2 * g[nonlinear]} (is dy multiplied in?)`,
    });
  });
}

/** A seeded random vector of unit norm, in float32 (so the cotangent given to tf.grads is the one used on the host). */
export function randomUnitVector(length: number, seed: number): Float32Array {
  const rng = seededRandom(seed);
  const v = new Float64Array(length);
  for (let j = 0; j < length; j++) v[j] = rng.normal();
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return Float32Array.from(v, (x) => x / norm);
}

/** `Σ v·y` in float64. */
function contract(v: Float32Array, y: Float32Array): number {
  let sum = 0;
  for (let j = 0; j < v.length; j++) sum += v[j] * y[j];
  return sum;
}

/** What every measurement of one gradcheck shares. */
interface Probe {
  f: TensorFunction;
  inputs: readonly tf.Tensor[];
  cotangent: Float32Array;
  /** φ at the given inputs. */
  baseValue: number;
  settings: Settings;
}

/** A central difference over `x(t) − x(−t)` and its analytic counterpart. */
interface Difference {
  numerical: number;
  analytical: number;
  stepNorm: number;
}

/** φ along one direction at t = ±1 and ±½, before the tolerance is known. */
interface Measurement {
  along: DirectionCheck['along'];
  direction: number;
  position: string | null;
  step: number;
  full: Difference;
  half: Difference;
  /** max over the four points of `Σ_j |v_j|·|f(x(t))_j|`. */
  valueScale: number;
  /** φ(1) + φ(−1) − 4(φ(½) + φ(−½)) + 6φ(0): noise, once the quartic term is negligible. */
  fourthDifference: number;
  problem: string | null;
}

/** φ along the gradient of one input and along its seeded random directions. */
function* measureDirections(probe: Probe, i: number, x: Float32Array, g: Float32Array): Reads<Measurement[]> {
  const { settings } = probe;
  const gradientNorm = Math.sqrt(g.reduce((sum, gi) => sum + gi * gi, 0));
  const measured: Measurement[] = [];
  for (let d = 0; d < settings.directions; d++) {
    const alongGradient = d === 0 && gradientNorm > 0;
    const u = alongGradient ? Float32Array.from(g, (gi) => gi / gradientNorm) : randomUnitVector(x.length, streamSeed(settings.seed, i, d));
    measured.push(yield* measure(probe, i, x, g, u, alongGradient ? 'gradient' : 'random', d, null));
  }
  return measured;
}

/** The checks of one input; its axes too when it is small, or when it fails and is small enough to scan. */
function* judgeInput(
  probe: Probe,
  measured: Measurement[],
  sigma: number,
  i: number,
  name: string,
  x: Float32Array,
  g: Float32Array,
): Reads<DirectionCheck[]> {
  const { settings } = probe;
  const gradientNorm = Math.sqrt(g.reduce((sum, gi) => sum + gi * gi, 0));
  const checks = measured.map((m) => judge(m, i, name, gradientNorm, sigma, settings));
  const failing = checks.some((c) => !c.passed);
  if (x.length > settings.axisLimit && !(failing && x.length <= settings.locateLimit)) return checks;
  for (let e = 0; e < x.length; e++) {
    const axis = new Float32Array(x.length);
    axis[e] = 1;
    const alongAxis = yield* measure(probe, i, x, g, axis, 'axis', e, formatPosition(e, probe.inputs[i].shape));
    checks.push(judge(alongAxis, i, name, gradientNorm, sigma, settings));
  }
  return checks;
}

/** Evaluates φ at x(±1), x(±½) along u, dividing the step by 4 (up to three times) while f is not finite or throws there. */
function* measure(
  probe: Probe,
  i: number,
  x: Float32Array,
  g: Float32Array,
  u: Float32Array,
  along: Measurement['along'],
  direction: number,
  position: string | null,
): Reads<Measurement> {
  const { f, inputs, cotangent: v, settings } = probe;
  const pointAt = (t: number) => {
    const point = new Float32Array(x.length); // rounded to float32 as stored, which is what f receives
    for (let e = 0; e < x.length; e++) point[e] = x[e] + t * Math.max(1, Math.abs(x[e])) * u[e];
    return point;
  };
  const difference = (plus: Float32Array, minus: Float32Array, valuePlus: number, valueMinus: number): Difference => {
    let stepSquared = 0;
    let gradientDotStep = 0;
    for (let e = 0; e < x.length; e++) {
      const dx = plus[e] - minus[e]; // exact in float64
      stepSquared += dx * dx;
      gradientDotStep += g[e] * dx;
    }
    const stepNorm = Math.sqrt(stepSquared);
    return { numerical: (valuePlus - valueMinus) / stepNorm, analytical: gradientDotStep / stepNorm, stepNorm };
  };
  let step = settings.step;
  let problem = '';
  for (let attempt = 0; attempt < 4; attempt++, step /= 4) {
    const offsets = [1, -1, 0.5, -0.5];
    const points = offsets.map((t) => pointAt(t * step));
    const values: number[] = [];
    let valueScale = 0;
    for (let p = 0; p < points.length && values.length === p; p++) {
      const y = yield* tryEvaluateAt(f, inputs, i, points[p]);
      const where = `at x ${offsets[p] > 0 ? '+' : '−'} ${Math.abs(offsets[p]) * step}·max(1, |x|)∘u`;
      const trouble = typeof y === 'string' ? `f throws ${where}: ${y}` : describeNonFinite(y, where);
      if (trouble !== null || typeof y === 'string') {
        problem = trouble ?? '';
        break;
      }
      values.push(contract(v, y.values));
      valueScale = Math.max(
        valueScale,
        y.values.reduce((s: number, yj: number, j: number) => s + Math.abs(v[j] * yj), 0),
      );
    }
    if (values.length < points.length) continue;
    return {
      along,
      direction,
      position,
      step,
      full: difference(points[0], points[1], values[0], values[1]),
      half: difference(points[2], points[3], values[2], values[3]),
      valueScale,
      fourthDifference: values[0] + values[1] - 4 * (values[2] + values[3]) + 6 * probe.baseValue,
      problem: null,
    };
  }
  const nothing = { numerical: NaN, analytical: NaN, stepNorm: NaN };
  return { along, direction, position, step: step * 4, full: nothing, half: nothing, valueScale: NaN, fourthDifference: NaN, problem };
}

/** The Richardson-extrapolated comparison and its tolerance. */
function judge(m: Measurement, i: number, name: string, gradientNorm: number, sigma: number, settings: Settings): DirectionCheck {
  const common = {
    input: i,
    inputName: name,
    along: m.along,
    direction: m.direction,
    position: m.position,
    gradientNorm,
    step: m.step,
    problem: m.problem,
  };
  if (m.problem !== null) {
    return { ...common, numerical: NaN, analytical: NaN, error: Infinity, tolerance: 0, passed: false, noise: NaN, truncation: NaN };
  }
  const { full, half } = m;
  const r = (full.stepNorm / half.stepNorm) ** 2;
  const extrapolate = (atHalf: number, atFull: number) => (r * atHalf - atFull) / (r - 1);
  const numerical = extrapolate(half.numerical, full.numerical);
  const analytical = extrapolate(half.analytical, full.analytical);
  const error = Math.abs(numerical - analytical);
  const truncation = Math.abs(half.numerical - half.analytical - (full.numerical - full.analytical)) / (r - 1);
  const noiseGain = Math.sqrt(2 * (r ** 3 + 1)) / (r - 1);
  const noise =
    (settings.noiseFactor * noiseGain * (VALUE_ROUNDINGS * FLOAT32_EPSILON * m.valueScale + NOISE_DEVIATIONS * sigma)) / full.stepNorm;
  const tolerance = settings.rtol * gradientNorm + settings.atol + noise + truncation;
  return { ...common, numerical, analytical, error, tolerance, passed: error <= tolerance, noise, truncation };
}

function summarize(
  checkName: string,
  settings: Settings,
  names: string[],
  directions: DirectionCheck[],
  sideChecks: SideCheck[],
): GradcheckResult {
  const failures: string[] = sideChecks.filter((c) => !c.passed).map((c) => `${checkName} failed (${c.name}): ${c.message}`);
  for (const i of settings.wrt) {
    const checks = directions.filter((c) => c.input === i);
    if (checks.some((c) => !c.passed)) failures.push(describeInputFailure(checkName, checks, settings, names));
  }
  const vacuous = directions.length > 0 && directions.every((c) => c.numerical === 0 && c.analytical === 0);
  if (vacuous)
    failures.push(
      `${checkName} failed (vacuous): both sides are identically 0: the numerical and the analytical derivatives are 0 along all ` +
        `${directions.length} directions checked, so f is constant under every perturbation and its gradient is 0; nothing was compared`,
    );
  const worst = directions.reduce<DirectionCheck | null>((w, c) => (w === null || ratio(c) > ratio(w) ? c : w), null);
  const passed = failures.length === 0;
  const checked = settings.wrt.map((i) => `${names[i]} (${directions.filter((c) => c.input === i).length} directions)`).join(', ');
  const summary = passed
    ? `${checkName} passed: ${checked}, seed ${settings.seed}; worst error/tolerance ${worst === null ? 0 : formatNumber(ratio(worst))}`
    : `${checkName} failed ${failures.length} check${failures.length > 1 ? 's' : ''} (seed ${settings.seed}): ${failures[0].split('\n')[0]}`;
  return { passed, seed: settings.seed, settings, directions, sideChecks, worst, vacuous, failures, summary };
}

function ratio(c: DirectionCheck): number {
  return c.tolerance > 0 ? c.error / c.tolerance : c.error > 0 ? Infinity : 0;
}

function byRatio(a: DirectionCheck, b: DirectionCheck): number {
  return ratio(b) - ratio(a);
}

/** One torch-style message for an input: its worst failing direction, then its worst elements. */
function describeInputFailure(checkName: string, checks: DirectionCheck[], settings: Settings, names: string[]): string {
  const failing = checks.filter((c) => !c.passed).sort(byRatio);
  const headline = failing.find((c) => c.along !== 'axis') ?? failing[0];
  const i = headline.input;
  const inputName = names[i] === `input ${i}` ? `input ${i}` : `input ${i} ('${names[i]}')`;
  const where =
    headline.along === 'axis'
      ? `at element ${headline.position}`
      : headline.along === 'gradient'
        ? `along the analytic gradient (direction 0 of ${settings.directions})`
        : `along random direction ${headline.direction} of ${settings.directions} (seed ${settings.seed})`;
  const lines = [`${checkName} failed: Jacobian mismatch for output 0 with respect to ${inputName}, ${where},`];
  if (headline.problem !== null) {
    lines.push(`f could not be evaluated there even with the step divided by 64: ${headline.problem}`);
  } else {
    lines.push(
      `numerical: ${formatNumber(headline.numerical)}`,
      `analytical: ${formatNumber(headline.analytical)}`,
      describeTolerance(headline, settings),
    );
  }
  const axes = checks.filter((c) => c.along === 'axis');
  if (axes.length > 0 && headline.along !== 'axis') {
    const worstElements = axes
      .filter((c) => !c.passed)
      .sort(byRatio)
      .slice(0, 3);
    lines.push(
      worstElements.length === 0
        ? `no single element fails on its own (all ${axes.length} elements checked): the mismatch is spread over many elements`
        : `elements that fail on their own (worst first, of ${axes.filter((c) => !c.passed).length}): ` +
            worstElements
              .map((c) => `${c.position}: numerical ${formatNumber(c.numerical)}, analytical ${formatNumber(c.analytical)}`)
              .join('; '),
    );
  }
  lines.push(
    `(derivatives of Σ v·f, v a seeded random unit cotangent; central differences at relative steps ${headline.step} and ${headline.step / 2}, Richardson-extrapolated; ` +
      `replay with the same inputs and { seed: ${settings.seed} })`,
  );
  return lines.join('\n');
}

function describeTolerance(c: DirectionCheck, settings: Settings): string {
  return (
    `error ${formatNumber(c.error)} > tolerance ${formatNumber(c.tolerance)} = rtol ${settings.rtol}·‖g‖ ${formatNumber(c.gradientNorm)} + atol ${settings.atol}` +
    ` + noise ${formatNumber(c.noise)} + truncation ${formatNumber(c.truncation)}`
  );
}
