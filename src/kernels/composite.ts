import * as tf from '@tensorflow/tfjs-core';
import type { ClassLayout } from '../core/layout';
import type { Reduction } from '../core/options';

/**
 * Pieces shared by the composite kernels: the losses written with tfjs ops, for backends whose data
 * lives on a device (see `KernelPath`). They see every input as `[samples, classes]`, so that every
 * reduction runs along the last axis, the one tfjs reduces fastest.
 */

/** `t`, laid out as `layout`, as `[samples, classes]`: a reshape when the class axis is last, else a transpose. */
export function toClassesLast(t: tf.Tensor, layout: ClassLayout): tf.Tensor2D {
  const { outer, classes, inner } = layout;
  if (inner === 1) return tf.reshape(t, [outer, classes]);
  return tf.reshape(tf.transpose(tf.reshape(t, [outer, classes, inner]), [0, 2, 1]), [outer * inner, classes]);
}

/** The inverse of `toClassesLast`: `[samples, classes]` back to `shape`. */
export function fromClassesLast(t: tf.Tensor, layout: ClassLayout, shape: number[]): tf.Tensor {
  const { outer, classes, inner } = layout;
  if (inner === 1) return tf.reshape(t, shape);
  return tf.reshape(tf.transpose(tf.reshape(t, [outer, inner, classes]), [0, 2, 1]), shape);
}

/** Class-index targets as tensors of `[samples, classes]` and `[samples]`. */
export interface TargetWeights {
  /** 1 at `(n, y_n)`, 0 elsewhere and on ignored samples. */
  oneHot: tf.Tensor2D;
  /** `w[y_n]` at `(n, y_n)`, 0 elsewhere and on ignored samples (one-hot, weighted). */
  atTarget: tf.Tensor2D;
  /** `w[y_n]` per sample, 0 where ignored: the terms of 'mean''s denominator. */
  perSample: tf.Tensor1D;
  /** 1 per sample, 0 where ignored. */
  kept: tf.Tensor1D;
  /** The class weights `[classes]`, or null for all ones. */
  classWeight: tf.Tensor1D | null;
}

/** The weighted one-hot of class-index targets (int32 or float32 holding integers), read on the device. */
export function targetWeights(target: tf.Tensor, layout: ClassLayout, weight: Float32Array | null, ignoreIndex: number): TargetWeights {
  const samples = layout.outer * layout.inner;
  const indices = tf.cast(tf.reshape(target, [samples]), 'int32');
  const keptMask = tf.notEqual(indices, ignoreIndex);
  const kept = tf.cast(keptMask, 'float32') as tf.Tensor1D;
  // By comparison with the class numbers, not tf.oneHot (which refuses a single class); an ignored
  // index may be any integer, in range or not, so its row is masked.
  const matches = tf.equal(tf.expandDims(indices, 1), tf.range(0, layout.classes, 1, 'int32'));
  const oneHot = tf.mul(tf.cast(matches, 'float32'), tf.expandDims(kept, 1)) as tf.Tensor2D;
  const classWeight = weight === null ? null : tf.tensor1d(weight, 'float32');
  const atTarget = (classWeight === null ? oneHot : tf.mul(oneHot, classWeight)) as tf.Tensor2D;
  return { oneHot, atTarget, perSample: classWeight === null ? kept : tf.sum(atTarget, 1), kept, classWeight };
}

/**
 * Log-softmax along the last axis as PyTorch computes it, `(x - max) - log Σ exp(x - max)`: the
 * difference `x - max` is exact for nearby logits, where `x - (max + log Σ)` (tf.logSumExp, then a
 * subtraction) rounds at the magnitude of the logits (5e-4 at 1e4 in float32).
 */
export function logSoftmaxLastAxis(logits: tf.Tensor2D): tf.Tensor2D {
  const shifted = tf.sub(logits, tf.max(logits, 1, true));
  return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), 1, true)));
}

/**
 * `[softplus(x), softplus(-x)]`, sharing `log1p(exp(-|x|))`, to a few float32 ulps on every backend.
 * Not tf.softplus: it returns `exp(x)` below x = -13.9 (7 ulps off near there) and, on webgl,
 * `log(exp(x) + 1)` above (relative error 1e-3 at x = -10). And not tf.log1p, which is `log(1 + u)` on
 * wasm and webgl: Goldberg's `log(v)·u/(v - 1)` with `v = 1 + u` corrects the rounding of `1 + u`.
 */
export function softplusPair(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const u = tf.exp(tf.neg(tf.abs(x)));
  const v = tf.add(u, 1);
  const vMinus1 = tf.sub(v, 1);
  const log1pU = tf.where(tf.equal(vMinus1, 0), u, tf.mul(tf.log(v), tf.div(u, vMinus1)));
  return [tf.add(tf.relu(x), log1pU), tf.add(tf.relu(tf.neg(x)), log1pU)];
}

/**
 * `values[n, y_n]` per sample (0 for ignored samples), selected rather than multiplied by the one-hot:
 * `0·(-Infinity)` would make NaN of the other classes' infinite log-probabilities.
 */
export function pickTarget(values: tf.Tensor2D, oneHot: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(tf.where(tf.cast(oneHot, 'bool'), values, tf.zerosLike(values)), 1);
}

/**
 * The scalar that turns sums into the reduction: `1/denominator` for 'mean' (NaN when the
 * denominator is 0, as PyTorch's 0/0), 1 otherwise.
 */
export function reductionScale(reduction: Reduction, denominator: tf.Tensor | number): tf.Scalar {
  if (reduction !== 'mean') return tf.scalar(1);
  const d = typeof denominator === 'number' ? tf.scalar(denominator) : denominator;
  return tf.where(tf.equal(d, 0), tf.scalar(NaN), tf.div(1, d)) as tf.Scalar;
}

/**
 * `scale` for each kept sample and 0 for each ignored one, as `[samples, 1]`: the factor of a gradient
 * row. (A product `kept·scale` would give NaN rows for ignored samples when the scale is NaN; PyTorch
 * gives them 0.)
 */
export function keptSampleScale(kept: tf.Tensor1D, scale: tf.Scalar): tf.Tensor2D {
  return tf.expandDims(tf.where(tf.cast(kept, 'bool'), tf.mul(tf.onesLike(kept), scale), tf.zerosLike(kept)), 1) as tf.Tensor2D;
}

/** Reduces per-sample losses: reshaped to `sampleShape` for 'none', their sum times `scale` otherwise. */
export function reduceLoss(perSample: tf.Tensor, reduction: Reduction, scale: tf.Scalar, sampleShape: number[]): tf.Tensor {
  return reduction === 'none' ? tf.reshape(perSample, sampleShape) : tf.mul(tf.sum(perSample), scale);
}
