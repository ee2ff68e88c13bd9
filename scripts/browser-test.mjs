#!/usr/bin/env node
// `npm run test:browser`: the verify suite in a real browser. Bundles browser/entry.mjs with esbuild
// (the library through its own exports map, i.e. dist/esm: run `npm run build` first), serves it on a
// random localhost port with the tfjs-backend-wasm binaries, drives Debian's Chromium headless with
// playwright-core (no browser is ever downloaded), runs `runVerifySuite()` on cpu, wasm (single- and
// multi-threaded) and webgl, one fresh page each, and prints one table. Every check must pass on cpu
// and both wasm builds, without leaking a tensor; webgl is reported (it runs on Chromium's software
// renderer here), or why it did not run.
//
//   node scripts/browser-test.mjs            the test (exit 1 on a failure)
//   node scripts/browser-test.mjs --serve    only serve the page, to open it in a browser by hand
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import { ROOT } from './entries.mjs';

const require = createRequire(import.meta.url);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/**
 * Headless as root in a container: no sandbox, no GPU, nothing that phones home. WebGL then needs
 * Chromium's software renderer: ANGLE on SwiftShader, which Chromium only offers for WebGL when told
 * that the (unsafe for untrusted content) SwiftShader fallback is fine: we load only our own page.
 */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];
/**
 * What runs, one fresh page each. The wasm backend runs twice: on a plain page (single-threaded SIMD,
 * what most sites get) and on a cross-origin isolated page (COOP/COEP headers), where tfjs picks its
 * multi-threaded build and the WebAssembly heap is a SharedArrayBuffer.
 */
const RUNS = [
  { label: 'cpu', backend: 'cpu', isolated: false, required: true },
  { label: 'wasm', backend: 'wasm', isolated: false, required: true },
  { label: 'wasm (threads)', backend: 'wasm', isolated: true, required: true },
  { label: 'webgl', backend: 'webgl', isolated: false, gpu: true, required: true },
  // Half-float textures, as many phones give: fixture errors reported, every loss and gradient finite.
  { label: 'webgl (f16)', backend: 'webgl', isolated: false, gpu: true, f16: true, required: true },
];
/** `BROWSER_RUNS=webgl,webgpu` (labels, comma-separated) narrows the runs for a quick local check. */
const SELECTED_RUNS = process.env.BROWSER_RUNS?.split(',') ?? null;
const SUITE_TIMEOUT_MS = 240_000;

async function bundlePage() {
  const result = await esbuild.build({
    entryPoints: [join(ROOT, 'browser/entry.mjs')],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    logLevel: 'warning',
  });
  return result.outputFiles[0].contents;
}

