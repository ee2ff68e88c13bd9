import * as fs from 'fs';
import * as path from 'path';

/**
 * The PyTorch golden fixtures written by tools/generate_fixtures.py: reading them, decoding their
 * numbers ("NaN", "Infinity", "-Infinity" are strings in JSON), and comparing results with them.
 */

/** The losses with a fixture file `__tests__/fixtures/<loss>.json`. */
export const FIXTURE_LOSSES = [
  'binaryCrossEntropy',
  'binaryCrossEntropyWithLogits',
  'crossEntropy',
  'nllLoss',
  'sigmoidFocalLoss',
  'softmaxFocalLoss',
  'klDivergence',
] as const;
export type FixtureLoss = (typeof FIXTURE_LOSSES)[number];

type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity';

export interface FixtureTensor {
  shape: number[];
  values: JsonNumber[];
}

export interface FixtureCase {
  name: string;
  /** float32 numbers, stored in their shortest decimal form. */
  input: FixtureTensor;
  target: FixtureTensor & { dtype: 'int32' | 'float32' };
  /** The library's options; `weight` and `posWeight` are tensors. */
  options: { [option: string]: number | string | FixtureTensor };
  /** The cotangent of a 'none' loss (float32); null for 'mean' and 'sum'. */
  upstream: FixtureTensor | null;
  /** PyTorch's float64 results. */
  value: FixtureTensor;
  grad: { input: FixtureTensor; target: FixtureTensor | null };
}

export interface FixtureFile {
  generator: string;
  torch: string;
  cases: FixtureCase[];
}

export function loadFixtures(loss: FixtureLoss): FixtureFile {
  const file = path.join(__dirname, '..', 'fixtures', `${loss}.json`);
  return JSON.parse(fs.readFileSync(file, 'utf8')) as FixtureFile;
}

export function decodeNumber(v: JsonNumber): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new Error(`fixture: not a number: ${JSON.stringify(v)}`);
}

/** The float32 numbers of an input, target, weight or upstream, exactly as PyTorch used them. */
export function float32Values(t: FixtureTensor): Float32Array {
  return Float32Array.from(t.values, decodeNumber);
}

/** PyTorch's float64 results. */
export function float64Values(t: FixtureTensor): Float64Array {
  return Float64Array.from(t.values, decodeNumber);
}

/** Target values in the target's own dtype: class indices as int32, probabilities and labels as float32. */
export function targetValues(target: FixtureCase['target']): Int32Array | Float32Array {
  return target.dtype === 'int32' ? Int32Array.from(target.values, decodeNumber) : float32Values(target);
}

export function isFixtureTensor(option: unknown): option is FixtureTensor {
  return typeof option === 'object' && option !== null && 'shape' in option && 'values' in option;
}

/** The case's options with each tensor option (weight, posWeight) made by `makeTensor`. */
export function mapTensorOptions<T>(
  options: FixtureCase['options'],
  makeTensor: (t: FixtureTensor) => T,
): { [option: string]: number | string | T } {
  const out: { [option: string]: number | string | T } = {};
  for (const [name, option] of Object.entries(options)) out[name] = isFixtureTensor(option) ? makeTensor(option) : option;
  return out;
}

export interface Closeness {
  pass: boolean;
  /** Empty when `pass`; else what differs, with the worst element. */
  message: string;
}

/**
 * Elementwise `|actual - expected| <= atol + rtol·|expected|`, where NaN matches only NaN and an
 * infinity only the same infinity. On failure the message names the worst element: the one furthest
 * outside its tolerance, a NaN or infinity mismatch first.
 */
export function closeTo(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number): Closeness {
  if (actual.length !== expected.length) {
    return { pass: false, message: `${actual.length} values, expected ${expected.length}` };
  }
  let worst = -1;
  let worstExcess = 0;
  let failures = 0;
  for (let k = 0; k < expected.length; k++) {
    const a = actual[k];
    const e = expected[k];
    let excess: number;
    if (Number.isNaN(e) || !Number.isFinite(e) || !Number.isFinite(a)) {
      excess = Object.is(a, e) || a === e ? 0 : Infinity;
    } else {
      excess = Math.abs(a - e) / (atol + rtol * Math.abs(e));
      if (excess <= 1) excess = 0;
    }
    if (excess > 0) failures++;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = k;
    }
  }
  if (failures === 0) return { pass: true, message: '' };
  const a = actual[worst];
  const e = expected[worst];
  const error = Math.abs(a - e);
  return {
    pass: false,
    message:
      `${failures} of ${expected.length} values differ; worst at flat index ${worst}: actual ${a}, expected ${e}, ` +
      `|error| ${error}, relative ${error / Math.abs(e)}, tolerance ${atol} + ${rtol}·|expected|`,
  };
}
