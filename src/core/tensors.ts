import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from './errors';

/** What every tensor argument accepts: a tensor, or numbers in (nested) arrays as `tf.tensor` takes them. */
export type TensorInput = tf.Tensor | tf.TensorLike;

/** `[2, 3]` for a shape, as every error message prints it. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** A non-tensor argument as an error message names it: `null`, `the string "abc"`, `an array of length 2`. */
export function describeValue(x: unknown): string {
  if (x === null || x === undefined) return String(x);
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + '…' : x)}`;
  if (typeof x === 'function') return 'a function';
  if (Array.isArray(x)) return `an array of length ${x.length}`;
  if (typeof x === 'object') return `an object of type ${(x as object).constructor?.name ?? 'Object'}`;
  return `the ${typeof x} ${String(x)}`;
}

export function isTensor(x: unknown): x is tf.Tensor {
  // Duck-typed so that a tensor from another copy of tfjs-core is still recognised.
  return x instanceof tf.Tensor || (typeof x === 'object' && x !== null && 'dataId' in x && 'shape' in x && 'dtype' in x);
}

type NumberArray = Float32Array | Int32Array | Uint8Array;

/** The typed arrays `tf.tensor` takes as they are (Uint8Array becomes int32). */
function isNumberArray(x: unknown): x is NumberArray {
  return x instanceof Float32Array || x instanceof Int32Array || x instanceof Uint8Array;
}

/**
 * What makes `x` unfit for `tf.tensor`, or null. tfjs (outside its debug mode) does not check nested
 * arrays: it reads `[[1, 2], [3]]` as a `[2, 2]` tensor with a made-up fourth value, `[1, null]` as
 * `[1, 0]` and `[1, undefined]` as `[1, NaN]`. Every row must have the length of the first row at its
 * depth, and every leaf must be a number.
 */
function nestedArrayProblem(x: unknown[]): string | null {
  const shape: number[] = [];
  for (let level: unknown = x; Array.isArray(level) || isNumberArray(level); level = level[0]) shape.push(level.length);
  const visit = (v: unknown, position: number[]): string | null => {
    const depth = position.length;
    if (depth === shape.length) return typeof v === 'number' ? null : `${describeValue(v)} at position ${formatShape(position)}`;
    if (!(Array.isArray(v) || isNumberArray(v)))
      return `${describeValue(v)} at position ${formatShape(position)}, where an array of length ${shape[depth]} belongs`;
    if (v.length !== shape[depth])
      return `a row of length ${v.length} at position ${formatShape(position)}, where the first row has length ${shape[depth]}`;
    if (isNumberArray(v) && depth === shape.length - 1) return null;
    for (let k = 0; k < v.length; k++) {
      const problem = visit(v[k], [...position, k]);
      if (problem !== null) return problem;
    }
    return null;
  };
  return visit(x, []);
}

/**
 * The tensor for an argument: the tensor itself, or a new one made from a number, a rectangular
 * (nested) array of numbers, or a typed array (Float64Array becomes float32). Call inside `tf.tidy`
 * so that a tensor made here is disposed with the call.
 */
export function toTensor(x: unknown, functionName: string, argument: string): tf.Tensor {
  const expected = 'a tf.Tensor or a (nested) array of numbers';
  if (isTensor(x)) {
    if (x.isDisposed) throw new LossInputError(functionName, argument, expected, 'a disposed tensor');
    return x;
  }
  if (typeof x === 'number' || isNumberArray(x)) return tf.tensor(x);
  if (x instanceof Float64Array) return tf.tensor(Float32Array.from(x));
  if (Array.isArray(x)) {
    const problem = nestedArrayProblem(x);
    if (problem !== null) throw new LossInputError(functionName, argument, 'a rectangular (nested) array of numbers', problem);
    return tf.tensor(x as tf.TensorLike);
  }
  throw new LossInputError(functionName, argument, expected, describeValue(x));
}

/** `toTensor`, then requires one of `dtypes`, described to the user as `expected`. */
function toTensorOfDtype(x: unknown, dtypes: readonly tf.DataType[], expected: string, functionName: string, argument: string): tf.Tensor {
  const t = toTensor(x, functionName, argument);
  if (!dtypes.includes(t.dtype)) {
    throw new LossInputError(functionName, argument, expected, `a tensor of dtype ${t.dtype}, shape ${formatShape(t.shape)}`);
  }
  return t;
}

/** `toTensor`, then requires float32 values: logits, probabilities, weights. */
export function toFloatTensor(x: unknown, functionName: string, argument: string): tf.Tensor {
  return toTensorOfDtype(x, ['float32'], 'a float32 tensor (convert with .toFloat())', functionName, argument);
}

/** `toTensor`, then requires numbers (int32 or float32): class indices, which tfjs-layers passes as floats. */
export function toNumericTensor(x: unknown, functionName: string, argument: string): tf.Tensor {
  return toTensorOfDtype(x, ['float32', 'int32'], 'an int32 or float32 tensor', functionName, argument);
}

/** The values of a tensor on the host (a copy on wasm and GPU backends; never write to it). */
export function readValues(t: tf.Tensor): Float32Array | Int32Array {
  return t.dataSync() as Float32Array | Int32Array;
}

/** The position `[i, j, ...]` of flat index `index` in `shape`, for error messages. */
export function formatPosition(index: number, shape: readonly number[]): string {
  const position: number[] = new Array(shape.length);
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    position[axis] = index % shape[axis];
    index = Math.floor(index / shape[axis]);
  }
  return formatShape(position);
}
