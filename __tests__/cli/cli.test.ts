import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'child_process';
import { Command, integer, OptionTable, parseCommandLine, switchOption, text, UsageError, valueOption } from '../../src/cli/args';
import { selectBackends } from '../../src/cli/backends';
import { benchCommand } from '../../src/cli/bench';
import { loadLoss } from '../../src/cli/loadLoss';
import { main } from '../../src/cli/main';
import { formatUserLossReport, runUserLossCheck } from '../../src/cli/userLoss';
import { formatVerifyReport, runVerify, verifyCommand } from '../../src/cli/verify';
import { BACKENDS } from '../helpers/backends';

const fixture = (name: string) => `${__dirname}/fixtures/${name}`;
const backends = BACKENDS.filter((b): b is 'cpu' | 'wasm' => b === 'cpu' || b === 'wasm');
const COMMANDS: Record<string, Command<OptionTable>> = { verify: verifyCommand, bench: benchCommand };

/** Runs the CLI in this process: its exit code and what it wrote to stdout and stderr. */
async function runCli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(argv, { out: (t) => stdout.push(t), err: (t) => stderr.push(t) });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

/** The usage error that parsing `argv` throws. */
function usageError(argv: string[]): UsageError {
  try {
    parseCommandLine(argv, COMMANDS);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`'${argv.join(' ')}' was accepted`);
}

