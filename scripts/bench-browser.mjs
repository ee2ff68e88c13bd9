#!/usr/bin/env node
// `npm run bench:browser`: forward + backward of our losses against tfjs' built-ins in headless
// Chromium, on webgl, webgpu, wasm and cpu, one fresh page each (browser/bench.mjs does the measuring;
// scripts/browser.mjs bundles, serves and launches). Prints one Markdown table per backend: median
// milliseconds of ours, the built-in and our composite path, the ratio, the GPU programs dispatched and
// the peak tensor bytes of one forward + backward.
//
// Without a GPU (the default flags) both GPU APIs run on SwiftShader, a CPU emulation: its times are a
// proxy (ratios, program counts), never a GPU's speed. `--gpu` (or BENCH_GPU=1) drops SwiftShader for
// the machine's GPU; each table's header names the renderer or adapter that was measured.
import os from 'node:os';
import { pathToFileURL } from 'node:url';
import {
  HARDWARE_GPU_FLAGS,
  HEADLESS_FLAGS,
  SWIFTSHADER_WEBGL_FLAGS,
  SWIFTSHADER_WEBGPU_FLAGS,
  baseUrl,
  bundlePage,
  launchChromium,
  newPage,
  serve,
  withTimeout,
} from './browser.mjs';

export const BACKENDS = ['webgl', 'webgpu', 'wasm', 'cpu'];
export const USAGE = `usage: node scripts/bench-browser.mjs [--quick] [--json] [--gpu] [--backend LIST]
  --quick          smoke run: small shapes, one warm-up, 3 rounds
  --json           the report as JSON instead of tables
  --gpu            the machine's GPU instead of SwiftShader (also BENCH_GPU=1)
  --backend LIST   comma-separated, from ${BACKENDS.join(',')} (default: all)`;
const BACKEND_TIMEOUT_MS = 20 * 60_000;

/** A command line the script does not understand (exit status 2). */
export class UsageError extends Error {}

/** The options of `argv` (the arguments after the script); BENCH_GPU=1 in `env` is `--gpu`. */
export function parseArgs(argv, env = {}) {
  const options = { quick: false, json: false, gpu: env.BENCH_GPU === '1', help: false, backends: BACKENDS };
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k];
    if (arg === '--quick') options.quick = true;
    else if (arg === '--json') options.json = true;
    else if (arg === '--gpu') options.gpu = true;
    else if (arg === '--help' || arg === '-h') options.help = true;
    else if (arg === '--backend' || arg.startsWith('--backend=')) {
      const list = arg === '--backend' ? argv[++k] : arg.slice('--backend='.length);
      if (!list) throw new UsageError('--backend needs a list, e.g. --backend webgl,webgpu');
      const backends = [...new Set(list.split(','))];
      const unknown = backends.filter((backend) => !BACKENDS.includes(backend));
      if (unknown.length) throw new UsageError(`unknown backend '${unknown.join("', '")}' (choose from ${BACKENDS.join(', ')})`);
      options.backends = backends;
    } else throw new UsageError(`unknown argument '${arg}'`);
  }
  return options;
}

/**
 * The cases and repeats: softmax cross-entropy with class indices and BCE-with-logits at the shapes
 * that matter (quick: small shapes, a smoke run). Rounds: as many as fit in `budgetMs` per case.
 */
export function planFor(quick) {
  const ce = (n, c) => ({ name: `softmax CE [${n},${c}]`, kind: 'ce', shape: [n, c] });
  const bce = (n) => ({ name: `BCE-with-logits [${n}]`, kind: 'bce', shape: [n] });
  if (quick) return { cases: [ce(1024, 10), ce(256, 1000), ce(4096, 2), bce(65536)], warmup: 1, minRounds: 3, maxRounds: 3, budgetMs: 0 };
  return { cases: [ce(1024, 10), ce(4096, 1000), ce(65536, 2), bce(2 ** 20)], warmup: 3, minRounds: 7, maxRounds: 31, budgetMs: 8000 };
}

export const chromiumFlags = (gpu) => [
  ...HEADLESS_FLAGS,
  ...(gpu ? HARDWARE_GPU_FLAGS : [...SWIFTSHADER_WEBGL_FLAGS, ...SWIFTSHADER_WEBGPU_FLAGS]),
];