/** The headers that make a page cross-origin isolated, which SharedArrayBuffer (wasm threads) needs. */
const CROSS_ORIGIN_ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/** A static server for the page, its bundle and the .wasm binaries; nothing else is reachable. */
function serve(bundle) {
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  const routes = {
    '/': { type: 'text/html', body: () => readFileSync(join(ROOT, 'browser/index.html')) },
    '/isolated': { type: 'text/html', body: () => readFileSync(join(ROOT, 'browser/index.html')), headers: CROSS_ORIGIN_ISOLATION },
    '/bundle.js': { type: 'text/javascript', body: () => bundle },
  };
  const server = createServer((request, response) => {
    const path = new URL(request.url, 'http://localhost').pathname;
    const wasm = /^\/wasm\/([\w.-]+\.wasm)$/.exec(path);
    const route = wasm ? { type: 'application/wasm', body: () => readFileSync(join(wasmDir, wasm[1])) } : routes[path];
    try {
      if (!route) throw Object.assign(new Error('not found'), { code: 'ENOENT' });
      const body = route.body();
      response.writeHead(200, { 'content-type': route.type, 'content-length': body.length, ...route.headers });
      response.end(body);
    } catch (error) {
      response.writeHead(error.code === 'ENOENT' ? 404 : 500).end(String(error.message));
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One fresh page per run, so a backend that breaks its context cannot take the others with it. */
async function runOn(context, url, run) {
  const { label, backend, isolated } = run;
  const page = await context.newPage();
  const messages = [];
  page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => messages.push(`pageerror: ${error.message}`));
  try {
    await page.goto(isolated ? `${url}isolated` : url);
    const result = await withTimeout(
      page.evaluate(([name, options]) => window.runSuiteOn(name, options), [backend, { f16: run.f16 === true }]),
      SUITE_TIMEOUT_MS,
      `the suite on ${label}`,
    );
    return { ...result, label, messages };
  } catch (error) {
    return { backend, label, ran: false, reason: error.message.split('\n')[0], messages };
  } finally {
    await page.close();
  }
}

/** The library's own verify table, with a row for each run that could not start. */
function formatTable(results) {
  const { formatCheckTable } = require(join(ROOT, 'dist/cjs/index.js'));
  const rows = results.flatMap((result) =>
    result.ran
      ? result.rows.map((row) => ({ ...row, backend: result.label }))
      : [
          {
            backend: result.label,
            check: `(not run: ${result.reason})`,
            cases: 0,
            maxValueError: null,
            maxGradientError: 0,
            tolerance: '',
            passed: false,
          },
        ],
  );
  const failures = rows.filter((row) => !row.passed && row.failure).map((row) => `FAIL [${row.backend}] ${row.check}: ${row.failure}`);
  return [formatCheckTable(rows), ...failures].join('\n');
}

/**
 * What the fixtures and the half-float check must show: every case within tolerance (a run with
 * half-float textures is reported, not held to float32's tolerance), nothing leaked, and on a GPU
 * backend no read-back inside a loss or its gradient.
 */
function fixtureFailures(run, result) {
  const failures = [];
  for (const row of result.fixtures) {
    if (row.cases === 0) failures.push(`${run.label}: no ${row.loss} fixture ran`);
    if (row.failures.length > 0 && !run.f16) failures.push(`${run.label}: ${row.failures.length} ${row.loss} fixtures failed`);
    if (row.leaked !== 0) failures.push(`${run.label}: ${row.loss} fixtures leaked ${row.leaked} tensors`);
    if (run.gpu && row.reads !== 0) failures.push(`${run.label}: ${row.loss} read data back ${row.reads} times`);
  }
  for (const row of result.finiteness ?? []) {
    if (!row.finite) failures.push(`${run.label}: ${row.name} is not finite (loss ${row.value}, ${row.nonFiniteGradients} gradients)`);
  }
  return failures;
}

async function main() {
  const start = Date.now();
  const server = await serve(await bundlePage());
  const url = `http://127.0.0.1:${server.address().port}/`;
  if (process.argv.includes('--serve')) {
    console.log(`serving the test page at ${url} (Ctrl-C to stop)`);
    return 0;
  }
  if (!existsSync(CHROMIUM)) {
    server.close();
    throw new Error(
      `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium, as .ci/run does) or set CHROMIUM_PATH`,
    );
  }
  const userDataDir = mkdtempSync(join(tmpdir(), 'tfjs-loss-adapter-chromium-'));
  let context;
  const results = [];
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      timeout: 60_000,
    });
    console.log(`${CHROMIUM} (${context.browser()?.version() ?? 'version unknown'}) at ${url}`);
    for (const run of RUNS) if (SELECTED_RUNS === null || SELECTED_RUNS.includes(run.label)) results.push(await runOn(context, url, run));
  } finally {
    await context?.close();
    server.close();
    rmSync(userDataDir, { recursive: true, force: true });
  }

  console.log(`\n${formatTable(results)}\n`);
  const failures = [];
  for (const result of results) {
    const run = RUNS.find((r) => r.label === result.label);
    const { label, required } = run;
    const failed = result.ran ? result.rows.filter((row) => !row.passed) : [];
    if (result.ran) {
      console.log(
        `${label}: ${result.rows.length} checks, ${failed.length} failed, ${result.leaked} tensors leaked, ${result.seconds.toFixed(1)} s${result.details ? `; ${result.details}` : ''}`,
      );
      for (const row of result.fixtures) {
        console.log(
          `  fixtures ${row.loss}: ${row.cases} cases, ${row.failures.length} failed, worst ${row.worst.toPrecision(2)} of tolerance, ${row.reads} reads, ${row.leaked} leaked`,
        );
        for (const failure of row.failures.slice(0, 3)) console.log(`    ${failure}`);
      }
      for (const row of result.finiteness ?? []) {
        console.log(
          `  finite ${row.name}: ${row.finite ? 'yes' : 'NO'} (mean loss ${row.value}, ${row.nonFiniteGradients} non-finite gradients)`,
        );
      }
    } else {
      console.log(`${label}: not run: ${result.reason}`);
      const hints = result.messages.filter((message) => /webgl|backend|error|warn/i.test(message)).slice(0, 5);
      for (const hint of hints) console.log(`    console ${hint.slice(0, 300)}`);
    }
    if (!required) {
      if (!result.ran || failed.length) console.log(`${label}: reported, not asserted (optional here: software rendering)`);
      continue;
    }
    if (!result.ran) failures.push(`${label} did not run: ${result.reason}`);
    else if (result.rows.length === 0 && !run.f16) failures.push(`${label} ran no checks`);
    else if (failed.length) failures.push(`${label}: ${failed.map((row) => row.check).join(', ')} failed`);
    else if (result.leaked !== 0) failures.push(`${label}: the suite leaked ${result.leaked} tensors`);
    else if (run.isolated && !result.threads) failures.push(`${label}: the isolated page did not get wasm threads (${result.details})`);
    if (result.ran) failures.push(...fixtureFailures(run, result));
  }
  console.log(`browser test: ${((Date.now() - start) / 1000).toFixed(1)} s`);
  if (failures.length) {
    console.error(`\nbrowser test failed:\n  ${failures.join('\n  ')}`);
    return 1;
  }
  console.log(
    `browser test passed: every check passed on ${RUNS.filter((run) => run.required)
      .map((run) => run.label)
      .join(', ')}`,
  );
  return 0;
}

main().then(
  (code) => {
    if (code !== 0 || !process.argv.includes('--serve')) process.exit(code);
  },
  (error) => {
    console.error(`browser test: ${error.message ?? error}`);
    process.exit(1);
  },
);
