import * as tf from '@tensorflow/tfjs-core';
import { readdirSync, statSync } from 'fs';
import { join } from 'path';
import { CheckAccumulator, CheckResult, describeTolerance, relativeError } from '../check/checkResult';
import {
  checkTorchFixture,
  FixtureCaseReport,
  FixtureFunction,
  TORCH_FIXTURE_TOLERANCE,
  TorchFixture,
  TorchFixtureReport,
} from '../check/torchFixture';
import { readTorchFixture } from '../check/torchFixtureFile';
import { binaryCrossEntropy } from '../losses/binaryCrossEntropy';
import { binaryCrossEntropyWithLogits } from '../losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../losses/crossEntropy';
import { klDivergence } from '../losses/klDivergence';
import { nllLoss } from '../losses/nllLoss';
import { sigmoidFocalLoss } from '../losses/sigmoidFocalLoss';
import { softmaxFocalLoss } from '../losses/softmaxFocalLoss';
import type { BackendName } from './backends';
import { formatRowsReport } from './report';

/** The library's losses a fixture may name as its `call`. */
export const LIBRARY_LOSSES = {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  nllLoss,
  sigmoidFocalLoss,
  softmaxFocalLoss,
  klDivergence,
} satisfies Record<string, FixtureFunction>;

/** The name of a loss of `LIBRARY_LOSSES`. */
export type LibraryLoss = keyof typeof LIBRARY_LOSSES;

/** One row of `verify --fixtures`: the cases of one function in one file, on one backend, and their report. */
export interface FixtureRow extends CheckResult {
  backend: BackendName;
  file: string;
  /** The function checked: the fixture's `call`, or the user's loss. */
  call: string;
  /** Every failure of the row, one line each. */
  failures: string[];
  /** The report of `checkTorchFixture`, when the fixture could be read and the function found. */
  report?: TorchFixtureReport;
}

export interface FixtureVerifyReport {
  fixtures: string;
  /** The module of the user's loss checked against every fixture (`--loss`), or null for the library's own functions. */
  loss: string | null;
  results: FixtureRow[];
  unavailable: Record<string, string>;
  passed: boolean;
}

/** A user's loss given with `--loss`: the module, the export's name, and the function. */
export interface UserFixtureLoss {
  module: string;
  name: string;
  loss: FixtureFunction;
}

/** The fixture files at `path`: the file itself, or every `.json` file of the directory (not below it). */
export function fixtureFiles(path: string): string[] {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    throw new Error(`--fixtures ${path}: no such file or directory`);
  }
  if (!isDirectory) return [path];
  const files = readdirSync(path)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name) => join(path, name));
  if (files.length === 0) throw new Error(`--fixtures ${path}: the directory holds no .json file`);
  return files;
}

const TOLERANCE = TORCH_FIXTURE_TOLERANCE;

/** A row that compared nothing: the fixture could not be read, or names no function to check. */
function failedRow(backend: BackendName, file: string, call: string, failure: string): FixtureRow {
  const row = new CheckAccumulator(`${file} ${call}`.trim(), describeTolerance(TOLERANCE), true).done();
  return { ...row, backend, file, call, passed: false, failure, failures: [failure] };
}

/** One case as a row's outcome: its largest relative errors, vacuity and first failure. */
function caseOutcome(c: FixtureCaseReport) {
  const errorOf = (gradients: boolean) =>
    Math.max(0, ...c.quantities.filter((q) => (q.quantity !== 'value') === gradients).map((q) => relativeError(q.worst, TOLERANCE.rtol)));
  return {
    cases: 1,
    valueError: errorOf(false),
    gradientError: errorOf(true),
    vacuous: c.error === null && c.quantities.every((q) => q.vacuous),
    failure: c.failures.length === 0 ? null : `case '${c.name}': ${c.failures[0]}`,
  };
}

function checkedRow(backend: BackendName, file: string, call: string, fn: FixtureFunction, fixture: TorchFixture): FixtureRow {
  const report = checkTorchFixture(fn, fixture);
  const row = new CheckAccumulator(`${file} ${call}`, describeTolerance(TOLERANCE), true);
  report.cases.forEach((c) => row.add(caseOutcome(c)));
  return { ...row.done(), backend, file, call, failures: report.failures, report };
}

/** The rows of one file on the current backend: one per function it names, or one for the user's loss. */
function fileRows(backend: BackendName, file: string, userLoss: UserFixtureLoss | undefined): FixtureRow[] {
  let fixture: TorchFixture;
  try {
    fixture = readTorchFixture(file);
  } catch (error) {
    return [failedRow(backend, file, '', `cannot be read: ${(error as Error).message}`)];
  }
  if (userLoss !== undefined) return [checkedRow(backend, file, userLoss.name, userLoss.loss, fixture)];
  const calls = [...new Set(fixture.cases.map((c) => c.call))];
  return calls.map((call) => {
    const fn = Object.prototype.hasOwnProperty.call(LIBRARY_LOSSES, call) ? LIBRARY_LOSSES[call as LibraryLoss] : undefined;
    if (fn === undefined) {
      const known = Object.keys(LIBRARY_LOSSES).join(', ');
      return failedRow(
        backend,
        file,
        call,
        `'${call}' is not a loss of tfjs-loss-adapter (${known}); check a loss of your own with --loss`,
      );
    }
    return checkedRow(backend, file, call, fn, { ...fixture, cases: fixture.cases.filter((c) => c.call === call) });
  });
}

/** Every fixture at `path` on each backend in turn, against the library's functions or `userLoss`. */
export async function runFixtureVerify(
  path: string,
  backends: BackendName[],
  unavailable: Record<string, string>,
  userLoss?: UserFixtureLoss,
): Promise<FixtureVerifyReport> {
  const files = fixtureFiles(path);
  const results: FixtureRow[] = [];
  for (const backend of backends) {
    await tf.setBackend(backend);
    await tf.ready();
    for (const file of files) results.push(...fileRows(backend, file, userLoss));
  }
  return {
    fixtures: path,
    loss: userLoss?.module ?? null,
    results,
    unavailable,
    passed: results.length > 0 && results.every((r) => r.passed),
  };
}

/** The report as a Markdown table, then every failure (naming the case and the quantity), then the verdict. */
export function formatFixtureReport(report: FixtureVerifyReport): string {
  const cases = report.results.reduce((n, r) => n + r.cases, 0);
  return formatRowsReport(
    [
      `tfjs-loss-adapter verify --fixtures ${report.fixtures}${report.loss === null ? '' : ` --loss ${report.loss}`}`,
      `${cases} case${cases === 1 ? '' : 's'} compared with PyTorch, values and gradients. Errors are relative,`,
      '|tfjs - PyTorch| / (atol/rtol + |PyTorch|): a fixture passes when every error is at most rtol.',
    ],
    report.results,
    report.results.flatMap((r) => r.failures.map((failure) => `FAIL [${r.backend}] ${r.check}: ${failure}`)),
    report.unavailable,
    report.passed ? 'verify --fixtures: every fixture matched' : 'verify --fixtures: some fixtures failed',
  );
}
