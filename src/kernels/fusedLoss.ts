import * as tf from '@tensorflow/tfjs-core';
import type { ClassLayout } from '../core/layout';
import { checkOneOf, Reduction } from '../core/options';
import { describeValue } from '../core/tensors';
import { isHostMemoryBackend } from '../core/validation';

/** What a fused kernel returns: the loss, and when asked, its gradients computed in the same pass. */
export interface FusedResult {
  /** The loss: one value for 'mean' and 'sum', one per sample for 'none'. */
  value: Float32Array;
  valueShape: number[];
  /**
   * For each differentiable input, the gradient of `value` (of each sample's own loss for 'none').
   * The arrays belong to the caller, which scales them in place.
   */
  gradients?: Float32Array[];
}

/** What a composite returns: the same as a `FusedResult`, as tensors that never leave the backend. */
export interface CompositeResult {
  value: tf.Tensor;
  /** Each of the input's shape, as `FusedResult.gradients`. */
  gradients?: tf.Tensor[];
}

/** A fused host kernel: gets the values of the differentiable inputs, read to the host. */
export type FusedRun = (withGradients: boolean, values: Float32Array[]) => FusedResult;
/** The same loss as a composite of tfjs ops on the differentiable inputs, for backends whose data lives on a device. */
export type CompositeRun = (withGradients: boolean, inputs: tf.Tensor[]) => CompositeResult;

/**
 * Which implementation the losses run:
 * - `'fused'`: read the inputs to the host and compute loss and gradient in one JavaScript pass;
 * - `'composite'`: tfjs ops with the same closed-form gradient, the data never leaves the backend;
 * - `'auto'` (default): fused on the backends whose data lives in host memory (`cpu`, `wasm`,
 *   `tensorflow`), composite on the others (`webgl`, `webgpu`, ...), where reading back would stall.
 */
export type KernelPath = 'auto' | 'fused' | 'composite';

const KERNEL_PATHS: readonly KernelPath[] = ['auto', 'fused', 'composite'];
let kernelPath: KernelPath = 'auto';

/**
 * Chooses the implementation of every loss from now on (see `KernelPath`). Both give the same values
 * and gradients to float32 rounding; `'composite'` on `cpu` or `wasm` is for tests and comparisons.
 *
 * ```js
 * setKernelPath('composite');   // e.g. to check the webgl path on cpu
 * setKernelPath('auto');
 * ```
 */
export function setKernelPath(path: KernelPath): void {
  kernelPath = checkOneOf(path, KERNEL_PATHS, 'setKernelPath', 'path', describeValue);
}

/** The setting last given to `setKernelPath` (`'auto'` until then). */
export function getKernelPath(): KernelPath {
  return kernelPath;
}

/** The implementation the losses use on `backend` (default: the current one) under the current setting. */
export function resolveKernelPath(backend: string = tf.getBackend()): 'fused' | 'composite' {
  if (kernelPath !== 'auto') return kernelPath;
  return isHostMemoryBackend(backend) ? 'fused' : 'composite';
}

interface EngineState {
  gradientDepth: number;
  kernelDepth: number;
}

/**
 * True when the engine is recording a gradient tape for the op about to run (inside `tf.grad`,
 * `optimizer.minimize`, `model.fit`). The forward of a custom-gradient op runs at kernel depth 1;
 * deeper, the engine does not tape it. If a future tfjs renames this state, the answer is `false`
 * and the gradient is computed when asked for instead: slower, never wrong.
 */
function isRecordingGradient(): boolean {
  const state = (tf.engine() as unknown as { state?: EngineState }).state;
  return state !== undefined && state.gradientDepth > 0 && state.kernelDepth <= 1;
}

/** The part of tfjs-backend-wasm's backend that exposes a tensor's memory in the WebAssembly heap. */
interface HeapBackend {
  dataIdMap: { has(dataId: object): boolean };
  typedArrayFromHeap(info: { shape: number[]; dtype: tf.DataType; dataId: object }): Float32Array;
}

/**
 * The float32 values of `t` on the host. On wasm, a view of the heap instead of a copy: valid until
 * the heap grows, i.e. until the next tensor is allocated, so a kernel reads it before making any.
 */
export function hostValues(t: tf.Tensor): Float32Array {
  const backend = tf.backend() as Partial<HeapBackend>;
  // Only for data that already lives in this backend's heap (a tensor made on another backend moves lazily).
  if (tf.getBackend() === 'wasm' && typeof backend.typedArrayFromHeap === 'function' && backend.dataIdMap?.has(t.dataId) === true) {
    return backend.typedArrayFromHeap({ shape: t.shape, dtype: t.dtype, dataId: t.dataId });
  }
  return t.dataSync() as Float32Array;
}