function ms(x) {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function bytes(x) {
  if (x < 1024) return `${x} B`;
  if (x < 2 ** 20) return `${(x / 1024).toFixed(1)} KiB`;
  return `${(x / 2 ** 20).toFixed(1)} MiB`;
}

const count = (x) => (x === null ? '—' : String(x));
const IMPLEMENTATIONS = ['ours', 'builtin', 'composite'];

/** One backend's table, its header naming what was measured. */
function formatBackend(result) {
  if (!result.ran) return [`### ${result.backend}: not run (${result.reason})`];
  const { name, swiftShader } = result.device;
  const proxy = swiftShader
    ? " (SwiftShader: a CPU emulation of a GPU; its times are a proxy, ratios and program counts, never a GPU's speed)"
    : '';
  const lines = [
    `### ${result.backend}: ${name}${proxy}`,
    '',
    '| case | ours ms | built-in ms | composite ms | built-in / ours | GPU programs ours / built-in / composite | peak bytes ours / built-in / composite | rounds |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const row of result.rows) {
    const [ours, builtin, composite] = IMPLEMENTATIONS.map((name) => row[name]);
    const cells = [
      row.case,
      ms(ours.ms),
      ms(builtin.ms),
      ms(composite.ms),
      `${(builtin.ms / ours.ms).toFixed(2)}x`,
      IMPLEMENTATIONS.map((name) => count(row[name].programs)).join(' / '),
      IMPLEMENTATIONS.map((name) => bytes(row[name].peakBytes)).join(' / '),
      row.rounds,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  if (result.leaked !== 0) lines.push('', `${result.leaked} tensors leaked on ${result.backend}.`);
  return lines;
}

/** The report as Markdown: the browser and the machine's load, one table per backend, what the columns mean. */
export function formatReport(report) {
  const load = (l) => l.map((v) => v.toFixed(2)).join(' ');
  const tfjs = report.results.find((result) => result.ran)?.tfjs ?? '?';
  const lines = [
    `Headless Chromium ${report.chromium}, tfjs ${tfjs}, ${report.cores} cores, load average ${load(report.loadAverage.start)} at start, ${load(report.loadAverage.end)} at end${report.quick ? '; quick mode (a smoke run: small shapes, 3 rounds)' : ''}.`,
    `Flags: ${report.flags.join(' ')}`,
  ];
  for (const result of report.results) lines.push('', ...formatBackend(result));
  lines.push(
    '',
    'Forward + backward: tf.valueAndGrad of the loss with respect to the logits, then `await data()` on the loss (the gradient stays on the GPU, as in training; the read waits for it); median over interleaved rounds after warm-up; inputs and one-hot labels made outside the timed region.',
    "ours: the path the library picks (setKernelPath('auto')); composite: setKernelPath('composite'), the tfjs-ops fallback; built-in: tf.losses.softmaxCrossEntropy(oneHot, logits), tf.losses.sigmoidCrossEntropy(labels, logits). built-in / ours above 1: ours is faster.",
    'GPU programs: calls of the backend’s runWebGLProgram / runWebGPUProgram (every shader dispatch, compileAndRun’s included) in one forward + backward, the reads after it not counted. Peak bytes: the highest tf.memory().numBytes in one forward + backward, above its value before.',
    'The page is not cross-origin isolated (wasm runs its single-threaded build, as on most sites), so the browser rounds its clock to 0.1 ms.',
  );
  return lines.join('\n');
}

/** One backend on a fresh page, so a backend that breaks its context cannot take the others with it. */
async function benchOnPage(context, url, backend, plan) {
  const { page, messages } = await newPage(context);
  try {
    await page.goto(url);
    return await withTimeout(
      page.evaluate(([name, p]) => window.benchOn(name, p), [backend, plan]),
      BACKEND_TIMEOUT_MS,
      `the benchmark on ${backend}`,
    );
  } catch (error) {
    const hints = messages.filter((message) => /error|warn/i.test(message)).slice(0, 3);
    return { backend, ran: false, reason: [error.message.split('\n')[0], ...hints].join('; ') };
  } finally {
    await page.close();
  }
}

async function main(options) {
  const plan = planFor(options.quick);
  const flags = chromiumFlags(options.gpu);
  const server = await serve({ '/': { file: 'browser/bench.html' } }, await bundlePage('browser/bench.mjs'));
  const loadStart = os.loadavg();
  const results = [];
  let browser;
  try {
    browser = await launchChromium(flags);
    for (const backend of options.backends) {
      console.error(`bench:browser: ${backend}`);
      results.push(await benchOnPage(browser.context, baseUrl(server), backend, plan));
    }
  } finally {
    await browser?.close();
    server.close();
  }
  const report = {
    chromium: browser.version,
    flags,
    quick: options.quick,
    cores: os.cpus().length,
    loadAverage: { start: loadStart, end: os.loadavg() },
    plan,
    results,
  };
  console.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
  return results.every((result) => result.ran) ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let options;
  try {
    options = parseArgs(process.argv.slice(2), process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bench:browser: ${error.message}\n${USAGE}`);
    process.exit(2);
  }
  if (options.help) console.log(USAGE);
  else
    main(options).then(
      (code) => process.exit(code),
      (error) => {
        console.error(`bench:browser: ${error.message ?? error}`);
        process.exit(1);
      },
    );
}
