import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'child_process';
import { parseArgs } from '../../src/cli/args';
import { selectBackends } from '../../src/cli/backends';
import { loadLoss } from '../../src/cli/loadLoss';
import { formatUserLossReport, runUserLossCheck } from '../../src/cli/userLoss';
import { formatVerifyReport, runVerify } from '../../src/cli/verify';
import { BACKENDS } from '../helpers/backends';

const fixture = (name: string) => `${__dirname}/fixtures/${name}`;
const backends = BACKENDS.filter((b): b is 'cpu' | 'wasm' => b === 'cpu' || b === 'wasm');

describe('command line', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('parses commands, --flag value, --flag=value and switches, and rejects a flag without its value', () => {
    expect(parseArgs(['verify', '--backend', 'all', '--seed=7', '--json'], ['json'])).toEqual({
      command: 'verify',
      flags: { backend: 'all', seed: '7', json: true },
    });
    expect(() => parseArgs(['verify', '--backend'], ['json'])).toThrow('--backend needs a value');
    expect(() => parseArgs(['verify', 'bench'], [])).toThrow("unexpected argument 'bench'");
  });

  it('picks the best available backend by default, every one for all, and names why one is missing', () => {
    const unavailable = { tensorflow: '@tensorflow/tfjs-node: Cannot find module' };
    expect(selectBackends(undefined, ['wasm', 'cpu'], unavailable)).toEqual(['wasm']);
    expect(selectBackends('all', ['wasm', 'cpu'], unavailable)).toEqual(['wasm', 'cpu']);
    expect(() => selectBackends('tensorflow', ['wasm', 'cpu'], unavailable)).toThrow(
      /not available here \(@tensorflow\/tfjs-node: Cannot find module\)/,
    );
    expect(() => selectBackends('webgl', ['wasm', 'cpu'], unavailable)).toThrow(
      /--backend must be one of tensorflow, wasm, cpu, all, got 'webgl'/,
    );
  });

  it('verify runs every check on each backend, passes, and leaves no tensor behind', async () => {
    const before = tf.memory().numTensors;
    const report = await runVerify(backends, 1, {});
    expect(tf.memory().numTensors).toBe(before);
    expect(report.results.filter((r) => !r.passed)).toEqual([]);
    expect(new Set(report.results.map((r) => r.backend))).toEqual(new Set(backends));
    expect(report.results.every((r) => r.cases > 0)).toBe(true);
    expect(formatVerifyReport(report)).toMatch(/verify: every check passed$/);
  });

  it('verify --loss passes a correct loss module', async () => {
    const good = await loadLoss(fixture('good-loss.js'));
    expect(good.name).toBe('default');
    const run = await runUserLossCheck('good', good.loss, backends, 1);
    expect(run.reports.map((r) => r.summary)).toEqual(run.reports.map(() => expect.stringMatching(/pass/)));
    expect(run.passed).toBe(true);
    expect(formatUserLossReport(run)).toMatch(/every check passed$/);
  });

  it('the verify --loss command exits 1 on an ES module loss whose gradient is 5% off, naming gradcheck', () => {
    // A child process: Jest's module sandbox cannot import() an ES module.
    const result = spawnSync(
      `${__dirname}/../../node_modules/.bin/tsx`,
      ['src/cli/main.ts', 'verify', '--loss', fixture('scaled-gradient-loss.mjs'), '--backend', 'cpu'],
      { encoding: 'utf8' },
    );
    expect(result.stdout).toMatch(/FAIL \[cpu\] gradcheck \(binary\): gradcheck fails/);
    expect(result.status).toBe(1);
  });

  it('verify --loss says what a module must export when it exports no loss', async () => {
    await expect(loadLoss(fixture('no-function.js'))).rejects.toThrow(
      /must export the loss as a default export, an export named 'loss', or a single exported function; it exports no functions/,
    );
    await expect(loadLoss(fixture('good-loss.js'), 'myLoss')).rejects.toThrow(/an export named 'myLoss'/);
  });
});