describe('command line', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('parses each command against its table: --option value, --option=value, switches, values parsed', () => {
    const verify = parseCommandLine(['verify', '--backend', 'all', '--seed=7', '--json', '--loss', 'l.js', '--kinds', 'binary'], COMMANDS);
    expect(verify).toMatchObject({ name: 'verify', options: { backend: 'all', seed: 7, json: true, loss: 'l.js', kinds: 'binary' } });
    expect(parseCommandLine(['bench', '--quick', '--only', '[1024,10]'], COMMANDS)).toMatchObject({
      name: 'bench',
      options: { quick: true, only: '[1024,10]' },
    });
    expect(parseCommandLine(['verify'], COMMANDS)).toMatchObject({ name: 'verify', options: {} });
  });

  it.each([
    [
      ['verify', '--lost', './my-wrong-loss.js'],
      /^unknown option '--lost' for verify \(did you mean --loss\?\); its options are --backend, --seed/,
    ],
    [['verify', '--sed', '3'], /^unknown option '--sed' for verify \(did you mean --seed\?\)/],
    [['verify', '--seed', 'abc'], /^--seed must be an integer in \[0, 4294967295\], got 'abc'$/],
    [['verify', '--seed=1e3'], /^--seed must be an integer in \[0, 4294967295\], got '1e3'$/],
    [['verify', '--seed', '-1'], /^--seed must be an integer in \[0, 4294967295\], got '-1'$/],
    [['verify', '--seed', '4294967296'], /^--seed must be an integer in \[0, 4294967295\], got '4294967296'$/],
    [['verify', '--backend', 'gpu'], /^--backend must be one of tensorflow, wasm, cpu, all, got 'gpu'$/],
    [['verify', '--seed'], /^--seed needs a value \(N\), got nothing$/],
    [['verify', '--loss', '--json'], /^--loss needs a value \(PATH\), got the option '--json'$/],
    [['verify', '--loss='], /^--loss must be the path of a module that exports a loss, got ''$/],
    [['verify', '--json=yes'], /^--json is a switch and takes no value, got '--json=yes'$/],
    [['verify', '--seed', '1', '--seed', '2'], /^--seed is given twice$/],
    [['verify', '--kinds', 'binary'], /^--kinds only applies with --loss, which is not given$/],
    [['verify', '--loss', 'l.js', '--kinds', 'ternary'], /^--kinds must be one of binary, multiclass, all, got 'ternary'$/],
    [['verify', '--export', 'myLoss'], /^--export only applies with --loss/],
    [['verify', './my-loss.js'], /^unexpected argument '\.\/my-loss\.js': verify takes only --options \(--backend, --seed/],
    [
      ['bench', '--quik'],
      /^unknown option '--quik' for bench \(did you mean --quick\?\); its options are --backend, --quick, --only, --json$/,
    ],
    [['bench', '--seed', '3'], /^unknown option '--seed' for bench; its options are/],
    [['bench', '--backend', 'webgl'], /^--backend must be one of tensorflow, wasm, cpu, all, got 'webgl'$/],
    [['verfy'], /^the command must be one of verify, bench, got 'verfy' \(did you mean verify\?\)$/],
    [[], /^no command given$/],
  ])('refuses %j with the reason and the usage', (argv, reason) => {
    const error = usageError(argv);
    expect(error.message).toMatch(reason);
    expect(error.message).not.toContain('\n');
    const command = argv[0] === 'verify' || argv[0] === 'bench' ? argv[0] : undefined;
    expect(error.usage).toMatch(/^usage:\n/);
    if (command === undefined) {
      expect(error.usage).toContain('tfjs-loss-adapter verify [--backend');
      expect(error.usage).toContain('tfjs-loss-adapter bench [--backend');
    } else {
      expect(error.usage).toContain(`tfjs-loss-adapter ${command} [--backend`);
      expect(error.usage).not.toContain(`tfjs-loss-adapter ${command === 'verify' ? 'bench' : 'verify'} [`);
    }
  });

  it('takes a new option from one line of a table, with its value parser and its dependency', () => {
    const options = {
      loss: valueOption(text('PATH', 'a path'), 'a loss'),
      fixtures: valueOption(text('DIR', 'a directory'), 'fixtures to compare with', { requires: 'loss' }),
      repeats: valueOption(integer(1, 9), 'how often'),
      quiet: switchOption('says less'),
    };
    const command: Command<typeof options> = { description: 'a test command', options, run: async () => 0 };
    const commands = { check: command as Command<OptionTable> };
    expect(parseCommandLine(['check', '--loss', 'l.js', '--fixtures=dir', '--repeats', '3', '--quiet'], commands)).toMatchObject({
      options: { loss: 'l.js', fixtures: 'dir', repeats: 3, quiet: true },
    });
    expect(() => parseCommandLine(['check', '--fixtures', 'dir'], commands)).toThrow('--fixtures only applies with --loss');
    expect(() => parseCommandLine(['check', '--repeats', '10'], commands)).toThrow("--repeats must be an integer in [1, 9], got '10'");
    expect(() => parseCommandLine(['check', '--fixture', 'dir'], commands)).toThrow(/did you mean --fixtures\?/);
    const help = parseCommandLine(['check', '--help'], commands);
    expect(help.help).toContain('tfjs-loss-adapter check [--loss PATH] [--fixtures DIR] [--repeats N] [--quiet]');
    expect(help.help).toMatch(/--fixtures DIR +fixtures to compare with \(with --loss\)/);
  });

  it('exits 2 on a mistyped command line, printing the one-line reason and the usage to stderr, and nothing else', async () => {
    for (const argv of [
      ['verify', '--lost', './my-wrong-loss.js'],
      ['verify', '--sed', '3'],
      ['verify', '--seed', 'abc'],
      ['bench', '--backend', 'gpu'],
    ]) {
      const { code, stdout, stderr } = await runCli(...argv);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      const [reason, blank, usageLine] = stderr.split('\n');
      expect(reason).toMatch(/^tfjs-loss-adapter: (unknown option|--seed must be|--backend must be)/);
      expect([blank, usageLine]).toEqual(['', 'usage:']);
      expect(stderr).toContain(`tfjs-loss-adapter ${argv[0]} [--backend`);
    }
  });

  it('prints the usage and exits 0 when asked for it', async () => {
    const all = await runCli('--help');
    expect(all).toMatchObject({ code: 0, stderr: '' });
    expect(all.stdout).toMatch(/tfjs-loss-adapter verify .*\n[\s\S]*tfjs-loss-adapter bench /);
    const verify = await runCli('verify', '--help');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/--kinds binary\|multiclass\|all +the inputs to check the loss on/);
    expect(verify.stdout).not.toContain('tfjs-loss-adapter bench');
  });

  it('exits 2 with the reason when a loss module cannot be used', async () => {
    const missing = await runCli('verify', '--backend', 'cpu', '--loss', fixture('does-not-exist.js'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^tfjs-loss-adapter: Cannot find module .*does-not-exist\.js'[^\n]*$/);
    const badKinds = await runCli('verify', '--backend', 'cpu', '--loss', fixture('bad-kinds-loss.js'));
    expect(badKinds.code).toBe(2);
    expect(badKinds.stderr).toMatch(
      /bad-kinds-loss\.js: its 'kinds' export must be 'binary', 'multiclass', 'all' or a non-empty list of 'binary' and 'multiclass', got \["binary","ternary"\]$/,
    );
  });

  it('picks the best available backend by default, every one for all, and names why one is missing', () => {
    const unavailable = { tensorflow: '@tensorflow/tfjs-node: Cannot find module' };
    expect(selectBackends(undefined, ['wasm', 'cpu'], unavailable)).toEqual(['wasm']);
    expect(selectBackends('all', ['wasm', 'cpu'], unavailable)).toEqual(['wasm', 'cpu']);
    expect(selectBackends('cpu', ['wasm', 'cpu'], unavailable)).toEqual(['cpu']);
    expect(() => selectBackends('tensorflow', ['wasm', 'cpu'], unavailable)).toThrow(
      /not available here \(@tensorflow\/tfjs-node: Cannot find module\)/,
    );
    expect(() => selectBackends(undefined, [], { cpu: '@tensorflow/tfjs-backend-cpu: broken' })).toThrow(
      'no tfjs backend loads here (cpu: @tensorflow/tfjs-backend-cpu: broken)',
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
    expect((await runVerify([], 1, {})).passed).toBe(false);
  });

  it('verify --loss passes a correct loss module on both kinds', async () => {
    const good = await loadLoss(fixture('good-loss.js'));
    expect(good).toMatchObject({ name: 'default', kinds: undefined });
    const run = await runUserLossCheck('good', good.loss, backends, 1, ['binary', 'multiclass'], 'default');
    expect(run.reports.map((r) => r.verdicts)).toEqual(run.reports.map(() => ({ binary: 'pass', multiclass: 'pass' })));
    expect(run.passed).toBe(true);
    const text = formatUserLossReport(run);
    for (const backend of backends) expect(text).toContain(`[${backend}] binary: pass\n[${backend}] multiclass: pass`);
    expect(text).toMatch(/every check passed$/);
  });

  it('verify --loss fails a loss that throws on one kind, showing the error, and gives a verdict per kind', async () => {
    const { code, stdout } = await runCli('verify', '--backend', 'cpu', '--loss', fixture('binary-only-loss.js'));
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /^FAIL \[cpu\] accepts \(multiclass\): the loss throws on logits \[N, C\] with int32 class-index targets \[N\] \(multiclass \[8, 3\]\): Error: .*sigmoidCrossEntropy/m,
    );
    expect(stdout).toContain('[cpu] binary: pass\n[cpu] multiclass: fail');
    expect(stdout).toMatch(/verify --loss: some checks failed$/);
  });

  it('verify --loss checks only the kinds --kinds or the module declares, and says which were skipped and why', async () => {
    const byFlag = await runCli('verify', '--backend', 'cpu', '--loss', fixture('binary-only-loss.js'), '--kinds', 'binary');
    expect(byFlag.code).toBe(0);
    expect(byFlag.stdout).toContain('[cpu] binary: pass\n[cpu] multiclass: skipped (by --kinds)');
    expect(byFlag.stdout).not.toContain('(multiclass)');

    const declared = await loadLoss(fixture('declared-binary-loss.js'));
    expect(declared).toMatchObject({ name: 'loss', kinds: ['binary'] });
    const byExport = await runCli('verify', '--backend', 'cpu', '--loss', fixture('declared-binary-loss.js'), '--json');
    expect(byExport.code).toBe(0);
    expect(JSON.parse(byExport.stdout)).toMatchObject({
      kindsFrom: 'the kinds export',
      passed: true,
      reports: [{ backend: 'cpu', kinds: ['binary'], verdicts: { binary: 'pass', multiclass: 'skipped' } }],
    });
    // --kinds overrides what the module declares: asked for multiclass, the binary-only loss fails there.
    const overridden = await runCli('verify', '--backend', 'cpu', '--loss', fixture('declared-binary-loss.js'), '--kinds', 'all');
    expect(overridden.code).toBe(1);
    expect(overridden.stdout).toContain('[cpu] binary: pass\n[cpu] multiclass: fail');
  });

  it('the verify --loss command exits 1 on an ES module loss whose gradient is 5% off, naming gradcheck', () => {
    // A child process: Jest's module sandbox cannot import() an ES module.
    const result = spawnSync(
      `${__dirname}/../../node_modules/.bin/tsx`,
      ['src/cli/main.ts', 'verify', '--loss', fixture('scaled-gradient-loss.mjs'), '--backend', 'cpu', '--kinds', 'binary'],
      { encoding: 'utf8' },
    );
    expect(result.stdout).toMatch(/FAIL \[cpu\] gradcheck \(binary\): gradcheck fails/);
    expect(result.stdout).toContain('[cpu] binary: fail\n[cpu] multiclass: skipped (by --kinds)');
    expect(result.status).toBe(1);
  });

  it('the bin exits 2 on a mistyped option, before checking anything', () => {
    const result = spawnSync(`${__dirname}/../../node_modules/.bin/tsx`, ['src/cli/main.ts', 'verify', '--lost', './my-wrong-loss.js'], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^tfjs-loss-adapter: unknown option '--lost' for verify \(did you mean --loss\?\)/);
  });

  it('verify --loss says what a module must export when it exports no loss', async () => {
    await expect(loadLoss(fixture('no-function.js'))).rejects.toThrow(
      /must export the loss as a default export, an export named 'loss', or a single exported function; it exports no functions/,
    );
    await expect(loadLoss(fixture('good-loss.js'), 'myLoss')).rejects.toThrow(/an export named 'myLoss'/);
  });
});
