import * as tf from '@tensorflow/tfjs-core';
import type { CaseKind } from '../check/cases';
import type { CheckResult } from '../check/checkResult';
import { runVerifySuite } from '../check/verifySuite';
import { Command, integer, oneOf, switchOption, text, valueOption } from './args';
import { BackendName, KNOWN_BACKENDS, loadBackends, selectBackends } from './backends';
import { formatFixtureReport, runFixtureVerify } from './fixtures';
import { loadLoss } from './loadLoss';
import { formatRowsReport } from './report';
import { formatUserLossReport, KindsSource, runUserLossCheck } from './userLoss';

/** The options of `tfjs-loss-adapter verify`, one line each. */
const VERIFY_OPTIONS = {
  backend: valueOption(oneOf([...KNOWN_BACKENDS, 'all']), 'the backends (default: tfjs-node if it loads, else wasm, else cpu)'),
  seed: valueOption(integer(0, 2 ** 32 - 1), 'draws other cases (default 1)'),
  fixtures: valueOption(
    text('PATH', 'a fixture file or a directory of them'),
    'checks against PyTorch fixtures (a .json file or every one in a directory) recorded by fixture-script',
    { conflicts: ['seed', 'kinds'] },
  ),
  json: switchOption('prints the report as JSON'),
  loss: valueOption(text('PATH', 'the path of a module that exports a loss'), 'checks your own (input, target) => Tensor loss instead'),
  export: valueOption(text('NAME', 'the name of an export'), 'the export of the module that is the loss', { requires: 'loss' }),
  kinds: valueOption(
    oneOf(['binary', 'multiclass', 'all']),
    "the inputs to check the loss on; default: the module's 'kinds' export, else all",
    {
      requires: 'loss',
    },
  ),
};

/** `tfjs-loss-adapter verify`: the equivalence suite, or with `--loss` the checks of a user's loss. */
export const verifyCommand: Command<typeof VERIFY_OPTIONS> = {
  description: [
    'checks every loss and the binary-as-two-class identity against a float64 reference on the chosen backends;',
    'with --loss, gradchecks and leak-checks your loss on binary [N] and multiclass [N, C] inputs (a kind',
    "it throws on fails unless --kinds or the module's 'kinds' export leaves it out). With --fixtures, checks the",
    "function each fixture names (with --loss, your loss) against PyTorch's value and gradients. Exits 1 on any failure.",
  ].join('\n'),
  options: VERIFY_OPTIONS,
  async run(options, output) {
    const seed = options.seed ?? 1;
    const { available, unavailable } = await loadBackends();
    const backends = selectBackends(options.backend, available, unavailable);
    if (options.fixtures !== undefined) {
      const userLoss = options.loss === undefined ? undefined : { module: options.loss, ...(await loadLoss(options.loss, options.export)) };
      const report = await runFixtureVerify(options.fixtures, backends, unavailable, userLoss);
      output.out(options.json ? JSON.stringify(report, null, 2) : formatFixtureReport(report));
      return report.passed ? 0 : 1;
    }
    if (options.loss !== undefined) {
      const { name, loss, kinds: declared } = await loadLoss(options.loss, options.export);
      const [kinds, kindsFrom]: [CaseKind[], KindsSource] =
        options.kinds !== undefined
          ? [options.kinds === 'all' ? ['binary', 'multiclass'] : [options.kinds], '--kinds']
          : declared !== undefined
            ? [declared, 'the kinds export']
            : [['binary', 'multiclass'], 'default'];
      const run = await runUserLossCheck(`${options.loss} (${name})`, loss, backends, seed, kinds, kindsFrom);
      output.out(options.json ? JSON.stringify(run, null, 2) : formatUserLossReport(run));
      return run.passed ? 0 : 1;
    }
    const report = await runVerify(backends, seed, unavailable);
    output.out(options.json ? JSON.stringify(report, null, 2) : formatVerifyReport(report));
    return report.passed ? 0 : 1;
  },
};

export interface VerifyReport {
  seed: number;
  results: Array<CheckResult & { backend: BackendName }>;
  unavailable: Record<string, string>;
  passed: boolean;
}

/** Runs the suite on each backend in turn, with the time each took. */
export async function runVerify(backends: BackendName[], seed: number, unavailable: Record<string, string>): Promise<VerifyReport> {
  const results: VerifyReport['results'] = [];
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const result of runVerifySuite({ seed })) results.push({ backend, ...result });
  }
  return { seed, results, unavailable, passed: results.length > 0 && results.every((r) => r.passed) };
}

/** The report as a Markdown table, then the failures and the backends that could not load. */
export function formatVerifyReport(report: VerifyReport): string {
  return formatRowsReport(
    [
      `tfjs-loss-adapter verify (seed ${report.seed})`,
      'Errors are relative, |a - b| / (atol/rtol + |b|): a check passes when every error is at most rtol.',
      'Gradcheck rows give the worst |numerical - analytical| as a fraction of its tolerance.',
    ],
    report.results,
    report.results.filter((r) => !r.passed).map((r) => `FAIL [${r.backend}] ${r.check}: ${r.failure ?? 'see the errors above'}`),
    report.unavailable,
    report.passed ? 'verify: every check passed' : 'verify: some checks failed',
  );
}
