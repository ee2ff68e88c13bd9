import { LossInputError } from './errors';
import { describeValue, isTensor, TensorInput } from './tensors';

/** How per-element losses become the result, as PyTorch's `reduction`. */
export type Reduction = 'mean' | 'sum' | 'none';

const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

/**
 * One option of a loss, declared: its type, the values it accepts, its default. Every public entry
 * (the losses, their modules, `classificationLoss`, the layers losses) reads its options through a
 * `Schema` of these with `parseOptions`, once, before any tensor is made; the code behind the entry
 * takes the parsed values and checks no option again. The option's documentation is the doc comment
 * of its field in the entry's options interface, which `Schema<Options>` ties to the rules by name.
 */
export type OptionRule<T> =
  | { readonly type: 'integer'; readonly default: T }
  | {
      readonly type: 'number';
      readonly default: T;
      readonly min?: number;
      readonly max?: number;
      readonly finite?: boolean;
      readonly note?: string;
    }
  | { readonly type: 'choice'; readonly default: T; readonly choices: readonly string[] }
  | { readonly type: 'boolean'; readonly default: T }
  /** A tensor or array, converted (and its shape checked) where the loss knows the shape it needs. */
  | { readonly type: 'tensor'; readonly default: T };

/**
 * The rules of an entry's options: one per field of its options interface `Options`, no more, no less.
 * Declare a schema `{...} satisfies Schema<Options>`, so that `Parsed` keeps each rule's type.
 */
export type Schema<Options> = { readonly [K in keyof Required<Options>]: OptionRule<unknown> };

/** The options of an entry after `parseOptions`: every field present, of the type its rule gives. */
export type Parsed<S> = { readonly [K in keyof S]: S[K] extends OptionRule<infer T> ? T : never };

/** An integer option such as `ignoreIndex`. */
export function integerOption(defaultValue: number): OptionRule<number> {
  return { type: 'integer', default: defaultValue };
}

/** The values a number option accepts: `[min, max]` (either may be left open), finite if `finite`; `note` explains them in errors. */
export interface NumberRange {
  min?: number;
  max?: number;
  finite?: boolean;
  note?: string;
}

/** A number option such as `labelSmoothing`; with the default `undefined`, an option that is absent unless given. */
export function numberOption(defaultValue: number, range: NumberRange): OptionRule<number>;
export function numberOption(defaultValue: undefined, range: NumberRange): OptionRule<number | undefined>;
export function numberOption(defaultValue: number | undefined, range: NumberRange): OptionRule<number | undefined> {
  return { type: 'number', default: defaultValue, ...range };
}

/** A string option with a fixed set of values, such as `reduction`. */
export function choiceOption<T extends string>(choices: readonly T[], defaultValue: T): OptionRule<T> {
  return { type: 'choice', default: defaultValue, choices };
}

/** A true/false option such as `logTarget`. */
export function booleanOption(defaultValue: boolean): OptionRule<boolean> {
  return { type: 'boolean', default: defaultValue };
}

/** A tensor option such as `weight`: passed through to the loss, which converts it and checks its shape. */
export function tensorOption(): OptionRule<TensorInput | undefined> {
  return { type: 'tensor', default: undefined };
}

/** The rules every loss shares. An entry with another default uses the rule with `default` replaced. */
export const OPTION = {
  reduction: choiceOption(REDUCTIONS, 'mean'),
  weight: tensorOption(),
  posWeight: tensorOption(),
  ignoreIndex: integerOption(-100),
  labelSmoothing: numberOption(0, { min: 0, max: 1 }),
  classAxis: integerOption(1),
  gamma: numberOption(2, { min: 0, finite: true }),
  alpha: numberOption(0.25, { max: 1, note: 'a negative alpha turns the weighting off' }),
} as const;

/** `rule` with another default, e.g. torchvision's `reduction: 'none'` or the layers losses' channels-last `classAxis: -1`. */
export function withDefault<T>(rule: OptionRule<T>, defaultValue: T): OptionRule<T> {
  return { ...rule, default: defaultValue };
}

/**
 * Reads `options` (`undefined` is `{}`) by `schema`: rejects anything but an object of known options,
 * then parses each option by its rule, naming it (`options.<name>`) under `functionName` in any error,
 * and fills in the defaults. This is the only place options are checked.
 */
export function parseOptions<S extends Record<string, OptionRule<unknown>>>(schema: S, options: unknown, functionName: string): Parsed<S> {
  const known = Object.keys(schema);
  checkOptionNames(options, known, functionName);
  const values = (options ?? {}) as Record<string, unknown>;
  const parsed: Record<string, unknown> = {};
  for (const name of known) parsed[name] = parseOption(schema[name], values[name], functionName, `options.${name}`);
  return parsed as Parsed<S>;
}

function parseOption(rule: OptionRule<unknown>, value: unknown, functionName: string, argument: string): unknown {
  if (value === undefined) return rule.default;
  const fail = (expected: string): never => {
    throw new LossInputError(functionName, argument, expected, describeOption(value));
  };
  switch (rule.type) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) fail('an integer');
      break;
    case 'number':
      if (typeof value !== 'number' || !inRange(value, rule)) fail(describeRange(rule));
      break;
    case 'choice':
      // Listed with the default first: 'none', 'mean', 'sum' for torchvision's sigmoid focal loss.
      if (!rule.choices.includes(value as string))
        fail(describeChoices([rule.default as string, ...rule.choices.filter((c) => c !== rule.default)]));
      break;
    case 'boolean':
      if (typeof value !== 'boolean') fail('true or false');
      break;
    case 'tensor':
      break;
  }
  return value;
}

type NumberRule = Extract<OptionRule<unknown>, { type: 'number' }>;

function inRange(value: number, rule: NumberRule): boolean {
  if (Number.isNaN(value) || (rule.finite && !Number.isFinite(value))) return false;
  return (rule.min === undefined || value >= rule.min) && (rule.max === undefined || value <= rule.max);
}

/** 'a number in [0, 1]', 'a finite number >= 0', 'a number <= 1 (note)', 'a finite number'. */
function describeRange(rule: NumberRule): string {
  const number = rule.finite ? 'a finite number' : 'a number';
  const range =
    rule.min !== undefined && rule.max !== undefined
      ? ` in [${rule.min}, ${rule.max}]`
      : rule.min !== undefined
        ? ` >= ${rule.min}`
        : rule.max !== undefined
          ? ` <= ${rule.max}`
          : '';
  return number + range + (rule.note === undefined ? '' : ` (${rule.note})`);
}

/**
 * `value` when it is one of `choices`, else a LossInputError listing them. `describe` says what was
 * given (default: an option's value, e.g. `"avg"`). For arguments that are not options, such as
 * `setValidation`'s mode.
 */
export function checkOneOf<T extends string>(
  value: unknown,
  choices: readonly T[],
  functionName: string,
  argument: string,
  describe: (value: unknown) => string = describeOption,
): T {
  if ((choices as readonly unknown[]).includes(value)) return value as T;
  throw new LossInputError(functionName, argument, describeChoices(choices), describe(value));
}

function describeChoices(choices: readonly string[]): string {
  return `one of ${choices.map((c) => `'${c}'`).join(', ')}`;
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
