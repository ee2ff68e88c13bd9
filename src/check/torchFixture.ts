import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from '../core/errors';
import { formatShape } from '../core/tensors';
import { releaseAbandonedTape } from './abandonedTape';
import { ArrayComparison, compareArrays, describeElement, formatNumber, Tolerance } from './compare';
import { checkTolerance } from './equivalence';
import { readInTidy, Reads, runAsync, runSync } from './reads';

/**
 * The `format` of a fixture written by `python/record_fixture.py`.
 *
 * ```js
 * console.log(TORCH_FIXTURE_FORMAT); // => tfjs-loss-adapter/torch-fixture
 * ```
 */
export const TORCH_FIXTURE_FORMAT = 'tfjs-loss-adapter/torch-fixture';
/**
 * The version of the fixture format this library reads (docs/fixture-format.md).
 *
 * ```js
 * console.log(TORCH_FIXTURE_VERSION); // => 1
 * ```
 */
export const TORCH_FIXTURE_VERSION = 1;

/** A number in a fixture: NaN and the infinities are strings, since JSON cannot hold them. */
export type FixtureNumber = number | 'NaN' | 'Infinity' | '-Infinity';

/** A tensor in a fixture: PyTorch's dtype name, the shape, the values flat in row-major order. */
export interface FixtureTensor {
  dtype: string;
  shape: number[];
  values: Array<FixtureNumber | boolean>;
}

/** A keyword option of a recorded call, under this library's name. */
export type FixtureOption = FixtureNumber | string | boolean | null | FixtureTensor | FixtureOption[];

/** One recorded call. */
export interface TorchFixtureCase {
  name: string;
  /** The function to check: this library's name for it (`crossEntropy`), or the name recorded. */
  call: string;
  /** The PyTorch function recorded, e.g. `torch.nn.functional.cross_entropy`. */
  torchCall: string;
  /** `float64`: evaluated on float64 copies of the inputs; `as-given`: in their own dtypes. */
  precision: 'float64' | 'as-given';
  /** The positional arguments, named after the function's parameters. */
  inputs: Array<FixtureTensor & { name: string }>;
  options: Record<string, FixtureOption>;
  value: FixtureTensor;
  /** The upstream gradient of a non-scalar value; null for a scalar. */
  upstream: FixtureTensor | null;
  /** The gradient with respect to each input or tensor option that required grad, by its name. */
  gradients: Record<string, FixtureTensor>;
}

/** A fixture file (docs/fixture-format.md). */
export interface TorchFixture {
  format: typeof TORCH_FIXTURE_FORMAT;
  version: number;
  /** The version of PyTorch that recorded it. */
  torch: string;
  cases: TorchFixtureCase[];
}

/** A function checked against a fixture: called as `fn(...inputs, options)`, with tensor options as tensors. */
export type FixtureFunction = (...args: never[]) => tf.Tensor;

/** Options of `checkTorchFixture`: the tolerance of values (and of gradients, unless `gradient` says otherwise). */
export interface TorchFixtureOptions extends Tolerance {
  /** Tolerance for the gradients; default the value tolerance. */
  gradient?: Tolerance;
}

/**
 * The default tolerance against a fixture, for values and gradients: rtol 1e-5, atol 1e-6. float32 against
 * PyTorch's float64: what this library's losses meet on every fixture of its own, on every backend tested.
 *
 * ```js
 * console.log(TORCH_FIXTURE_TOLERANCE.rtol, TORCH_FIXTURE_TOLERANCE.atol); // => 0.00001 0.000001
 * ```
 */
export const TORCH_FIXTURE_TOLERANCE: Required<Tolerance> = { rtol: 1e-5, atol: 1e-6 };

/** One quantity of one case, tfjs (actual) against PyTorch (expected). */
export interface FixtureQuantity extends ArrayComparison {
  /** `value`, or `gradient of <input or option>`. */
  quantity: string;
  shape: number[];
  /** Whether both sides are identically 0. */
  vacuous: boolean;
}

/** The result of one case: each quantity compared, or why the case could not be compared. */
export interface FixtureCaseReport {
  name: string;
  call: string;
  passed: boolean;
  /** The value, then each recorded gradient: those compared before an error. */
  quantities: FixtureQuantity[];
  /** Why the case could not be compared (the function throws, cannot be differentiated, ...), or null. */
  error: string | null;
  /** One message per failing quantity, then the error. */
  failures: string[];
}

