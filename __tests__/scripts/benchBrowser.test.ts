import { spawnSync } from 'child_process';
import * as path from 'path';
import { pathToFileURL } from 'url';

// The pure parts of scripts/bench-browser.mjs (argument parsing, the plan, the flags, the tables),
// without a browser: the script is an ES module, so a child Node imports it and answers in JSON.
const SCRIPT = path.join(__dirname, '../../scripts/bench-browser.mjs');

type Call = [name: string, ...args: unknown[]];
type Answer = { value: unknown } | { error: string; message: string };

/** Calls each export of the script in one child process; a throw comes back as its class and message. */
function callScript(calls: Call[]): Answer[] {
  const code = `
    const script = await import(${JSON.stringify(pathToFileURL(SCRIPT).href)});
    const answers = JSON.parse(process.argv[1]).map(([name, ...args]) => {
      try {
        return { value: script[name](...args) };
      } catch (error) {
        return { error: error.constructor.name, message: error.message };
      }
    });
    console.log(JSON.stringify(answers));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code, JSON.stringify(calls)], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(child.stderr);
  return JSON.parse(child.stdout) as Answer[];
}

const run = (args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });

const timing = (ms: number, programs: number | null, peakBytes: number) => ({ ms, programs, peakBytes });
const REPORT = {
  chromium: '150.0.7871.100',
  flags: ['--headless', '--enable-unsafe-webgpu'],
  quick: false,
  cores: 2,
  loadAverage: { start: [1.5, 1, 0.5], end: [2, 1.25, 0.5] },
  results: [
    {
      backend: 'webgl',
      ran: true,
      device: { name: 'WebGL 2, ANGLE (SwiftShader Device)', swiftShader: true },
      tfjs: '4.22.0',
      leaked: 0,
      rows: [
        {
          case: 'softmax CE [4096,1000]',
          rounds: 9,
          ours: timing(100, 8, 16 * 2 ** 20),
          builtin: timing(250, 42, 512),
          composite: timing(1234.5, 118, 3 * 1024),
        },
      ],
    },
    { backend: 'webgpu', ran: false, reason: "tf.setBackend('webgpu') returned false" },
    {
      backend: 'cpu',
      ran: true,
      device: { name: 'JavaScript on the CPU', swiftShader: false },
      tfjs: '4.22.0',
      leaked: 2,
      rows: [
        {
          case: 'BCE-with-logits [1048576]',
          rounds: 7,
          ours: timing(2.5, null, 0),
          builtin: timing(12.25, null, 0),
          composite: timing(9, null, 0),
        },
      ],
    },
  ],
};

describe('scripts/bench-browser.mjs', () => {
  const [defaults, quickJson, listed, gpuFromEnv, unknownFlag, unknownBackend, emptyList, table, quickPlan, fullPlan, swiftShader, gpu] =
    callScript([
      ['parseArgs', []],
      ['parseArgs', ['--quick', '--json']],
      ['parseArgs', ['--backend', 'webgpu,webgl,webgpu']],
      ['parseArgs', ['--backend=cpu'], { BENCH_GPU: '1' }],
      ['parseArgs', ['--quick', '--fast']],
      ['parseArgs', ['--backend', 'webgl,metal']],
      ['parseArgs', ['--backend']],
      ['formatReport', REPORT],
      ['planFor', true],
      ['planFor', false],
      ['chromiumFlags', false],
      ['chromiumFlags', true],
    ]);

  it('parses its options: every backend, SwiftShader and tables by default; BENCH_GPU=1 is --gpu', () => {
    expect(defaults).toEqual({
      value: { quick: false, json: false, gpu: false, help: false, backends: ['webgl', 'webgpu', 'wasm', 'cpu'] },
    });
    expect(quickJson).toMatchObject({ value: { quick: true, json: true, gpu: false } });
    expect(listed).toMatchObject({ value: { backends: ['webgpu', 'webgl'] } });
    expect(gpuFromEnv).toMatchObject({ value: { gpu: true, backends: ['cpu'] } });
  });

  it('rejects an unknown flag, an unknown backend and a missing list, naming them', () => {
    expect(unknownFlag).toEqual({ error: 'UsageError', message: "unknown argument '--fast'" });
    expect(unknownBackend).toMatchObject({ error: 'UsageError', message: expect.stringContaining("unknown backend 'metal'") });
    expect(emptyList).toMatchObject({ error: 'UsageError', message: expect.stringContaining('--backend needs a list') });
  });

  it('exits 2 with the usage on a bad command line, before any browser starts', () => {
    const child = run(['--bogus']);
    expect(child.status).toBe(2);
    expect(child.stderr).toContain("unknown argument '--bogus'");
    expect(child.stderr).toContain('usage: node scripts/bench-browser.mjs');
    expect(child.stdout).toBe('');
    const help = run(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--gpu');
  });

  it('plans the four cases (quick: smaller, 3 rounds) and the flags of each mode', () => {
    const names = (plan: Answer) => ('value' in plan ? (plan.value as { cases: { name: string }[] }).cases.map((c) => c.name) : plan);
    expect(names(fullPlan)).toEqual([
      'softmax CE [1024,10]',
      'softmax CE [4096,1000]',
      'softmax CE [65536,2]',
      'BCE-with-logits [1048576]',
    ]);
    expect(names(quickPlan)).toHaveLength(4);
    expect(quickPlan).toMatchObject({ value: { minRounds: 3, maxRounds: 3 } });
    expect(swiftShader).toMatchObject({
      value: expect.arrayContaining(['--use-angle=swiftshader', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader']),
    });
    expect(gpu).toMatchObject({ value: expect.arrayContaining(['--enable-unsafe-webgpu']) });
    expect(JSON.stringify(gpu)).not.toMatch(/swiftshader|disable-gpu/);
  });

  it('prints one table per backend, naming what was measured and flagging SwiftShader as a proxy', () => {
    expect('value' in table).toBe(true);
    const lines = (table as { value: string }).value.split('\n');
    expect(lines[0]).toBe(
      'Headless Chromium 150.0.7871.100, tfjs 4.22.0, 2 cores, load average 1.50 1.00 0.50 at start, 2.00 1.25 0.50 at end.',
    );
    expect(lines).toContain('Flags: --headless --enable-unsafe-webgpu');
    expect(lines).toContain(
      "### webgl: WebGL 2, ANGLE (SwiftShader Device) (SwiftShader: a CPU emulation of a GPU; its times are a proxy, ratios and program counts, never a GPU's speed)",
    );
    expect(lines).toContain('| softmax CE [4096,1000] | 100 | 250 | 1235 | 2.50x | 8 / 42 / 118 | 16.0 MiB / 512 B / 3.0 KiB | 9 |');
    expect(lines).toContain("### webgpu: not run (tf.setBackend('webgpu') returned false)");
    expect(lines).toContain('### cpu: JavaScript on the CPU');
    expect(lines).toContain('| BCE-with-logits [1048576] | 2.50 | 12.3 | 9.00 | 4.90x | — / — / — | 0 B / 0 B / 0 B | 7 |');
    expect(lines).toContain('2 tensors leaked on cpu.');
  });
});
