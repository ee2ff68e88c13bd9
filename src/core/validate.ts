import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from './errors';
import type { Reduction } from './options';
import { formatPosition, formatShape, readValues, toFloatTensor } from './tensors';
import { activeValidation } from './validation';

/** A per-class weight: a float tensor or array of shape `[classes]`, left on its backend. */
export function checkClassWeight(weight: unknown, classes: number, functionName: string): tf.Tensor1D {
  const w = toFloatTensor(weight, functionName, 'options.weight');
  if (w.rank !== 1 || w.shape[0] !== classes) {
    throw new LossInputError(
      functionName,
      'options.weight',
      `a tensor of shape [${classes}] (one weight per class)`,
      `shape ${formatShape(w.shape)}`,
    );
  }
  return w as tf.Tensor1D;
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

/**
 * PyTorch rejects probabilities outside [0, 1] (NaN included) rather than returning a meaningless loss;
 * `argument` names them (the input of binaryCrossEntropy, the target of sigmoidFocalLoss).
 */
export function checkProbabilities(
  probabilities: tf.Tensor,
  values: Float32Array | Int32Array,
  functionName: string,
  argument = 'input',
): void {
  for (let e = 0; e < values.length; e++) {
    const x = values[e];
    if (!(x >= 0 && x <= 1)) {
      throw new LossInputError(
        functionName,
        argument,
        'probabilities in [0, 1]',
        `${x} at position ${formatPosition(e, probabilities.shape)}`,
      );
    }
  }
}

/**
 * Checks the values of class indices on the host when the active validation mode is 'sync' (reading
 * them back: see `ValidationMode`), throwing a `LossInputError` for the first bad one. Returns true
 * when the mode is 'device' instead: the kernel then poisons the samples of bad indices with NaN.
 */
export function checkClassIndicesOrPoison(target: tf.Tensor, classes: number, ignoreIndex: number, functionName: string): boolean {
  if (activeValidation() === 'device') return true;
  checkClassIndices(target, readValues(target), classes, ignoreIndex, functionName);
  return false;
}

/** As `checkClassIndicesOrPoison`, for probabilities that must lie in [0, 1] (the argument `argument`). */
export function checkProbabilitiesOrPoison(probabilities: tf.Tensor, functionName: string, argument = 'input'): boolean {
  if (activeValidation() === 'device') return true;
  checkProbabilities(probabilities, readValues(probabilities), functionName, argument);
  return false;
}

/** Arguments screened on the device: what to compute with, and where the values were valid. */
export interface Screened {
  /** The argument itself, or for class indices, each invalid one replaced by ignoreIndex so that no kernel reads outside the class axis. */
  tensor: tf.Tensor;
  /** True where the value is valid, of the argument's shape, for `poisonInvalid`; null when the values were checked on the host. */
  valid: tf.Tensor | null;
}

/** Class indices screened with tensor ops where they live, never read back (the 'device' validation mode). Call inside `tf.tidy`. */
export function screenClassIndicesOnDevice(target: tf.Tensor, classes: number, ignoreIndex: number): Screened {
  const valid = offTape(target, (t) => {
    const y = tf.cast(t, 'float32');
    const inRange = tf.logicalAnd(tf.logicalAnd(tf.greaterEqual(y, 0), tf.less(y, classes)), tf.equal(y, tf.floor(y)));
    return tf.logicalOr(inRange, tf.equal(y, ignoreIndex));
  });
  return { tensor: tf.where(valid, target, tf.fill(target.shape, ignoreIndex, target.dtype)), valid };
}

/** Where probabilities lie in [0, 1], computed where they live (the 'device' validation mode). Call inside `tf.tidy`. */
export function probabilitiesValidOnDevice(probabilities: tf.Tensor): tf.Tensor {
  return offTape(probabilities, (x) => tf.logicalAnd(tf.greaterEqual(x, 0), tf.lessEqual(x, 1)));
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
