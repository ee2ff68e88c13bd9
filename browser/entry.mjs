// The browser test page's script, bundled by scripts/browser-test.mjs. `tfjs-loss-adapter` resolves
// through the package's own exports map (its `import` condition, dist/esm), as in a user's bundler.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { runVerifySuite } from 'tfjs-loss-adapter';

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
    return `WebGL ${tf.env().getNumber('WEBGL_VERSION')} on ${gl.canvas.constructor.name}, renderer ${rendererOf(gl)}`;
  }
  return '';
}

/** Runs the whole verify suite on one backend; never throws, says why a backend did not run. */
async function runSuiteOn(backend) {
  const start = performance.now();
  try {
    if (!(await tf.setBackend(backend))) {
      const context = backend === 'webgl' ? ` (${webglContexts()})` : '';
      return { backend, ran: false, reason: `tf.setBackend('${backend}') returned false${context}` };
    }
    await tf.ready();
    if (tf.getBackend() !== backend)
      return { backend, ran: false, reason: `tf.getBackend() is '${tf.getBackend()}' after setBackend('${backend}')` };
    const tensorsBefore = tf.memory().numTensors;
    const rows = runVerifySuite();
    const leaked = tf.memory().numTensors - tensorsBefore;
    const threads = backend === 'wasm' && tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
    return { backend, ran: true, rows, leaked, seconds: (performance.now() - start) / 1000, threads, details: backendDetails(backend) };
  } catch (error) {
    return { backend, ran: false, reason: `${error && error.message ? error.message : String(error)}` };
  }
}

window.runSuiteOn = runSuiteOn;
document.getElementById('run').addEventListener('click', async () => {
  const out = document.getElementById('out');
  for (const backend of ['cpu', 'wasm', 'webgl']) out.textContent += `${JSON.stringify(await runSuiteOn(backend), null, 2)}\n`;
});
