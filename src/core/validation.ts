import * as tf from '@tensorflow/tfjs-core';
import { checkOneOf } from './options';
import { describeValue } from './tensors';

/**
 * How the losses check the *values* of their arguments: class indices in range and integral
 * (crossEntropy, nllLoss) and probabilities in [0, 1] (binaryCrossEntropy).
 *
 * - `'sync'`: the values are read to the host and checked before anything is computed; a bad value
 *   throws a `LossInputError` naming it and its position. On a GPU backend the read-back waits for
 *   the GPU (it stalls a training loop that would otherwise queue work ahead).
 * - `'device'`: the values are checked with tensor ops where they live, never read back for it. A
 *   bad value makes the loss NaN, and its gradient NaN: for reduction 'none' at the samples (BCE:
 *   elements) whose target (probability) is bad, for 'mean' and 'sum' the whole loss and gradient.
 *   NaN then reaches the weights through the optimizer, visibly; it never becomes a plausible number.
 *   (PyTorch on CUDA stops the process with a device-side assert instead.)
 *
 * Shapes, dtypes and options are checked synchronously in every mode: they are known without reading
 * any data, and they always throw.
 */
export type ValidationMode = 'sync' | 'device';

/**
 * `'auto'` (the default): `'sync'` on the backends whose data lives in host memory (`cpu`, `wasm`,
 * `tensorflow`), `'device'` on every other (`webgl`, `webgpu`, ...), where a read-back waits for the GPU.
 */
export type ValidationSetting = ValidationMode | 'auto';

const SETTINGS: readonly ValidationSetting[] = ['auto', 'sync', 'device'];

/** Backends whose tensors live in host memory: reading them costs a copy at most, never a wait for a device. */
const HOST_MEMORY_BACKENDS: readonly string[] = ['cpu', 'wasm', 'tensorflow'];

export function isHostMemoryBackend(backend: string): boolean {
  return HOST_MEMORY_BACKENDS.includes(backend);
}

let setting: ValidationSetting = 'auto';

/**
 * Chooses how every loss checks the values of its arguments from now on (see `ValidationMode`), like
 * `tf.setBackend`, for the whole program: `setValidation('sync')` on webgl while debugging a data
 * pipeline gives errors that name the bad label; `setValidation('device')` on cpu tests what a GPU
 * training run will see.
 *
 * ```js
 * const logits = tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]);
 * setValidation('device');   // on cpu: check label values as webgl and webgpu do
 * console.log(crossEntropy(logits, [0, 7]).dataSync()[0]); // => NaN
 * setValidation('auto');     // back to the default: 'sync' (throws) on cpu
 * ```
 */
export function setValidation(mode: ValidationSetting): void {
  setting = checkOneOf(mode, SETTINGS, 'setValidation', 'mode', describeValue);
}

/**
 * The setting last given to `setValidation` (`'auto'` until then).
 *
 * ```js
 * console.log(getValidation()); // => auto
 * ```
 */
export function getValidation(): ValidationSetting {
  return setting;
}

/** The mode in force for a call now: the setting, with `'auto'` resolved against the current backend. */
export function activeValidation(): ValidationMode {
  if (setting !== 'auto') return setting;
  return isHostMemoryBackend(tf.getBackend()) ? 'sync' : 'device';
}