/** The result of `checkTorchFixture`. */
export interface TorchFixtureReport {
  passed: boolean;
  cases: FixtureCaseReport[];
  /** Largest |tfjs − PyTorch| over every value element of every case (Infinity for a non-finite mismatch). */
  maxValueError: number;
  /** The same over every gradient element. */
  maxGradientError: number;
  /** Whether every value and gradient, of both sides, is exactly 0 in every case: nothing was compared, and the check fails. */
  vacuous: boolean;
  /** Every failure, prefixed with its case. */
  failures: string[];
  summary: string;
}

const FN = 'checkTorchFixture';
const DTYPES: Record<string, 'float32' | 'int32' | 'bool'> = {
  float16: 'float32',
  bfloat16: 'float32',
  float32: 'float32',
  float64: 'float32',
  int8: 'int32',
  int16: 'int32',
  int32: 'int32',
  int64: 'int32',
  uint8: 'int32',
  bool: 'bool',
};

function describe(x: unknown): string {
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  return x === null ? 'null' : typeof x === 'object' ? 'an object' : (JSON.stringify(x) ?? typeof x);
}

function fail(argument: string, expected: string, actual: unknown): never {
  throw new LossInputError(FN, argument, expected, describe(actual));
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isFixtureNumber = (v: unknown) => typeof v === 'number' || v === 'NaN' || v === 'Infinity' || v === '-Infinity';

function checkTensor(t: unknown, argument: string): FixtureTensor {
  if (!isObject(t)) fail(argument, 'a tensor {dtype, shape, values}', t);
  if (typeof t.dtype !== 'string' || !(t.dtype in DTYPES)) fail(`${argument}.dtype`, `one of ${Object.keys(DTYPES).join(', ')}`, t.dtype);
  const shape = t.shape;
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0))
    fail(`${argument}.shape`, 'a list of sizes (integers ≥ 0)', shape);
  const size = shape.reduce((p: number, d: number) => p * d, 1);
  if (!Array.isArray(t.values) || t.values.length !== size)
    fail(`${argument}.values`, `${size} values for shape ${formatShape(shape)}`, t.values);
  const valid = t.dtype === 'bool' ? (v: unknown) => typeof v === 'boolean' : isFixtureNumber;
  const bad = t.values.findIndex((v) => !valid(v));
  if (bad >= 0)
    fail(`${argument}.values[${bad}]`, t.dtype === 'bool' ? 'true or false' : 'a number, "NaN", "Infinity" or "-Infinity"', t.values[bad]);
  if (DTYPES[t.dtype] === 'int32') {
    const outside = t.values.findIndex((v) => !Number.isInteger(v) || Math.abs(v as number) > 2 ** 31 - 1);
    if (outside >= 0) fail(`${argument}.values[${outside}]`, 'an integer in the int32 range', t.values[outside]);
  }
  return t as unknown as FixtureTensor;
}

const isTensorLike = (x: unknown) => isObject(x) && 'dtype' in x && 'shape' in x && 'values' in x;

function checkOption(option: unknown, argument: string): void {
  if (isTensorLike(option)) checkTensor(option, argument);
  else if (Array.isArray(option)) option.forEach((item, k) => checkOption(item, `${argument}[${k}]`));
  else if (!(option === null || ['number', 'string', 'boolean'].includes(typeof option)))
    fail(argument, 'a number, string, boolean, list or tensor', option);
}

function checkCase(c: unknown, argument: string): TorchFixtureCase {
  if (!isObject(c)) fail(argument, 'a case {name, call, inputs, options, value, upstream, gradients}', c);
  for (const key of ['name', 'call', 'torchCall'] as const) if (typeof c[key] !== 'string') fail(`${argument}.${key}`, 'a string', c[key]);
  if (c.precision !== 'float64' && c.precision !== 'as-given') fail(`${argument}.precision`, "'float64' or 'as-given'", c.precision);
  if (!Array.isArray(c.inputs)) fail(`${argument}.inputs`, 'a list of tensors', c.inputs);
  c.inputs.forEach((input, k) => {
    checkTensor(input, `${argument}.inputs[${k}]`);
    if (typeof input.name !== 'string') fail(`${argument}.inputs[${k}].name`, 'a string', input.name);
  });
  if (!isObject(c.options)) fail(`${argument}.options`, 'an object', c.options);
  for (const [key, option] of Object.entries(c.options)) checkOption(option, `${argument}.options.${key}`);
  const value = checkTensor(c.value, `${argument}.value`);
  if (c.upstream === null) {
    if (value.shape.length > 0) fail(`${argument}.upstream`, `a tensor of shape ${formatShape(value.shape)}, as the value`, null);
  } else if (!shapesEqual(checkTensor(c.upstream, `${argument}.upstream`).shape, value.shape)) {
    fail(`${argument}.upstream.shape`, `${formatShape(value.shape)}, the value's shape`, (c.upstream as FixtureTensor).shape);
  }
  if (!isObject(c.gradients)) fail(`${argument}.gradients`, 'an object', c.gradients);
  const inputs = c.inputs as TorchFixtureCase['inputs'];
  for (const [name, gradient] of Object.entries(c.gradients)) {
    const where = `${argument}.gradients.${name}`;
    const of =
      inputs.find((input) => input.name === name) ?? (isTensorLike(c.options[name]) ? (c.options[name] as FixtureTensor) : undefined);
    if (of === undefined) fail(where, `the gradient of an input or tensor option named '${name}'`, 'no such input or option');
    if (!shapesEqual(checkTensor(gradient, where).shape, of.shape))
      fail(`${where}.shape`, formatShape(of.shape), (gradient as FixtureTensor).shape);
  }
  return c as unknown as TorchFixtureCase;
}

