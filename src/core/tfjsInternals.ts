import * as tf from '@tensorflow/tfjs-core';

/**
 * Every use of tfjs internals in the library, each guarded: when a tfjs release renames what is used
 * here, the answer is "not available" (null or false) and the library falls back to a slower path
 * that uses public APIs only. `__tests__/core/tfjsInternals.test.ts` (and the browser test, for the
 * GPU program runners) fail loudly when that happens, so an upgrade never quietly loses a fast path.
 */

interface EngineState {
  gradientDepth: number;
  kernelDepth: number;
}

/**
 * True when the engine is recording a gradient tape for the op about to run (inside `tf.grad`,
 * `optimizer.minimize`, `model.fit`). The forward of a custom-gradient op runs at kernel depth 1;
 * deeper, the engine does not tape it. Without the state (a renamed internal) the answer is false,
 * and a kernel computes its gradient when asked for it instead: slower, never wrong.
 */
export function isRecordingGradient(): boolean {
  const state = engineState();
  return state !== null && state.gradientDepth > 0 && state.kernelDepth <= 1;
}

/**
 * True when the ops that run now are recorded on a gradient tape, outside every kernel. Asked by a
 * gradient function, it says whether that gradient is itself being differentiated (a gradient of a
 * gradient: `tf.grad` of a function that calls `tf.grad`), since the engine runs gradient functions
 * outside kernels and records them only while an outer tape is open. Without the state (a renamed
 * internal) the answer is false: first-order gradients stay right, and the canary test fails.
 */
export function isRecordingBackward(): boolean {
  const state = engineState();
  return state !== null && state.gradientDepth > 0 && state.kernelDepth === 0;
}

/**
 * True when the op about to run is recorded under two or more nested gradient tapes (`tf.grad` inside
 * `tf.grad`): only then can its backward pass be recorded in turn, since the engine records a gradient
 * function only while an outer tape is open. A custom-gradient op asks in its forward pass whether to
 * keep what a differentiable backward pass needs. False without the state.
 */
export function mayRecordBackward(): boolean {
  const state = engineState();
  return state !== null && state.gradientDepth > 1 && state.kernelDepth <= 1;
}

/** The engine's tape state (`tf.engine().state`), or null when this tfjs has none of that shape. */
export function engineState(): EngineState | null {
  const state = (tf.engine() as unknown as { state?: Partial<EngineState> }).state;
  if (state === undefined || typeof state.gradientDepth !== 'number' || typeof state.kernelDepth !== 'number') return null;
  return state as EngineState;
}

/** The part of tfjs-backend-wasm's backend that exposes a tensor's memory in the WebAssembly heap. */
interface HeapBackend {
  dataIdMap: { has(dataId: object): boolean };
  typedArrayFromHeap(info: { shape: number[]; dtype: tf.DataType; dataId: object }): Float32Array | Int32Array;
}

/**
 * On wasm, a view of `t`'s memory in the WebAssembly heap instead of a copy; null elsewhere, or when
 * the data does not live in this backend's heap yet (a tensor made on another backend moves lazily).
 * Valid until the heap grows, i.e. until the next tensor is allocated: read it before making any.
 */
export function wasmHeapView(t: tf.Tensor): Float32Array | Int32Array | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend = tf.backend() as Partial<HeapBackend>;
  if (typeof backend.typedArrayFromHeap !== 'function' || backend.dataIdMap?.has(t.dataId) !== true) return null;
  return backend.typedArrayFromHeap({ shape: t.shape, dtype: t.dtype, dataId: t.dataId });
}

/**
 * A custom GPU program's runner on the current backend: webgl's `compileAndRun(program, inputs,
 * dtype, uniforms)` or webgpu's `runWebGPUProgram(program, inputs, dtype, uniforms)`. The program
 * objects are the backends' own (`GPGPUProgram`, `WebGPUProgram`), described in `kernels/webgl` and
 * `kernels/webgpu`. The result is a tensor owned by the caller.
 */
