import * as tf from '@tensorflow/tfjs';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { main } from '../../src/cli/main';
import { FixtureVerifyReport, LIBRARY_LOSSES } from '../../src/cli/fixtures';

const ROOT = join(__dirname, '..', '..');
const EXAMPLES = join(ROOT, 'examples', 'fixtures');
const CE = join(EXAMPLES, 'cross-entropy.json');
const SMOOTHING_LOSS = join(__dirname, 'fixtures', 'smoothing-loss.js');

async function runCli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(argv, { out: (t) => stdout.push(t), err: (t) => stderr.push(t) });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

describe('tfjs-loss-adapter verify --fixtures', () => {
  let scratch: string;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    scratch = mkdtempSync(join(tmpdir(), 'verify-fixtures-'));
  });
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** A copy of the example's cross-entropy fixture with `edit` applied, in a directory of its own. */
  function editedFixture(name: string, edit: (fixture: { cases: Array<Record<string, { values: number[] }>> }) => void): string {
    const fixture = JSON.parse(readFileSync(CE, 'utf8'));
    edit(fixture);
    const path = join(scratch, `${name}.json`);
    writeFileSync(path, JSON.stringify(fixture));
    return path;
  }

  it("checks the library's function named in each fixture of a directory: a row each, exit 0", async () => {
    const { code, stdout } = await runCli('verify', '--backend', 'cpu', '--fixtures', EXAMPLES);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^tfjs-loss-adapter verify --fixtures .*examples\/fixtures\n2 cases compared with PyTorch/);
    expect(stdout).toMatch(
      /\| cpu +\| \S+bce-with-logits\.json binaryCrossEntropyWithLogits \| 1 +\| [\d.e-]+ +\| [\d.e-]+ +\| rtol 1e-5, atol 1e-6 \| pass/,
    );
    expect(stdout).toMatch(/\| cpu +\| \S+cross-entropy\.json crossEntropy +\| 1 +\|.*\| pass/);
    expect(stdout).toMatch(/verify --fixtures: every fixture matched$/);
  });

  it.each([
    ['value', (f: { cases: Array<Record<string, { values: number[] }>> }) => f.cases[0].value, /value differs in 1 of 1 element/],
    [
      'gradient',
      (f: { cases: Array<Record<string, { values: number[] }>> }) => f.cases[0].gradients,
      /gradient of input differs in 1 of 32 elements/,
    ],
  ])('exits 1 when a recorded %s is changed by 1e-3 relative, naming the quantity', async (what, pick, message) => {
    const path = editedFixture(`changed-${what}`, (f) => {
      const tensor = what === 'value' ? pick(f) : (pick(f) as unknown as Record<string, { values: number[] }>).input;
      tensor.values[0] *= 1 + 1e-3;
    });
    const { code, stdout } = await runCli('verify', '--backend', 'cpu', '--fixtures', path);
    expect(code).toBe(1);
    expect(stdout).toMatch(new RegExp(`FAIL \\[cpu\\] \\S+changed-${what}\\.json crossEntropy: case 'crossEntropy 0': ${message.source}`));
    expect(stdout).toMatch(/verify --fixtures: some fixtures failed$/);
  });

  it('checks a loss of your own with --loss: ε/(C + 1) label smoothing fails, ε/C passes', async () => {
    const correct = await runCli('verify', '--backend', 'cpu', '--fixtures', CE, '--loss', SMOOTHING_LOSS, '--export', 'correct');
    expect(correct.code).toBe(0);
    const wrong = await runCli('verify', '--backend', 'cpu', '--fixtures', CE, '--loss', SMOOTHING_LOSS, '--export', 'dividedByCPlusOne');
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/\| \S+cross-entropy\.json dividedByCPlusOne \| 1 .*\| FAIL/);
    expect(wrong.stdout).toMatch(/FAIL \[cpu\] \S+ dividedByCPlusOne: case 'crossEntropy 0': value differs/);
    expect(wrong.stdout).toMatch(/FAIL \[cpu\] \S+ dividedByCPlusOne: case 'crossEntropy 0': gradient of input differs/);
  });

  it('exits 1, never skipping, on a fixture naming a function the library lacks and on a file that is not a fixture', async () => {
    const dir = mkdtempSync(join(scratch, 'mixed-'));
    copyFileSync(join(EXAMPLES, 'custom', 'binary-focal-loss.json'), join(dir, 'custom.json'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'not-a-fixture' }));
    const { code, stdout } = await runCli('verify', '--backend', 'cpu', '--fixtures', dir);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /FAIL \[cpu\] \S+custom\.json binary_focal_loss: 'binary_focal_loss' is not a loss of tfjs-loss-adapter \(binaryCrossEntropy, .*\); check a loss of your own with --loss/,
    );
    expect(stdout).toMatch(
      /FAIL \[cpu\] \S+package\.json: cannot be read: \S+package\.json: checkTorchFixture: argument 'fixture\.format' must be/,
    );
  });

  it("passes this repository's own PyTorch fixtures: recorded as a user records them, a row per loss", async () => {
    const { code, stdout } = await runCli('verify', '--backend', 'cpu', '--fixtures', join(ROOT, '__tests__', 'fixtures'));
    expect(stdout).toMatch(/verify --fixtures: every fixture matched$/);
    expect(code).toBe(0);
    for (const loss of Object.keys(LIBRARY_LOSSES))
      expect(stdout).toMatch(new RegExp(`\\| cpu +\\| \\S+/${loss}\\.json ${loss} +\\| \\d{2,} .*\\| pass`));
  });

  it('prints the report as JSON with --json: per case and quantity, the worst element', async () => {
    const { code, stdout } = await runCli('verify', '--backend', 'cpu', '--fixtures', CE, '--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as FixtureVerifyReport;
    expect(report).toMatchObject({ passed: true, loss: null, unavailable: {} });
    const [quantity] = report.results[0].report?.cases[0].quantities ?? [];
    expect(quantity).toMatchObject({ quantity: 'value', shape: [], passed: true, worst: { position: '[]' } });
  });

  it.each([
    [['--fixtures', CE, '--seed', '3'], /^tfjs-loss-adapter: --seed does not apply with --fixtures\n/],
    [['--fixtures', CE, '--loss', SMOOTHING_LOSS, '--kinds', 'multiclass'], /^tfjs-loss-adapter: --kinds does not apply with --fixtures\n/],
    [['--fixture', CE], /^tfjs-loss-adapter: unknown option '--fixture' for verify \(did you mean --fixtures\?\)/],
    [['--fixtures'], /^tfjs-loss-adapter: --fixtures needs a value \(PATH\), got nothing/],
    [['--fixtures', join(ROOT, 'missing.json')], /^tfjs-loss-adapter: --fixtures \S+missing\.json: no such file or directory$/],
  ])('exits 2 on %j, with the reason', async (argv, message) => {
    const { code, stderr } = await runCli('verify', '--backend', 'cpu', ...argv);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });
});

describe('tfjs-loss-adapter fixture-script', () => {
  it('prints the path of the recorder shipped in the package', async () => {
    const { code, stdout } = await runCli('fixture-script');
    expect(code).toBe(0);
    expect(stdout).toBe(join(ROOT, 'python', 'record_fixture.py'));
    expect(readFileSync(stdout, 'utf8')).toMatch(/^def record\(path, fn, \*args, \*\*kwargs\):$/m);
  });

  it('takes no options', async () => {
    expect((await runCli('fixture-script', '--json')).code).toBe(2);
  });
});