function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, k) => d === b[k]);
}

/**
 * Checks that `json` (a parsed fixture file) is a fixture of a version this library reads, and returns
 * it typed. Throws a `LossInputError` naming the field at fault, what it must be and what it is.
 *
 * ```js
 * const { readFileSync } = await import('node:fs');
 * const fixture = parseTorchFixture(JSON.parse(readFileSync('examples/fixtures/cross-entropy.json', 'utf8')));
 * console.log(fixture.cases.length, fixture.cases[0].call, fixture.cases[0].torchCall); // => 1 crossEntropy torch.nn.functional.cross_entropy
 * try { parseTorchFixture({ ...fixture, version: 2 }); } catch (e) { console.log(e.argument); } // => fixture.version
 * ```
 */
export function parseTorchFixture(json: unknown, argument = 'fixture'): TorchFixture {
  if (!isObject(json) || json.format !== TORCH_FIXTURE_FORMAT)
    fail(`${argument}.format`, `'${TORCH_FIXTURE_FORMAT}' (a fixture recorded by record_fixture.py)`, isObject(json) ? json.format : json);
  if (json.version !== TORCH_FIXTURE_VERSION) {
    fail(`${argument}.version`, `${TORCH_FIXTURE_VERSION}, the fixture version this release of tfjs-loss-adapter reads`, json.version);
  }
  if (typeof json.torch !== 'string') fail(`${argument}.torch`, 'the version of PyTorch, a string', json.torch);
  if (!Array.isArray(json.cases) || json.cases.length === 0) fail(`${argument}.cases`, 'a non-empty list of cases', json.cases);
  const cases = json.cases.map((c, k) => checkCase(c, `${argument}.cases[${k}]`));
  const seen = new Set<string>();
  cases.forEach((c, k) => {
    if (seen.has(c.name)) fail(`${argument}.cases[${k}].name`, 'a name no other case has', c.name);
    seen.add(c.name);
  });
  return json as unknown as TorchFixture;
}

/**
 * The values of a fixture tensor as numbers: "NaN" -> NaN, true -> 1, ...
 *
 * ```js
 * console.log(fixtureValues({ dtype: 'float64', shape: [3], values: [1.5, 'NaN', '-Infinity'] }).join(', ')); // => 1.5, NaN, -Infinity
 * ```
 */
export function fixtureValues(t: FixtureTensor): number[] {
  return t.values.map((v) => (v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : Number(v)));
}

/**
 * A fixture tensor as a tfjs tensor: floating as float32, integers as int32, booleans as bool.
 *
 * ```js
 * const target = fixtureTensor({ dtype: 'int64', shape: [2], values: [0, 2] });
 * console.log(target.dtype, JSON.stringify(target.arraySync())); // => int32 [0,2]
 * ```
 */
export function fixtureTensor(t: FixtureTensor): tf.Tensor {
  return tf.tensor(fixtureValues(t), t.shape, DTYPES[t.dtype]);
}

function optionValue(option: FixtureOption): unknown {
  if (isTensorLike(option)) return fixtureTensor(option as FixtureTensor);
  if (Array.isArray(option)) return option.map(optionValue);
  return option === 'NaN' || option === 'Infinity' || option === '-Infinity'
    ? fixtureValues({ dtype: 'float64', shape: [], values: [option] })[0]
    : option;
}

