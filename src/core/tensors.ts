import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from './errors';

/** What every tensor argument accepts: a tensor, or numbers in (nested) arrays as `tf.tensor` takes them. */
export type TensorInput = tf.Tensor | tf.TensorLike;

/** `[2, 3]` for a shape, as every error message prints it. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

function describeValue(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'string') return `the string ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + '…' : x)}`;
  if (typeof x === 'object') return `an object of type ${(x as object).constructor?.name ?? 'Object'}`;
  return `${typeof x === 'undefined' ? 'undefined' : `the ${typeof x} ${String(x)}`}`;
}

function isTensor(x: unknown): x is tf.Tensor {
  // Duck-typed so that a tensor from another copy of tfjs-core is still recognised.
  return x instanceof tf.Tensor || (typeof x === 'object' && x !== null && 'dataId' in x && 'shape' in x && 'dtype' in x);
}

/**
 * The tensor for an argument: the tensor itself, or a new one made from numbers. Call inside `tf.tidy`
 * so that a tensor made here is disposed with the call.
 */
export function toTensor(x: unknown, functionName: string, argument: string): tf.Tensor {
  const expected = 'a tf.Tensor or a (nested) array of numbers';
  if (isTensor(x)) {
    if (x.isDisposed) throw new LossInputError(functionName, argument, expected, 'a disposed tensor');
    return x;
  }
  if (typeof x === 'number' || Array.isArray(x) || ArrayBuffer.isView(x)) {
    let t: tf.Tensor;
    try {
      t = tf.tensor(x as tf.TensorLike);
    } catch (e) {
      throw new LossInputError(functionName, argument, 'a rectangular (nested) array of numbers', `an array that tf.tensor rejects (${(e as Error).message})`);
    }
    return t;
  }
  throw new LossInputError(functionName, argument, expected, describeValue(x));
}

/** `toTensor`, then requires float32 values: logits, probabilities, weights. */
export function toFloatTensor(x: unknown, functionName: string, argument: string): tf.Tensor {
  const t = toTensor(x, functionName, argument);
  if (t.dtype !== 'float32') {
    throw new LossInputError(functionName, argument, 'a float32 tensor (convert with .toFloat())', `a tensor of dtype ${t.dtype}, shape ${formatShape(t.shape)}`);
  }
  return t;
}

/** `toTensor`, then requires numbers (int32 or float32): class indices, which tfjs-layers passes as floats. */
export function toNumericTensor(x: unknown, functionName: string, argument: string): tf.Tensor {
  const t = toTensor(x, functionName, argument);
  if (t.dtype !== 'float32' && t.dtype !== 'int32') {
    throw new LossInputError(functionName, argument, 'an int32 or float32 tensor', `a tensor of dtype ${t.dtype}, shape ${formatShape(t.shape)}`);
  }
  return t;
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
