// The browser benchmark page's script, bundled by scripts/bench-browser.mjs. `tfjs-loss-adapter`
// resolves through the package's own exports map (its `import` condition, dist/esm), as in a user's
// bundler. The driver calls `window.benchOn(backend, plan)` once per fresh page.
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import { binaryCrossEntropyWithLogits, crossEntropy, setKernelPath } from 'tfjs-loss-adapter';
import { watch } from './probes.mjs';

// The server maps /wasm/ to @tensorflow/tfjs-backend-wasm/dist, which holds the three .wasm binaries.
setWasmPaths('/wasm/');
tf.enableProdMode();

/** The method every shader dispatch of a GPU backend goes through, `compileAndRun`'s included. */

/** Seeded uniform numbers in [0, 1) (mulberry32): the same inputs on every backend and run. */
function uniform(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/**
 * The inputs of a case, made outside the timed region, and its three implementations: our loss on the
 * path the library picks (`ours`), on its composite path of tfjs ops (`composite`), and tfjs' built-in
 * loss (`builtin`), which gets its one-hot labels made in advance.
 */
function prepare({ kind, shape }) {
  const next = uniform(1);
  const [n, classes] = shape;
  const size = shape.reduce((a, b) => a * b, 1);
  const logits = tf.tensor(
    Float32Array.from({ length: size }, () => (next() * 2 - 1) * 5),
    shape,
  );
  if (kind === 'ce') {
    const labels = tf.tensor1d(
      Int32Array.from({ length: n }, () => Math.floor(next() * classes)),
      'int32',
    );
    const oneHot = tf.tidy(() => tf.cast(tf.oneHot(labels, classes), 'float32'));
    const ours = (x) => crossEntropy(x, labels);
    return {
      logits,
      inputs: [logits, labels, oneHot],
      impls: [
        { name: 'ours', path: 'auto', loss: ours },
        { name: 'builtin', path: 'auto', loss: (x) => tf.losses.softmaxCrossEntropy(oneHot, x) },
        { name: 'composite', path: 'composite', loss: ours },
      ],
    };
  }
  const targets = tf.tensor1d(Float32Array.from({ length: n }, () => (next() < 0.5 ? 0 : 1)));
  const ours = (x) => binaryCrossEntropyWithLogits(x, targets);
  return {
    logits,
    inputs: [logits, targets],
    impls: [
      { name: 'ours', path: 'auto', loss: ours },
      { name: 'builtin', path: 'auto', loss: (x) => tf.losses.sigmoidCrossEntropy(targets, x) },
      { name: 'composite', path: 'composite', loss: ours },
    ],
  };
}

/** One forward + backward (value and gradient of the logits), returning both tensors. */
function stepOf(impl, logits) {
  const valueAndGrad = tf.valueAndGrad(impl.loss);
  return () => {
    setKernelPath(impl.path);
    const { value, grad } = valueAndGrad(logits);
    return [value, grad];
  };
}

/**
 * Milliseconds of one step until its loss is readable (`await data()`, never `dataSync()`: webgpu).
 * The gradient stays on the GPU, as in training, where the optimizer uses it there; reading the loss
 * waits for it all the same, since webgl's fence and webgpu's queue finish the work issued before.
 */
async function timeStep(step) {
  const start = performance.now();
  const results = step();
  await results[0].data();
  const elapsed = performance.now() - start;
  tf.dispose(results);
  return elapsed;
}

/**
 * One step, watched (`probes.mjs`): the GPU programs it dispatches (null on a backend without a
 * program runner) and the peak of `tf.memory().numBytes` above its value before. The reads that
 * follow are not counted.
 */
async function watchStep(step) {
  const { result, programs, peakBytes } = watch(step);
  await Promise.all(result.map((t) => t.data()));
  tf.dispose(result);
  return { programs, peakBytes };
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Warm-up, one watched step each, then rounds of one timed step per implementation, the order rotated
 * each round so that none always follows another: as many rounds as fit in `plan.budgetMs` (by the
 * last warm-up), within [plan.minRounds, plan.maxRounds].
 */
async function benchCase(c, backend, plan) {
  const { logits, inputs, impls } = prepare(c);
  try {
    const steps = impls.map((impl) => stepOf(impl, logits));
    let perRound = 0; // the last warm-up of each implementation
    for (const step of steps) {
      let last = 0;
      for (let k = 0; k < plan.warmup; k++) last = await timeStep(step);
      perRound += last;
    }
    const watched = [];
    for (const step of steps) watched.push(await watchStep(step));
    const rounds = Math.min(plan.maxRounds, Math.max(plan.minRounds, Math.floor(plan.budgetMs / Math.max(perRound, 1e-3))));
    const times = steps.map(() => []);
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < steps.length; k++) {
        const j = (round + k) % steps.length;
        times[j].push(await timeStep(steps[j]));
      }
    }
    const result = { case: c.name, rounds };
    impls.forEach((impl, j) => {
      result[impl.name] = { ms: median(times[j]), ...watched[j] };
    });
    return result;
  } finally {
    setKernelPath('auto');
    tf.dispose(inputs);
  }
}

/** The renderer behind a WebGL context, e.g. SwiftShader, Chromium's software rasterizer. */
function rendererOf(gl) {
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  return gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER);
}

/** What the backend runs on, and whether that is SwiftShader (a CPU emulation of a GPU). */
function deviceOf(backend) {
  if (backend === 'webgl') {
    const renderer = rendererOf(tf.backend().gpgpu.gl);
    return { name: `WebGL ${tf.env().getNumber('WEBGL_VERSION')}, ${renderer}`, swiftShader: /swiftshader/i.test(renderer) };
  }
  if (backend === 'webgpu') {
    const { vendor, architecture } = tf.backend().adapterInfo;
    return { name: `WebGPU adapter ${vendor || '?'} / ${architecture || '?'}`, swiftShader: /swiftshader/i.test(architecture) };
  }
  if (backend === 'wasm') {
    const threads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT') ? `${getThreadsCount()} threads` : 'single-threaded';
    return { name: `WebAssembly, SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT')}, ${threads}`, swiftShader: false };
  }
  return { name: 'JavaScript on the CPU', swiftShader: false };
}

/** Every case of `plan.cases` on `backend`; never throws, says why a backend did not run. */
async function benchOn(backend, plan) {
  try {
    if (!(await tf.setBackend(backend))) return { backend, ran: false, reason: `tf.setBackend('${backend}') returned false` };
    await tf.ready();
    const tensorsBefore = tf.memory().numTensors;
    const rows = [];
    for (const c of plan.cases) rows.push(await benchCase(c, backend, plan));
    return { backend, ran: true, device: deviceOf(backend), tfjs: tf.version.tfjs, rows, leaked: tf.memory().numTensors - tensorsBefore };
  } catch (error) {
    return { backend, ran: false, reason: `${error && error.message ? error.message : String(error)}` };
  }
}

window.benchOn = benchOn;
