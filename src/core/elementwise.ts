import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from './errors';
import { formatShape, readValues, toFloatTensor } from './tensors';
import { sameShape } from './validate';

/**
 * Elementwise losses (the binary ones) take a target of exactly the input's shape: PyTorch refuses to
 * broadcast them, because a `[N]` input against a `[N, 1]` target would silently build an `[N, N]` loss.
 */
export function checkSameShape(input: tf.Tensor, target: tf.Tensor, functionName: string): void {
  if (!sameShape(input.shape, target.shape)) {
    throw new LossInputError(
      functionName,
      'target',
      `of the input's shape ${formatShape(input.shape)} (never broadcast, as in PyTorch)`,
      `shape ${formatShape(target.shape)}`,
    );
  }
}

/**
 * A float weight broadcast to `shape` as PyTorch (and NumPy) broadcast: dimensions aligned from the
 * right, each either 1 or equal to the dimension of `shape`, no more dimensions than `shape`. Read to
 * the host and materialised: one value per element of `shape`, in row-major order.
 */
export function readBroadcastWeight(weight: unknown, shape: readonly number[], functionName: string, argument: string): Float32Array {
  const w = toFloatTensor(weight, functionName, argument);
  const offset = shape.length - w.rank;
  if (offset < 0 || w.shape.some((d, axis) => d !== 1 && d !== shape[offset + axis])) {
    throw new LossInputError(
      functionName,
      argument,
      `a tensor that broadcasts to the input shape ${formatShape(shape)}`,
      `shape ${formatShape(w.shape)}`,
    );
  }
  const values = readValues(w) as Float32Array;
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length === size) return values;
  // The stride of each output axis in the weight: 0 where the weight has no such axis or has size 1.
  const strides = new Array<number>(shape.length).fill(0);
  for (let axis = w.rank - 1, stride = 1; axis >= 0; axis--) {
    if (w.shape[axis] !== 1) strides[offset + axis] = stride;
    stride *= w.shape[axis];
  }
  const broadcast = new Float32Array(size);
  const position = new Array<number>(shape.length).fill(0);
  let source = 0;
  for (let e = 0; e < size; e++) {
    broadcast[e] = values[source];
    // Advance the row-major position like an odometer, moving `source` by the weight's strides.
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      position[axis]++;
      source += strides[axis];
      if (position[axis] < shape[axis]) break;
      source -= strides[axis] * shape[axis];
      position[axis] = 0;
    }
  }
  return broadcast;
}