/** Multiplies each element's gradient by the upstream gradient of the sample it belongs to. */
function scaleByUpstream(gradient: Float32Array, layout: ClassLayout, dy: Float32Array): void {
  if (dy.length === 1) {
    const scale = dy[0];
    if (scale !== 1) for (let e = 0; e < gradient.length; e++) gradient[e] *= scale;
    return;
  }
  const { outer, classes, inner } = layout;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < classes; c++) {
      const base = (o * classes + c) * inner;
      const sampleBase = o * inner;
      for (let i = 0; i < inner; i++) gradient[base + i] *= dy[sampleBase + i];
    }
  }
}

/** The composite counterpart of `scaleByUpstream`: broadcasts each sample's upstream gradient over its classes. */
function scaleByUpstreamTensor(gradient: tf.Tensor, layout: ClassLayout, dy: tf.Tensor): tf.Tensor {
  if (dy.size === 1) return tf.mul(gradient, tf.reshape(dy, []));
  const { outer, classes, inner } = layout;
  return tf.reshape(tf.mul(tf.reshape(gradient, [outer, classes, inner]), tf.reshape(dy, [outer, 1, inner])), gradient.shape);
}

function fused(differentiable: tf.Tensor[], layout: ClassLayout, run: FusedRun): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const inputs = args.slice(0, differentiable.length) as tf.Tensor[];
    // Read again when the backward pass recomputes: a wasm heap view may be stale by then.
    const runOnHost = (withGradients: boolean) => run(withGradients, inputs.map(hostValues));
    const result = runOnHost(isRecordingGradient());
    return {
      value: tf.tensor(result.value, result.valueShape, 'float32'),
      gradFunc: (dy: tf.Tensor) => {
        const gradients = result.gradients ?? runOnHost(true).gradients;
        result.gradients = undefined; // scaled in place below: a second backward pass recomputes them
        if (gradients === undefined) throw new Error('fusedLoss: kernel returned no gradients when asked for them');
        const upstream = dy.dataSync() as Float32Array;
        return gradients.map((gradient, k) => {
          scaleByUpstream(gradient, layout, upstream);
          return tf.tensor(gradient, inputs[k].shape, 'float32');
        });
      },
    };
  });
  return op(...differentiable);
}

function composite(differentiable: tf.Tensor[], layout: ClassLayout, run: CompositeRun): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const inputs = args.slice(0, differentiable.length) as tf.Tensor[];
    const save = args[differentiable.length] as tf.GradSaveFunc;
    const result = run(isRecordingGradient(), inputs);
    // Kept (as clones sharing the data) past this op's scope, disposed by the engine after the backward pass.
    if (result.gradients !== undefined) save(result.gradients);
    return {
      value: result.value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const gradients = saved.length > 0 ? saved : run(true, inputs).gradients;
        if (gradients === undefined) throw new Error('fusedLoss: composite returned no gradients when asked for them');
        return gradients.map((gradient) => scaleByUpstreamTensor(gradient, layout, dy));
      },
    };
  });
  return op(...differentiable);
}

/**
 * Wraps a loss as a tfjs op with a closed-form gradient (`tf.customGrad`), on the path that
 * `resolveKernelPath` chooses:
 * - fused: `run(withGradients, values)` computes the loss from the values of `differentiable` read to
 *   the host; when a gradient tape is recording it also returns the gradients from the same pass, and
 *   the backward pass only scales them by the upstream gradient;
 * - composite (when `compositeRun` is given and the inputs are not empty): the same with tfjs ops, no
 *   data read back.
 * `layout` maps each element of the differentiable inputs (all of one shape) to its sample.
 */
export function fusedLoss(differentiable: tf.Tensor[], layout: ClassLayout, run: FusedRun, compositeRun?: CompositeRun): tf.Tensor {
  // An empty input has nothing to read back, and tfjs-wasm reduces empty tensors to garbage: fused.
  const empty = differentiable.some((t) => t.size === 0);
  if (compositeRun !== undefined && !empty && resolveKernelPath() === 'composite') return composite(differentiable, layout, compositeRun);
  return fused(differentiable, layout, run);
}

/** Packs the reduced loss: per sample for 'none', the scaled total otherwise (NaN for a mean over nothing, as 0/0). */
export function finish(
  total: number,
  scale: number,
  perSample: Float32Array | null,
  sampleShape: number[],
  reduction: Reduction,
  gradients: Float32Array[] | undefined,
): FusedResult {
  if (reduction === 'none' && perSample !== null) return { value: perSample, valueShape: sampleShape, gradients };
  return { value: Float32Array.of(total * scale), valueShape: [], gradients };
}
