import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from './errors';
import type { Reduction } from './options';
import { formatPosition, formatShape, readValues, toFloatTensor } from './tensors';
import { activeValidation } from './validation';

/** A per-class weight: a float tensor or array of shape `[classes]`, read to the host. */
export function readClassWeight(weight: unknown, classes: number, functionName: string): Float32Array {
  const w = toFloatTensor(weight, functionName, 'options.weight');
  if (w.rank !== 1 || w.shape[0] !== classes) {
    throw new LossInputError(
      functionName,
      'options.weight',
      `a tensor of shape [${classes}] (one weight per class)`,
      `shape ${formatShape(w.shape)}`,
    );
  }
  return readValues(w) as Float32Array;
}

/**
 * Checks class indices on the host: each an integer in `[0, classes)` or `ignoreIndex`. tfjs-layers
 * passes labels as float32, so a float index is accepted when it holds an integer.
 */
export function checkClassIndices(
  target: tf.Tensor,
  values: Float32Array | Int32Array,
  classes: number,
  ignoreIndex: number,
  functionName: string,
): void {
  for (let k = 0; k < values.length; k++) {
    const y = values[k];
    if (y === ignoreIndex) continue;
    if (!(y >= 0 && y < classes && Number.isInteger(y))) {
      const what = Number.isInteger(y) ? 'out of range' : 'not an integer';
      throw new LossInputError(
        functionName,
        'target',
        `class indices in [0, ${classes}) or ignoreIndex ${ignoreIndex}`,
        `${y} (${what}) at position ${formatPosition(k, target.shape)}`,
      );
    }
  }
}

/** PyTorch rejects probabilities outside [0, 1] (NaN included) rather than returning a meaningless loss. */
export function checkProbabilities(probabilities: tf.Tensor, values: Float32Array | Int32Array, functionName: string): void {
  for (let e = 0; e < values.length; e++) {
    const x = values[e];
    if (!(x >= 0 && x <= 1)) {
      throw new LossInputError(
        functionName,
        'input',
        'probabilities in [0, 1]',
        `${x} at position ${formatPosition(e, probabilities.shape)}`,
      );
    }
  }
}

/** Arguments whose values passed the active validation mode's check (see `ValidationMode`). */
export interface Screened {
  /** What to compute with: the argument itself, or in 'device' mode class indices with each invalid one replaced by ignoreIndex. */
  tensor: tf.Tensor;
  /** 'device' mode only: true where the value is valid, of the argument's shape, for `poisonInvalid`. Null when checked on the host. */
  valid: tf.Tensor | null;
}

/**
 * Class indices checked as the active validation mode says: on the host (`checkClassIndices`, which
 * throws), or on the device, where each invalid index becomes `ignoreIndex`, so that no kernel reads
 * outside the class axis, and is reported in `valid`. Call inside `tf.tidy`.
 */
export function screenClassIndices(target: tf.Tensor, classes: number, ignoreIndex: number, functionName: string): Screened {
  if (activeValidation() === 'sync') {
    checkClassIndices(target, readValues(target), classes, ignoreIndex, functionName);
    return { tensor: target, valid: null };
  }
  const valid = offTape(target, (t) => {
    const y = tf.cast(t, 'float32');
    const inRange = tf.logicalAnd(tf.logicalAnd(tf.greaterEqual(y, 0), tf.less(y, classes)), tf.equal(y, tf.floor(y)));
    return tf.logicalOr(inRange, tf.equal(y, ignoreIndex));
  });
  return { tensor: tf.where(valid, target, tf.fill(target.shape, ignoreIndex, target.dtype)), valid };
}

/** Probabilities checked as the active validation mode says: on the host (`checkProbabilities`, which throws) or on the device. Call inside `tf.tidy`. */
export function screenProbabilities(probabilities: tf.Tensor, functionName: string): Screened {
  if (activeValidation() === 'sync') {
    checkProbabilities(probabilities, readValues(probabilities), functionName);
    return { tensor: probabilities, valid: null };
  }
  return { tensor: probabilities, valid: offTape(probabilities, (x) => tf.logicalAnd(tf.greaterEqual(x, 0), tf.lessEqual(x, 1))) };
}

/**
 * `compute(x)`, hidden from the gradient tape: a validity mask is not differentiable, and the tape
 * would otherwise fail on its comparisons when the input is differentiated. tfjs has no stop-gradient
 * op, but the ops of a custom-gradient op's forward pass are not recorded; its own gradient is zero.
 */
export function offTape(x: tf.Tensor, compute: (x: tf.Tensor) => tf.Tensor): tf.Tensor {
  const hidden = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const t = args[0] as tf.Tensor;
    return { value: compute(t), gradFunc: () => tf.zeros(t.shape) };
  });
  return hidden(x);
}

/**
 * The loss, made NaN where `valid` (the shape of the per-sample or per-element loss) is false: those
 * entries for 'none', the whole loss for 'mean' and 'sum'. It is a product with a factor that is 1 or
 * NaN, so the gradient is NaN exactly where the loss is. Unchanged when `valid` is null.
 */
export function poisonInvalid(loss: tf.Tensor, valid: tf.Tensor | null, reduction: Reduction): tf.Tensor {
  if (valid === null) return loss;
  const factor = offTape(valid, (v) => {
    const allValid = reduction === 'none' ? v : tf.equal(tf.sum(tf.cast(tf.logicalNot(v), 'float32')), 0);
    return tf.where(allValid, tf.onesLike(loss), tf.fill(loss.shape, NaN));
  });
  return tf.mul(loss, factor);
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** The shape of `shape` without `axis`: the shape of class-index targets and of per-sample losses. */
export function withoutAxis(shape: readonly number[], axis: number): number[] {
  return shape.filter((_, i) => i !== axis);
}
