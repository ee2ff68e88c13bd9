/** The parsed command line: `tfjs-loss-adapter <command> [--flag value | --switch]...`. */
export interface ParsedArgs {
  command: string | undefined;
  flags: Record<string, string | true>;
}

/** Parses `--name value` and `--name=value` flags; a flag listed in `switches` takes no value. */
export function parseArgs(argv: string[], switches: readonly string[]): ParsedArgs {
  const flags: Record<string, string | true> = {};
  let command: string | undefined;
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k];
    if (!arg.startsWith('--')) {
      if (command !== undefined) throw new Error(`unexpected argument '${arg}'`);
      command = arg;
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (switches.includes(name)) {
      flags[name] = true;
    } else if (inline !== undefined) {
      flags[name] = inline;
    } else if (k + 1 < argv.length && !argv[k + 1].startsWith('--')) {
      flags[name] = argv[++k];
    } else {
      throw new Error(`--${name} needs a value`);
    }
  }
  return { command, flags };
}
