import type * as tf from '@tensorflow/tfjs-core';
import { readValues } from '../../core/tensors';

/**
 * A weight of `shape`'s rank (each dimension 1 or `shape`'s, see `checkBroadcastWeight`) read to the
 * host and materialised: one value per element of `shape`, in row-major order. Null stays null.
 */
export function broadcastWeightValues(weight: tf.Tensor | null, shape: readonly number[]): Float32Array | null {
  if (weight === null) return null;
  const values = readValues(weight) as Float32Array;
  const size = shape.reduce((a, b) => a * b, 1);
  if (values.length === size) return values;
  // The stride of each output axis in the weight: 0 where the weight has size 1 along it.
  const strides = new Array<number>(shape.length).fill(0);
  for (let axis = shape.length - 1, stride = 1; axis >= 0; axis--) {
    if (weight.shape[axis] !== 1) strides[axis] = stride;
    stride *= weight.shape[axis];
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
