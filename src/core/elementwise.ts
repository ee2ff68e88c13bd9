import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from './errors';
import { formatShape, toFloatTensor } from './tensors';
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
 * A float weight that broadcasts to `shape` as PyTorch (and NumPy) broadcast: dimensions aligned from
 * the right, each either 1 or equal to the dimension of `shape`, no more dimensions than `shape`.
 * Returned at the rank of `shape` (leading 1s added: a free reshape), still on its backend.
 */
export function checkBroadcastWeight(weight: unknown, shape: readonly number[], functionName: string, argument: string): tf.Tensor {
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
  return offset === 0 ? w : tf.reshape(w, [...new Array<number>(offset).fill(1), ...w.shape]);
}
