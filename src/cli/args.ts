/**
 * The command line, declared: each command has one table of options (a switch, or an option that takes
 * a value and the parser of that value), and `parseCommandLine` refuses everything the tables do not
 * allow, with a `UsageError` the bin turns into exit code 2, the reason and the usage. A new option is
 * one line in its command's table.
 */

/** What an option's value must be: its placeholder in the usage, what the error says is expected, and its parser. */
export interface ValueType<T> {
  /** e.g. `N`, `PATH`, `tensorflow|wasm|cpu|all`. */
  placeholder: string;
  /** e.g. `an integer in [0, 4294967295]`, completing "--seed must be ...". */
  expected: string;
  /** The value, or undefined when `raw` is not one. */
  parse(raw: string): T | undefined;
}

/** An option of a command: a switch (`--json`), or an option with a value (`--seed N`). */
export interface OptionSpec {
  /** What its value must be; absent for a switch. */
  value?: ValueType<unknown>;
  /** One line for the usage. */
  help: string;
  /** Another option of the command without which this one means nothing (e.g. `--kinds` needs `--loss`). */
  requires?: string;
  /** Options of the command that mean nothing with this one (e.g. `--seed` with `--fixtures`). */
  conflicts?: readonly string[];
}

/** An option with a value of type T. */
export interface ValueOptionSpec<T> extends OptionSpec {
  value: ValueType<T>;
}

export type OptionTable = Record<string, OptionSpec>;

/** The options given: a switch is `true`, an option with a value is its parsed value, an absent one is undefined. */
export type ParsedOptions<Table extends OptionTable> = {
  [Name in keyof Table]?: Table[Name] extends ValueOptionSpec<infer T> ? T : true;
};

/** Something the process writes to: the bin's stdout and stderr, or a test's buffers. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** A command: what it does (for the usage), its options, and what it runs with them (its exit code). */
export interface Command<Table extends OptionTable> {
  description: string;
  options: Table;
  run(options: ParsedOptions<Table>, output: Output): Promise<number>;
}

/** A mistake on the command line: the bin prints `message` (one line) and the usage, and exits 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The usage to print: the command's, or every command's when the command is unknown. */
    readonly usage: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

/** What an option may say about the others: the one it requires, those it conflicts with. */
type OptionRelations = Pick<OptionSpec, 'requires' | 'conflicts'>;

/** A switch: `--name`, no value. */
export function switchOption(help: string, extra: OptionRelations = {}): OptionSpec {
  return { help, ...extra };
}

/** An option with a value: `--name VALUE` or `--name=VALUE`. */
export function valueOption<T>(value: ValueType<T>, help: string, extra: OptionRelations = {}): ValueOptionSpec<T> {
  return { value, help, ...extra };
}

/** An integer in [min, max], written in decimal digits (no sign, exponent, hex or blanks). */
export function integer(min: number, max: number): ValueType<number> {
  return {
    placeholder: 'N',
    expected: `an integer in [${min}, ${max}]`,
    parse: (raw) => {
      if (!/^\d+$/.test(raw)) return undefined;
      const n = Number(raw);
      return n >= min && n <= max ? n : undefined;
    },
  };
}

/** One of a few words. */
export function oneOf<const Choice extends string>(choices: readonly Choice[]): ValueType<Choice> {
  return {
    placeholder: choices.join('|'),
    expected: `one of ${choices.join(', ')}`,
    parse: (raw) => choices.find((choice) => choice === raw),
  };
}

/** Any non-empty text, e.g. a path. */
export function text(placeholder: string, expected: string): ValueType<string> {
  return { placeholder, expected, parse: (raw) => (raw === '' ? undefined : raw) };
}

const BIN = 'tfjs-loss-adapter';

function synopsis(name: string, options: OptionTable): string {
  const parts = Object.entries(options).map(([option, spec]) => `[--${option}${spec.value ? ` ${spec.value.placeholder}` : ''}]`);
  return [`${BIN} ${name}`, ...parts].join(' ');
}

/** The usage of one command: its synopsis, what it does, and one line per option. */
export function commandUsage(name: string, command: Command<OptionTable>): string {
  const rows = Object.entries(command.options).map(([option, spec]) => [
    `--${option}${spec.value ? ` ${spec.value.placeholder}` : ''}`,
    spec.help +
      (spec.requires ? ` (with --${spec.requires})` : '') +
      (spec.conflicts ? ` (not with ${spec.conflicts.map((o) => `--${o}`).join(', ')})` : ''),
  ]);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `  ${synopsis(name, command.options)}`,
    ...command.description.split('\n').map((line) => `      ${line}`),
    ...rows.map(([left, help]) => `      ${left.padEnd(width)}  ${help}`),
  ].join('\n');
}

