// The browser test page's script, bundled by scripts/browser-test.mjs. `tfjs-loss-adapter` resolves
// through the package's own exports map (its `import` condition, dist/esm), as in a user's bundler.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { runVerifySuiteAsync } from 'tfjs-loss-adapter';
import { checkFiniteness } from './f16.mjs';
import { runFixtures } from './fixtures.mjs';

// The server maps /wasm/ to @tensorflow/tfjs-backend-wasm/dist, which holds the three .wasm binaries.
setWasmPaths('/wasm/');
tf.enableProdMode();

/** Why a WebGL backend may be missing: which contexts the browser gives, and its renderer. */
function webglContexts() {
  const describe = (kind) => {
    const gl = document.createElement('canvas').getContext(kind);
    if (gl === null) return `${kind}: no context`;
    return `${kind}: ${rendererOf(gl)}`;
  };
  return ['webgl2', 'webgl'].map(describe).join('; ');
}

/** The renderer behind a WebGL context, e.g. SwiftShader, Chromium's software rasterizer. */
function rendererOf(gl) {
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  return gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
}

function backendDetails(backend) {
  if (backend === 'wasm') {
    const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT')
      ? `threaded build (XNNPACK threads: ${getThreadsCount()})`
      : 'single-threaded build';
    return `SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, ${threads}, crossOriginIsolated ${self.crossOriginIsolated}`;
  }
  if (backend === 'webgl') {
    const gl = tf.backend().gpgpu.gl;
    const f16 = tf.env().getBool('WEBGL_FORCE_F16_TEXTURES') ? ', half-float textures forced' : '';
    return `WebGL ${tf.env().getNumber('WEBGL_VERSION')} on ${gl.canvas.constructor.name}, renderer ${rendererOf(gl)}${f16}`;
  }
  if (backend === 'webgpu') {
    const info = tf.backend().adapterInfo;
    return `WebGPU adapter ${info ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') : 'unknown'}`;
  }
  return '';
}

/**
 * The PyTorch fixtures' tolerance per backend: float32's on the host backends (as in Node); on GPU
 * backends rtol 1e-4, for transcendental functions that are accurate to a few float32 ulps there,
 * not to half an ulp. Half-float textures are reported against the same tolerance, not asserted.
 */
function fixtureTolerance(backend) {
  return backend === 'webgl' || backend === 'webgpu' ? { rtol: 1e-4, atol: 1e-5 } : { rtol: 1e-5, atol: 1e-6 };
}

/**
 * Runs the whole verify suite and every PyTorch fixture on one backend, reading only with `await
 * data()`; with `f16`, WebGL with half-float textures, and the finiteness check at training shapes.
 * Never throws; says why a backend did not run.
 */
async function runSuiteOn(backend, { f16 = false } = {}) {
  const start = performance.now();
  try {
    if (f16) tf.env().set('WEBGL_FORCE_F16_TEXTURES', true);
    if (!(await tf.setBackend(backend))) {
      const context = backend === 'webgl' ? ` (${webglContexts()})` : '';
      return { backend, ran: false, reason: `tf.setBackend('${backend}') returned false${context}` };
    }
    await tf.ready();
    if (tf.getBackend() !== backend)
      return { backend, ran: false, reason: `tf.getBackend() is '${tf.getBackend()}' after setBackend('${backend}')` };
    const fixtures = await runFixtures(fixtureTolerance(backend));
    const tensorsBefore = tf.memory().numTensors;
    // With half-float textures only the fixtures (reported) and the finiteness check run.
    const rows = f16 ? [] : await runVerifySuiteAsync();
    const leaked = tf.memory().numTensors - tensorsBefore;
    const finiteness = f16 ? await checkFiniteness() : null;
    const threads = backend === 'wasm' && tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
    const seconds = (performance.now() - start) / 1000;
    return { backend, ran: true, rows, leaked, fixtures, finiteness, seconds, threads, details: backendDetails(backend) };
  } catch (error) {
    return { backend, ran: false, reason: `${error && error.message ? error.message : String(error)}` };
  }
}

window.runSuiteOn = runSuiteOn;
document.getElementById('run').addEventListener('click', async () => {
  const out = document.getElementById('out');
  for (const backend of ['cpu', 'wasm', 'webgl', 'webgpu']) out.textContent += `${JSON.stringify(await runSuiteOn(backend), null, 2)}\n`;
});