/**
 * Checks a tfjs function against PyTorch fixtures (recorded by `python/record_fixture.py`), case by
 * case on the current backend: calls `fn(...inputs, options)` with the recorded inputs (floating as
 * float32, integers as int32) and options (tensors as tensors), and compares its value and its
 * gradients (`tf.grads`, with the recorded upstream gradient as `dy`) with PyTorch's, elementwise:
 * `|tfjs − PyTorch| ≤ atol + rtol·|PyTorch|`, where NaN matches only NaN and an infinity only the same
 * infinity. Default tolerance rtol 1e-5, atol 1e-6 (float32 against float64). The report gives, per case
 * and quantity, the largest error and the worst element with both values.
 *
 * A case whose function throws, returns no tensor, gives a value of another shape, or cannot be
 * differentiated with respect to a recorded gradient fails with the reason; so does a check whose two
 * sides are identically 0 in every case (vacuous).
 *
 * ```js
 * // Recorded by record("cross-entropy.json", F.cross_entropy, x, y, weight=w, label_smoothing=0.1)
 * const { readFileSync } = await import('node:fs');
 * const fixture = JSON.parse(readFileSync('examples/fixtures/cross-entropy.json', 'utf8'));
 * console.log(checkTorchFixture(crossEntropy, fixture).passed); // => true
 * // tf.losses.softmaxCrossEntropy has no class weights:
 * const tfjsLoss = (z, y, options) => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 4), z, undefined, options.labelSmoothing);
 * console.log(checkTorchFixture(tfjsLoss, fixture).failures[0].split(';')[0]); // => case 'crossEntropy 0': value differs in 1 of 1 element
 * ```
 */
export function checkTorchFixture(
  fn: FixtureFunction,
  fixture: TorchFixture | unknown,
  options: TorchFixtureOptions = {},
): TorchFixtureReport {
  return runSync(torchFixtureSteps(fn, fixture, options));
}

/**
 * `checkTorchFixture`, reading tensors only with `await data()`: the form for backends that must not be
 * read synchronously (webgpu), with the same report as `checkTorchFixture` wherever both run.
 *
 * ```js
 * const { readFileSync } = await import('node:fs');
 * const fixture = JSON.parse(readFileSync('examples/fixtures/bce-with-logits.json', 'utf8'));
 * const report = await checkTorchFixtureAsync(binaryCrossEntropyWithLogits, fixture);
 * console.log(report.passed, report.cases[0].quantities.map((q) => q.quantity).join(', ')); // => true value, gradient of input
 * ```
 */
export function checkTorchFixtureAsync(
  fn: FixtureFunction,
  fixture: TorchFixture | unknown,
  options: TorchFixtureOptions = {},
): Promise<TorchFixtureReport> {
  return runAsync(torchFixtureSteps(fn, fixture, options));
}

function* torchFixtureSteps(fn: FixtureFunction, json: unknown, options: TorchFixtureOptions): Reads<TorchFixtureReport> {
  if (typeof fn !== 'function') throw new LossInputError(FN, 'fn', 'a function (...inputs, options) => tf.Tensor', describe(fn));
  const fixture = parseTorchFixture(json);
  const valueTolerance = checkTolerance(options, 'options', FN, TORCH_FIXTURE_TOLERANCE);
  const gradientTolerance =
    options.gradient === undefined ? valueTolerance : checkTolerance(options.gradient, 'options.gradient', FN, TORCH_FIXTURE_TOLERANCE);
  const cases: FixtureCaseReport[] = [];
  for (const c of fixture.cases) cases.push(yield* runCase(fn, c, valueTolerance, gradientTolerance));
  const quantities = cases.flatMap((c) => c.quantities);
  const largest = (gradients: boolean) =>
    Math.max(0, ...quantities.filter((q) => (q.quantity !== 'value') === gradients).map((q) => q.maxError));
  const vacuous = cases.every((c) => c.error === null && c.quantities.every((q) => q.size === 0 || q.vacuous));
  const failures = cases.flatMap((c) => c.failures.map((f) => `case '${c.name}': ${f}`));
  if (vacuous) failures.push('vacuous: tfjs and PyTorch are both identically 0 (values and gradients) in every case; nothing was compared');
  const failed = cases.filter((c) => !c.passed).length;
  const errors = `max value error ${formatNumber(largest(false))}, max gradient error ${formatNumber(largest(true))}`;
  return {
    passed: failures.length === 0,
    cases,
    maxValueError: largest(false),
    maxGradientError: largest(true),
    vacuous,
    failures,
    summary:
      failures.length === 0
        ? `${cases.length === 1 ? 'the case matches' : `all ${cases.length} cases match`} PyTorch (${errors})`
        : `${failed || cases.length} of ${cases.length} cases fail (${errors}): ${failures[0]}`,
  };
}

