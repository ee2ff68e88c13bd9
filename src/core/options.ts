import { LossInputError } from './errors';
import { describeValue, isTensor } from './tensors';

/** How per-element losses become the result, as PyTorch's `reduction`. */
export type Reduction = 'mean' | 'sum' | 'none';

const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

export function checkReduction(value: unknown, functionName: string): Reduction {
  return value === undefined ? 'mean' : checkOneOf(value, REDUCTIONS, functionName, 'options.reduction');
}

/**
 * `value` when it is one of `choices`, else a LossInputError listing them. `describe` says what was
 * given (default: an option's value, e.g. `"avg"`).
 */
export function checkOneOf<T extends string>(
  value: unknown,
  choices: readonly T[],
  functionName: string,
  argument: string,
  describe: (value: unknown) => string = describeOption,
): T {
  if ((choices as readonly unknown[]).includes(value)) return value as T;
  throw new LossInputError(functionName, argument, `one of ${choices.map((c) => `'${c}'`).join(', ')}`, describe(value));
}

/** An integer option such as `ignoreIndex`. */
export function checkInteger(value: unknown, defaultValue: number, functionName: string, argument: string): number {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new LossInputError(functionName, argument, 'an integer', describeOption(value));
  }
  return value;
}

/** A number option in `[low, high]`, such as `labelSmoothing`. */
export function checkInRange(
  value: unknown,
  defaultValue: number,
  low: number,
  high: number,
  functionName: string,
  argument: string,
): number {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'number' || !(value >= low && value <= high)) {
    throw new LossInputError(functionName, argument, `a number in [${low}, ${high}]`, describeOption(value));
  }
  return value;
}

/** A number option that `accepts` (NaN never does), such as the focal losses' `gamma`; `expected` says what is accepted. */
export function checkNumber(
  value: unknown,
  defaultValue: number,
  accepts: (value: number) => boolean,
  expected: string,
  functionName: string,
  argument: string,
): number {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'number' || Number.isNaN(value) || !accepts(value)) {
    throw new LossInputError(functionName, argument, expected, describeOption(value));
  }
  return value;
}

/** A true/false option such as `logTarget`. */
export function checkBoolean(value: unknown, defaultValue: boolean, functionName: string, argument: string): boolean {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'boolean') throw new LossInputError(functionName, argument, 'true or false', describeOption(value));
  return value;
}

/**
 * Requires `options` to be an object of named options (`undefined` is the default `{}`), and rejects
 * option names this function does not know, so that a typo such as `ignore_index`, or a reduction or
 * weight passed in the options' place (`crossEntropy(z, y, 'sum')`), is not silently ignored.
 */
export function checkOptionNames(options: unknown, known: readonly string[], functionName: string): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options) || isTensor(options)) {
    throw new LossInputError(functionName, 'options', `an object of named options (known: ${known.join(', ')})`, describeValue(options));
  }
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw new LossInputError(functionName, `options.${name}`, `one of the known options ${known.join(', ')}`, 'an unknown option');
    }
  }
}

/** An option's value as an error message shows it: numbers as written (NaN too), strings quoted. */
function describeOption(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  return describeValue(value);
}
