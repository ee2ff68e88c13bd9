import { LossInputError } from './errors';

/** How per-element losses become the result, as PyTorch's `reduction`. */
export type Reduction = 'mean' | 'sum' | 'none';

const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

export function checkReduction(value: unknown, functionName: string): Reduction {
  if (value === undefined) return 'mean';
  if (typeof value === 'string' && (REDUCTIONS as readonly string[]).includes(value)) return value as Reduction;
  throw new LossInputError(functionName, 'options.reduction', `one of ${REDUCTIONS.map((r) => `'${r}'`).join(', ')}`, JSON.stringify(value) ?? String(value));
}

/** An integer option such as `ignoreIndex`. */
export function checkInteger(value: unknown, defaultValue: number, functionName: string, argument: string): number {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new LossInputError(functionName, argument, 'an integer', JSON.stringify(value) ?? String(value));
  }
  return value;
}

/** A number option in `[low, high]`, such as `labelSmoothing`. */
export function checkInRange(value: unknown, defaultValue: number, low: number, high: number, functionName: string, argument: string): number {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'number' || !(value >= low && value <= high)) {
    throw new LossInputError(functionName, argument, `a number in [${low}, ${high}]`, JSON.stringify(value) ?? String(value));
  }
  return value;
}

/** Rejects option names this function does not know, so a typo such as `ignore_index` is not silently ignored. */
export function checkOptionNames(options: object, known: readonly string[], functionName: string): void {
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw new LossInputError(functionName, `options.${name}`, `one of the known options ${known.join(', ')}`, 'an unknown option');
    }
  }
}
