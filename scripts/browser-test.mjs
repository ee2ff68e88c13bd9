#!/usr/bin/env node
// `npm run test:browser`: the verify suite and every PyTorch fixture in a real browser. Bundles
// browser/entry.mjs with esbuild (the library through its own exports map, i.e. dist/esm: run `npm run
// build` first), serves it on a random localhost port with the tfjs-backend-wasm binaries, drives
// Debian's Chromium headless with playwright-core (no browser is ever downloaded; all of this is
// scripts/browser.mjs), and runs `runVerifySuiteAsync()` and the fixtures (read with `await data()`)
// on cpu, wasm (single- and multi-threaded), webgl, webgl with half-float textures, and webgpu, one
// fresh page each. Every check and fixture must pass, nothing may leak, and on webgl and webgpu a loss
// and its gradient must never read data back to the host; with half-float textures every loss and
// gradient must stay finite for logits in [-30, 30].
//
//   node scripts/browser-test.mjs            the test (exit 1 on a failure)
//   node scripts/browser-test.mjs --serve    only serve the page, to open it in a browser by hand
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  CHROMIUM,
  CROSS_ORIGIN_ISOLATION,
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
import { ROOT } from './entries.mjs';

const require = createRequire(import.meta.url);
/** No GPU here: WebGL and WebGPU on Chromium's software renderer, SwiftShader (see scripts/browser.mjs). */
const CHROMIUM_FLAGS = [...HEADLESS_FLAGS, ...SWIFTSHADER_WEBGL_FLAGS, ...SWIFTSHADER_WEBGPU_FLAGS];
/**
 * What runs, one fresh page each. The wasm backend runs twice: on a plain page (single-threaded SIMD,
 * what most sites get) and on a cross-origin isolated page (COOP/COEP headers), where tfjs picks its
 * multi-threaded build and the WebAssembly heap is a SharedArrayBuffer.
 */
const RUNS = [
  { label: 'cpu', backend: 'cpu', isolated: false, required: true },
  { label: 'wasm', backend: 'wasm', isolated: false, required: true },
  { label: 'wasm (threads)', backend: 'wasm', isolated: true, required: true },
  { label: 'webgl', backend: 'webgl', isolated: false, gpu: true, kernels: 'webgl', required: true },
  // Half-float textures, as many phones give: fixture errors reported, every loss and gradient finite.
  { label: 'webgl (f16)', backend: 'webgl', isolated: false, gpu: true, kernels: 'webgl', f16: true, required: true },
  { label: 'webgpu', backend: 'webgpu', isolated: false, gpu: true, kernels: 'webgpu', required: true },
];
/** `BROWSER_RUNS=webgl,webgpu` (labels, comma-separated) narrows the runs for a quick local check. */
const SELECTED_RUNS = process.env.BROWSER_RUNS?.split(',') ?? null;
const SUITE_TIMEOUT_MS = 240_000;

/** One fresh page per run, so a backend that breaks its context cannot take the others with it. */
async function runOn(context, url, run) {
  const { label, backend, isolated } = run;
  const { page, messages } = await newPage(context);
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
  // The canary of the GPU program runners (tfjs internals): the fused kernels must be what runs.
  if (run.kernels !== undefined && result.implementation !== run.kernels) {
    failures.push(`${run.label}: the losses ran on '${result.implementation}', not the fused '${run.kernels}' kernels`);
  }
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
  const page = { file: 'browser/index.html' };
  const server = await serve(
    { '/': page, '/isolated': { ...page, headers: CROSS_ORIGIN_ISOLATION } },
    await bundlePage('browser/entry.mjs'),
  );
  const url = baseUrl(server);
  if (process.argv.includes('--serve')) {
    console.log(`serving the test page at ${url} (Ctrl-C to stop)`);
    return 0;
  }
  let browser;
  const results = [];
  try {
    browser = await launchChromium(CHROMIUM_FLAGS);
    console.log(`${CHROMIUM} (${browser.version}) at ${url}`);
    for (const run of RUNS)
      if (SELECTED_RUNS === null || SELECTED_RUNS.includes(run.label)) results.push(await runOn(browser.context, url, run));
  } finally {
    await browser?.close();
    server.close();
  }

  console.log(`\n${formatTable(results)}\n`);
  const failures = [];
  for (const result of results) {
    const run = RUNS.find((r) => r.label === result.label);
    const { label, required } = run;
    const failed = result.ran ? result.rows.filter((row) => !row.passed) : [];
    if (result.ran) {
      console.log(
        `${label}: ${result.rows.length} checks, ${failed.length} failed, ${result.leaked} tensors leaked, kernels '${result.implementation}', ${result.seconds.toFixed(1)} s${result.details ? `; ${result.details}` : ''}`,
      );
      for (const row of result.fixtures) {
        console.log(
          `  fixtures ${row.loss}: ${row.cases} cases, ${row.failures.length} failed, ${row.flushed.length} with subnormal inputs (flushed to 0 by the GPU, not compared), worst ${row.worst.toPrecision(2)} of tolerance, ${row.reads} reads, ${row.leaked} leaked`,
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
  console.log(`browser test passed: every check passed on ${results.map((result) => result.label).join(', ')}`);
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
