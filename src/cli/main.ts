#!/usr/bin/env node
import * as tf from '@tensorflow/tfjs-core';
import { Command, OptionTable, Output, parseCommandLine, UsageError } from './args';
import { benchCommand } from './bench';
import { fixtureScriptCommand } from './fixtureScript';
import { verifyCommand } from './verify';

const COMMANDS: Record<string, Command<OptionTable>> = {
  verify: verifyCommand,
  bench: benchCommand,
  'fixture-script': fixtureScriptCommand,
};

/**
 * Runs `tfjs-loss-adapter <command> [options]` and gives its exit code: the command's own (0, or 1 when
 * a check fails), 0 for the usage asked for with --help, and 2 for a mistake on the command line (the
 * reason on one line, then the usage) or a command that could not start (a loss module or backend
 * that does not load).
 */
export async function main(argv: readonly string[], output: Output): Promise<number> {
  try {
    const invocation = parseCommandLine(argv, COMMANDS);
    if (invocation.help !== undefined) {
      output.out(invocation.help);
      return 0;
    }
    tf.enableProdMode();
    return await invocation.command.run(invocation.options, output);
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`tfjs-loss-adapter: ${error.message}\n\n${error.usage}`);
    } else {
      // Duck-typed: an error from a user's module may come from another realm (e.g. Jest's sandbox).
      const message = typeof (error as Error | undefined)?.message === 'string' ? (error as Error).message : String(error);
      output.err(`tfjs-loss-adapter: ${message.split('\n')[0]}`);
    }
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), { out: (text) => console.log(text), err: (text) => console.error(text) }).then((code) => process.exit(code));
}
