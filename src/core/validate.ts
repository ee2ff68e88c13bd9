import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from './errors';
import { formatPosition, formatShape, readValues, toFloatTensor } from './tensors';

/** A per-class weight: a float tensor or array of shape `[classes]`, read to the host. */
export function readClassWeight(weight: unknown, classes: number, functionName: string): Float32Array {
  const w = toFloatTensor(weight, functionName, 'options.weight');
  if (w.rank !== 1 || w.shape[0] !== classes) {
    throw new LossInputError(functionName, 'options.weight', `a tensor of shape [${classes}] (one weight per class)`, `shape ${formatShape(w.shape)}`);
  }
  return readValues(w) as Float32Array;
}

/**
 * Checks class indices on the host: each an integer in `[0, classes)` or `ignoreIndex`. tfjs-layers
 * passes labels as float32, so a float index is accepted when it holds an integer.
 */
export function checkClassIndices(target: tf.Tensor, values: Float32Array | Int32Array, classes: number, ignoreIndex: number, functionName: string): void {
  for (let k = 0; k < values.length; k++) {
    const y = values[k];
    if (y === ignoreIndex) continue;
    if (!(y >= 0 && y < classes && Number.isInteger(y))) {
      const what = Number.isInteger(y) ? 'out of range' : 'not an integer';
      throw new LossInputError(functionName, 'target', `class indices in [0, ${classes}) or ignoreIndex ${ignoreIndex}`, `${y} (${what}) at position ${formatPosition(k, target.shape)}`);
    }
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The shape of `shape` without `axis`: the shape of class-index targets and of per-sample losses. */
export function withoutAxis(shape: readonly number[], axis: number): number[] {
  return shape.filter((_, i) => i !== axis);
}
