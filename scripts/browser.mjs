// What the browser scripts share (scripts/browser-test.mjs, scripts/bench-browser.mjs): a page entry
// bundled by esbuild (the library through its own exports map, i.e. dist/esm: run `npm run build`
// first), a static localhost server for its pages, the bundle and the tfjs-backend-wasm binaries, and
// Debian's Chromium driven headless by playwright-core (no browser is ever downloaded).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium } from 'playwright-core';
import { ROOT } from './entries.mjs';

const require = createRequire(import.meta.url);
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless as root in a container: no sandbox, nothing that phones home. */
export const HEADLESS_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
/**
 * No GPU: WebGL then needs Chromium's software renderer, ANGLE on SwiftShader, which Chromium only
 * offers for WebGL when told that the (unsafe for untrusted content) SwiftShader fallback is fine: we
 * load only our own pages.
 */
export const SWIFTSHADER_WEBGL_FLAGS = ['--disable-gpu', '--use-angle=swiftshader', '--enable-unsafe-swiftshader'];
/** WebGPU (off by default on Linux) on Dawn's SwiftShader (Vulkan on the CPU) adapter. */
export const SWIFTSHADER_WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'];
/** The machine's GPU for both APIs: WebGPU through Vulkan, and no blocklist between us and the driver. */
export const HARDWARE_GPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--ignore-gpu-blocklist'];

/** The headers that make a page cross-origin isolated, which SharedArrayBuffer (wasm threads) needs. */
export const CROSS_ORIGIN_ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/** `entry` (relative to the repository) and everything it imports, as one browser script. */
export async function bundlePage(entry) {
  const result = await esbuild.build({
    entryPoints: [join(ROOT, entry)],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'iife',
    target: 'es2020',
    logLevel: 'warning',
  });
  return result.outputFiles[0].contents;
}

/**
 * A static server on a random localhost port: `pages` maps a path to `{ file, headers? }` (an HTML
 * file of the repository), `/bundle.js` is `bundle`, `/wasm/*.wasm` the tfjs-backend-wasm binaries;
 * nothing else is reachable. Resolves once it listens.
 */
export function serve(pages, bundle) {
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  const routes = { '/bundle.js': { type: 'text/javascript', body: () => bundle } };
  for (const [path, { file, headers }] of Object.entries(pages))
    routes[path] = { type: 'text/html', body: () => readFileSync(join(ROOT, file)), headers };
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

/** The server's base URL, e.g. `http://127.0.0.1:41234/`. */
export const baseUrl = (server) => `http://127.0.0.1:${server.address().port}/`;

/**
 * Chromium with `flags` in a fresh profile: `{ context, version, close }`, where `close()` also removes
 * the profile. Throws with the way out when there is no browser at CHROMIUM.
 */
export async function launchChromium(flags) {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium, as .ci/run does) or set CHROMIUM_PATH`,
    );
  const userDataDir = mkdtempSync(join(tmpdir(), 'tfjs-loss-adapter-chromium-'));
  const removeProfile = () => rmSync(userDataDir, { recursive: true, force: true });
  let context;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: flags,
      timeout: 60_000,
    });
  } catch (error) {
    removeProfile();
    throw error;
  }
  return {
    context,
    version: context.browser()?.version() ?? 'version unknown',
    close: async () => {
      await context.close();
      removeProfile();
    },
  };
}

/** A fresh page, with every console message and page error collected in `messages`. */
export async function newPage(context) {
  const page = await context.newPage();
  const messages = [];
  page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
  page.on('pageerror', (error) => messages.push(`pageerror: ${error.message}`));
  return { page, messages };
}

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