/** The call of one case on fresh tensors, made inside the caller's tidy: `wrt` names the arguments to differentiate. */
function caseCall(fn: FixtureFunction, c: TorchFixtureCase): { call: (...wrt: tf.Tensor[]) => tf.Tensor; wrt: tf.Tensor[] } {
  const inputs = c.inputs.map(fixtureTensor);
  const options = Object.fromEntries(Object.entries(c.options).map(([key, option]) => [key, optionValue(option)]));
  const names = Object.keys(c.gradients);
  const wrt = names.map((name) => {
    const k = c.inputs.findIndex((input) => input.name === name);
    return (k >= 0 ? inputs[k] : options[name]) as tf.Tensor;
  });
  const call = (...xs: tf.Tensor[]) => {
    const args = inputs.slice();
    const opts = { ...options };
    names.forEach((name, w) => {
      const k = c.inputs.findIndex((input) => input.name === name);
      if (k >= 0) args[k] = xs[w];
      else opts[name] = xs[w];
    });
    return (fn as (...args: unknown[]) => tf.Tensor)(...args, opts);
  };
  return { call, wrt };
}

function* runCase(
  fn: FixtureFunction,
  c: TorchFixtureCase,
  valueTolerance: Required<Tolerance>,
  gradientTolerance: Required<Tolerance>,
): Reads<FixtureCaseReport> {
  const report = (error: string | null, quantities: FixtureQuantity[] = []): FixtureCaseReport => {
    const failures = quantities
      .filter((q) => !q.passed)
      .map((q) => describeQuantity(q, q.quantity === 'value' ? valueTolerance : gradientTolerance))
      .concat(error === null ? [] : [error]);
    return { name: c.name, call: c.call, passed: failures.length === 0, quantities, error, failures };
  };
  let value: { shape: number[]; values: ArrayLike<number> };
  try {
    const read = yield* readInTidy(() => {
      const { call, wrt } = caseCall(fn, c);
      const y: unknown = call(...wrt);
      if (!(y instanceof tf.Tensor)) return { problem: `returns ${describe(y)}, not a tf.Tensor`, read: [] };
      return { problem: null, shape: y.shape.slice(), read: [y] };
    });
    if (read.problem !== null) return report(`${c.call} ${read.problem}`);
    value = { shape: read.shape, values: read.values[0] };
  } catch (e) {
    return report(`${c.call} throws: ${(e as Error).message.split('\n')[0]}`);
  }
  if (!shapesEqual(value.shape, c.value.shape))
    return report(`value has shape ${formatShape(value.shape)}, PyTorch's has shape ${formatShape(c.value.shape)}`);
  const quantities = [compareQuantity('value', value.values, c.value, valueTolerance)];
  const names = Object.keys(c.gradients);
  if (names.length === 0) return report(null, quantities);
  let gradients: ArrayLike<number>[];
  try {
    ({ values: gradients } = yield* readInTidy(() => {
      const { call, wrt } = caseCall(fn, c);
      const dy = c.upstream === null ? undefined : fixtureTensor(c.upstream);
      return { read: tf.grads(call)(wrt, dy) };
    }));
  } catch (e) {
    releaseAbandonedTape();
    return report(
      `${c.call} cannot be differentiated with respect to ${names.join(', ')}: ${(e as Error).message.split('\n')[0]}`,
      quantities,
    );
  }
  names.forEach((name, w) => quantities.push(compareQuantity(`gradient of ${name}`, gradients[w], c.gradients[name], gradientTolerance)));
  return report(null, quantities);
}

function compareQuantity(
  quantity: string,
  actual: ArrayLike<number>,
  expected: FixtureTensor,
  tolerance: Required<Tolerance>,
): FixtureQuantity {
  const wanted = fixtureValues(expected);
  const isZero = (xs: ArrayLike<number>) => Array.prototype.every.call(xs, (x: number) => x === 0);
  return {
    quantity,
    shape: expected.shape,
    ...compareArrays(actual, wanted, expected.shape, tolerance),
    vacuous: isZero(actual) && isZero(wanted),
  };
}

function describeQuantity(q: FixtureQuantity, tolerance: Required<Tolerance>): string {
  const elements = `${q.mismatches} of ${q.size} element${q.size > 1 ? 's' : ''}`;
  return `${q.quantity} differs in ${elements}; worst ${q.worst === null ? '' : describeElement(q.worst, tolerance, 'tfjs', 'PyTorch')}`;
}