/** The usage of every command. */
export function usage(commands: Record<string, Command<OptionTable>>): string {
  return `usage:\n${Object.entries(commands)
    .map(([name, command]) => commandUsage(name, command))
    .join('\n\n')}\n\n  ${BIN} <command> --help prints one command's usage.`;
}

/** Levenshtein distance, to suggest the option or command that was probably meant. */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length];
}

function didYouMean(given: string, known: readonly string[], prefix: string): string {
  const close = known.filter((name) => distance(given, name) <= Math.max(1, Math.floor(name.length / 3)));
  return close.length === 0 ? '' : ` (did you mean ${close.map((name) => `${prefix}${name}`).join(' or ')}?)`;
}

/** What the command line asks for: help (the usage, exit 0), or a command and its options. */
export type Invocation =
  { help: string } | { help?: undefined; name: string; command: Command<OptionTable>; options: ParsedOptions<OptionTable> };

/**
 * Parses `<command> [--option value | --option=value | --switch]...` against the commands' option
 * tables. `--help` or `-h` anywhere, or `help` as the command, asks for the usage. Throws a
 * `UsageError` for a missing or unknown command, an argument that is not an option, an unknown
 * option, an option given twice, a switch given a value, an option without its value or with a
 * malformed one, an option given without the one it requires, and one given with an option it conflicts with.
 */
export function parseCommandLine(argv: readonly string[], commands: Record<string, Command<OptionTable>>): Invocation {
  const everything = usage(commands);
  const [name, ...rest] = argv;
  if (name === undefined) throw new UsageError('no command given', everything);
  if (name === 'help' || name === '--help' || name === '-h') return { help: everything };
  const command = Object.prototype.hasOwnProperty.call(commands, name) ? commands[name] : undefined;
  if (command === undefined) {
    const names = Object.keys(commands);
    throw new UsageError(`the command must be one of ${names.join(', ')}, got '${name}'${didYouMean(name, names, '')}`, everything);
  }
  const commandHelp = `usage:\n${commandUsage(name, command)}`;
  if (rest.includes('--help') || rest.includes('-h')) return { help: commandHelp };
  // Typed explicitly, so that TypeScript knows the code after a call is unreachable.
  const fail: (message: string) => never = (message) => {
    throw new UsageError(message, commandHelp);
  };
  const known = Object.keys(command.options);
  const options: Record<string, unknown> = {};
  for (let k = 0; k < rest.length; k++) {
    const arg = rest[k];
    if (!arg.startsWith('--'))
      fail(`unexpected argument '${arg}': ${name} takes only --options (${known.map((o) => `--${o}`).join(', ')})`);
    const [option, inline] = arg.slice(2).split(/=(.*)/s, 2);
    const spec = Object.prototype.hasOwnProperty.call(command.options, option) ? command.options[option] : undefined;
    if (spec === undefined) {
      fail(
        `unknown option '--${option}' for ${name}${didYouMean(option, known, '--')}; its options are ${known.map((o) => `--${o}`).join(', ')}`,
      );
    }
    if (options[option] !== undefined) fail(`--${option} is given twice`);
    if (spec.value === undefined) {
      if (inline !== undefined) fail(`--${option} is a switch and takes no value, got '${arg}'`);
      options[option] = true;
      continue;
    }
    const raw = inline ?? rest[++k];
    if (raw === undefined) fail(`--${option} needs a value (${spec.value.placeholder}), got nothing`);
    if (inline === undefined && raw.startsWith('--'))
      fail(`--${option} needs a value (${spec.value.placeholder}), got the option '${raw}'`);
    const value = spec.value.parse(raw);
    if (value === undefined) fail(`--${option} must be ${spec.value.expected}, got '${raw}'`);
    options[option] = value;
  }
  for (const [option, spec] of Object.entries(command.options)) {
    if (options[option] !== undefined && spec.requires !== undefined && options[spec.requires] === undefined)
      fail(`--${option} only applies with --${spec.requires}, which is not given`);
    const conflicting = options[option] === undefined ? undefined : spec.conflicts?.find((other) => options[other] !== undefined);
    if (conflicting !== undefined) fail(`--${conflicting} does not apply with --${option}`);
  }
  return { name, command, options: options as ParsedOptions<OptionTable> };
}
