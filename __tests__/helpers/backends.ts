import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

/**
 * The backends every suite runs on: cpu and wasm always, tensorflow (tfjs-node) when it loads.
 * `TFJS_BACKENDS=cpu` (comma-separated) narrows the list for a quick local run.
 */
export const BACKENDS: string[] = (() => {
  const requested = process.env.TFJS_BACKENDS?.split(',').filter(Boolean);
  const available = ['cpu', 'wasm'];
  try {
    require('@tensorflow/tfjs-node');
    available.unshift('tensorflow');
  } catch {
    // tfjs-node is optional: not installed, or its native library failed to load.
  }
  return requested ?? available;
})();

/** Runs `body` once per backend, inside a describe block that switches to that backend first. */
export function describeEachBackend(name: string, body: (backend: string) => void): void {
  for (const backend of BACKENDS) {
    describe(`${name} [${backend}]`, () => {
      beforeAll(async () => {
        if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} failed to initialise`);
        await tf.ready();
      });
      body(backend);
    });
  }
}

/** Runs `fn` and fails if it leaves tensors behind; returns what `fn` returned, as plain values. */
export function expectNoLeak<T>(fn: () => T): T {
  const before = tf.memory().numTensors;
  const result = fn();
  expect(tf.memory().numTensors).toBe(before);
  return result;
}
