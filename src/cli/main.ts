#!/usr/bin/env node
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from './args';
import { loadBackends, selectBackends } from './backends';
import { formatVerifyReport, runVerify } from './verify';

const USAGE = `usage:
  tfjs-loss-adapter verify [--backend tensorflow|wasm|cpu|all] [--seed N] [--json]
      checks every loss and the binary-as-two-class identity against a float64 reference, on the
      chosen backends (default: tfjs-node if it loads, else wasm, else cpu); exits 1 on any failure.
  tfjs-loss-adapter bench [--backend ...] [--json]
      times forward + backward against the tfjs built-ins (and PyTorch when /usr/bin/python3 has torch).`;

async function main(argv: string[]): Promise<number> {
  const { command, flags } = parseArgs(argv, ['json', 'help']);
  if (flags.help || command === undefined) {
    console.log(USAGE);
    return command === undefined && !flags.help ? 2 : 0;
  }
  tf.enableProdMode();
  const { available, unavailable } = await loadBackends();
  const backends = selectBackends(flags.backend === true ? undefined : flags.backend, available, unavailable);
  if (command === 'verify') {
    const seed = Number(flags.seed ?? 1);
    if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got '${flags.seed}'`);
    const report = await runVerify(backends, seed, unavailable);
    console.log(flags.json ? JSON.stringify(report, null, 2) : formatVerifyReport(report));
    return report.passed ? 0 : 1;
  }
  throw new Error(`unknown command '${command}'\n${USAGE}`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`tfjs-loss-adapter: ${error.message}`);
    process.exit(2);
  },
);