export type ProgramRunner<Program, Uniforms> = (
  program: Program,
  inputs: tf.Tensor[],
  dtype: tf.DataType,
  uniforms?: Uniforms,
) => tf.Tensor;

interface WebGLBackendInternals {
  compileAndRun(program: unknown, inputs: tf.TensorInfo[], outputDtype?: tf.DataType, customUniformValues?: number[][]): tf.TensorInfo;
}

interface WebGPUBackendInternals {
  runWebGPUProgram(program: unknown, inputs: tf.TensorInfo[], outputDtype: tf.DataType, programDefinedUniform?: unknown[]): tf.TensorInfo;
}

/** The current backend, when it is `name` and has `method`: the guard of every runner below. */
function backendWith<B>(name: string, method: keyof B & string): B | null {
  if (tf.getBackend() !== name) return null;
  const backend = tf.backend() as unknown as Partial<B>;
  return typeof backend[method] === 'function' ? (backend as B) : null;
}

/** A tensor that owns `info`, the output of a program run by hand. */
function ownedTensor(info: tf.TensorInfo): tf.Tensor {
  return tf.engine().makeTensorFromTensorInfo(info);
}

/** The webgl backend's `compileAndRun`, or null on another backend or a tfjs without it. */
export function webglRunner<Program>(): ProgramRunner<Program, number[][]> | null {
  const backend = backendWith<WebGLBackendInternals>('webgl', 'compileAndRun');
  if (backend === null) return null;
  return (program, inputs, dtype, uniforms) => ownedTensor(backend.compileAndRun(program, inputs, dtype, uniforms));
}

/** The webgpu backend's `runWebGPUProgram`, or null on another backend or a tfjs without it. */
export function webgpuRunner<Program, Uniform>(): ProgramRunner<Program, Uniform[]> | null {
  const backend = backendWith<WebGPUBackendInternals>('webgpu', 'runWebGPUProgram');
  if (backend === null) return null;
  return (program, inputs, dtype, uniforms) => ownedTensor(backend.runWebGPUProgram(program, inputs, dtype, uniforms));
}

interface WebGLTextureInternals {
  texData: { get(dataId: object): { isPacked?: boolean } | undefined };
  unpackTensor(input: tf.TensorInfo): tf.TensorInfo;
}

/**
 * On webgl, `t` as an unpacked texture (one value per texel), the layout that custom programs read:
 * `t` itself when it is one already (uploads, and the outputs of most programs), else an unpacked copy
 * owned by the caller (packed programs such as matMul leave their outputs packed). Unpacking once
 * spares the backend from unpacking (and reshaping) it again for every program that reads it. Without
 * these internals, `t` itself: the backend then unpacks it for each program, slower but the same.
 */
export function webglUnpacked(t: tf.Tensor): tf.Tensor {
  const backend = backendWith<WebGLTextureInternals>('webgl', 'unpackTensor');
  if (backend === null || typeof backend.texData?.get !== 'function') return t;
  if (backend.texData.get(t.dataId)?.isPacked !== true) return t;
  return ownedTensor(backend.unpackTensor({ dataId: t.dataId, shape: t.shape, dtype: t.dtype }));
}

interface WebGPUTensorMap {
  tensorMap: { get(dataId: object): { dtype: tf.DataType } | undefined };
}

/**
 * The dtype of the buffer behind `t` on webgpu, which may differ from `t.dtype`: tfjs-webgpu casts
 * int32 to float32 by relabelling the int32 buffer (no encoding loss), and its own programs declare
 * each input by the buffer's dtype. `t.dtype` off webgpu, or where the map is not there.
 */
export function webgpuBufferDtype(t: tf.Tensor): tf.DataType {
  if (tf.getBackend() !== 'webgpu') return t.dtype;
  const backend = tf.backend() as unknown as Partial<WebGPUTensorMap>;
  return backend.tensorMap?.get(t.dataId)?.dtype ?? t.dtype;
}
