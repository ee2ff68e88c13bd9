#!/usr/bin/env node
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from './args';
import { loadBackends, selectBackends } from './backends';
import { formatBenchReport, runBench } from './bench';
import { loadLoss } from './loadLoss';
import { formatUserLossReport, runUserLossCheck } from './userLoss';
import { formatVerifyReport, runVerify } from './verify';

const USAGE = `usage:
  tfjs-loss-adapter verify [--backend tensorflow|wasm|cpu|all] [--seed N] [--json]
      checks every loss and the binary-as-two-class identity against a float64 reference, on the
      chosen backends (default: tfjs-node if it loads, else wasm, else cpu); exits 1 on any failure.
  tfjs-loss-adapter verify --loss ./my-loss.js [--export NAME] [--backend ...] [--seed N] [--json]
      gradchecks and leak-checks your own (input, target) => Tensor loss instead, on binary [N] and
      multiclass [N, C] cases (whichever it accepts); exits 1 with the problem named on any failure.
  tfjs-loss-adapter bench [--backend ...] [--quick] [--only CASE] [--json]
      times forward + backward against the tfjs built-ins and tfjs-layers (and PyTorch 1 thread when
      /usr/bin/python3 has torch), on every available backend unless --backend says otherwise.`;

async function main(argv: string[]): Promise<number> {
  const { command, flags } = parseArgs(argv, ['json', 'help', 'quick']);
  if (flags.help || command === undefined) {
    console.log(USAGE);
    return command === undefined && !flags.help ? 2 : 0;
  }
  tf.enableProdMode();
  const { available, unavailable } = await loadBackends();
  const backends = selectBackends(flags.backend === true ? undefined : flags.backend, available, unavailable);
  if (command === 'verify') {
    const seed = Number(flags.seed ?? 1);
    if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed must be a non-negative integer, got '${flags.seed}'`);
    if (typeof flags.loss === 'string') {
      const { name, loss } = await loadLoss(flags.loss, typeof flags.export === 'string' ? flags.export : undefined);
      const report = await runUserLossCheck(`${flags.loss} (${name})`, loss, backends, seed);
      console.log(flags.json ? JSON.stringify(report, null, 2) : formatUserLossReport(report));
      return report.passed ? 0 : 1;
    }
    const report = await runVerify(backends, seed, unavailable);
    console.log(flags.json ? JSON.stringify(report, null, 2) : formatVerifyReport(report));
    return report.passed ? 0 : 1;
  }
  if (command === 'bench') {
    const report = await runBench({
      backends: flags.backend === undefined ? available : backends,
      quick: flags.quick === true,
      only: typeof flags.only === 'string' ? flags.only : undefined,
      log: (line) => console.error(line),
    });
    console.log(flags.json ? JSON.stringify(report, null, 2) : formatBenchReport(report));
    return 0;
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
