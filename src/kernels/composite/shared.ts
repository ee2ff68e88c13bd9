import * as tf from '@tensorflow/tfjs-core';
import type { ClassLayout } from '../../core/layout';
import type { Reduction } from '../../core/options';
import type { DeviceKernel } from '../args';

/**
 * Pieces shared by the composite kernels: the losses written with tfjs ops, the fallback on backends
 * without fused kernels and the oracle of the GPU kernels in tests (see `KernelPath`). They see every
 * input as `[samples, classes]`, so that every reduction runs along the last axis, the one tfjs
 * reduces fastest.
 */

/** What a composite computes: the loss, and when asked, the gradient of each differentiable input (before the upstream gradient). */
export interface CompositeResult {
  value: tf.Tensor;
  gradients?: tf.Tensor[];
}

/** Broadcasts each sample's upstream gradient over its classes. */
function scaleByUpstream(gradient: tf.Tensor, layout: ClassLayout, dy: tf.Tensor): tf.Tensor {
  if (dy.size === 1) return tf.mul(gradient, tf.reshape(dy, []));
  const { outer, classes, inner } = layout;
  return tf.reshape(tf.mul(tf.reshape(gradient, [outer, classes, inner]), tf.reshape(dy, [outer, 1, inner])), gradient.shape);
}

/**
 * A composite as a device kernel: the forward pass computes the loss and, when a tape records it, the
 * closed-form gradients, which it saves; the backward pass scales them by the upstream gradient.
 */
export function compositeKernel<A>(
  differentiable: ReadonlyArray<keyof A & string>,
  layoutOf: (args: A) => ClassLayout,
  run: (args: A, withGradients: boolean) => CompositeResult,
): DeviceKernel<A> {
  return {
    differentiable,
    forward(args, recording) {
      const { value, gradients } = run(args, recording);
      return { value, saved: gradients ?? [] };
    },
    backward(dy, args, saved) {
      return saved.map((gradient) => scaleByUpstream(gradient, layoutOf(args), dy));
    },
  };
}

/**
 * `t`, laid out as `layout`, as `[samples, classes]`: a reshape when the class axis is last or there is
 * no data (tfjs-wasm 4.22's transpose divides by zero on an empty tensor), else a transpose.
 */
export function toClassesLast(t: tf.Tensor, layout: ClassLayout): tf.Tensor2D {
  const { outer, classes, inner } = layout;
  if (inner === 1 || t.size === 0) return tf.reshape(t, [outer, classes]);
  return tf.reshape(tf.transpose(tf.reshape(t, [outer, classes, inner]), [0, 2, 1]), [outer * inner, classes]);
}

/** The inverse of `toClassesLast`: `[samples, classes]` back to `shape`. */
export function fromClassesLast(t: tf.Tensor, layout: ClassLayout, shape: number[]): tf.Tensor {
  const { outer, classes, inner } = layout;
  if (inner === 1 || t.size === 0) return tf.reshape(t, shape);
  return tf.reshape(tf.transpose(tf.reshape(t, [outer, inner, classes]), [0, 2, 1]), shape);
}

/** Class-index targets as tensors, per sample; the `[samples, classes]` one-hot only when asked for. */
export interface TargetWeights {
  /** The class index per sample as int32, 0 for ignored samples (always a valid index; masked by `kept`). */
  indices: tf.Tensor1D;
  /** `w[y_n]` per sample, 0 where ignored: the terms of 'mean''s denominator. */
  perSample: tf.Tensor1D;
  /** 1 per sample, 0 where ignored. */
  kept: tf.Tensor1D;
  /** The class weights `[classes]`, or null for all ones. */
  classWeight: tf.Tensor1D | null;
}

/** The per-sample view of class-index targets (int32, or float32 holding integers), on the device. */
export function targetWeights(target: tf.Tensor, layout: ClassLayout, classWeight: tf.Tensor1D | null, ignoreIndex: number): TargetWeights {
  const samples = layout.outer * layout.inner;
  const raw = tf.cast(tf.reshape(target, [samples]), 'int32');
  const keptMask = tf.notEqual(raw, ignoreIndex);
  const kept = tf.cast(keptMask, 'float32') as tf.Tensor1D;
  // An ignored index may be any integer, in range or not: class 0 stands in for it, masked by `kept`.
  const indices = tf.where(keptMask, raw, tf.zerosLike(raw)) as tf.Tensor1D;
  const perSample = classWeight === null ? kept : (tf.mul(tf.gather(classWeight, indices), kept) as tf.Tensor1D);
  return { indices, perSample, kept, classWeight };
}

/** 1 at `(n, y_n)` and 0 elsewhere, `[samples, classes]` (tf.oneHot refuses a single class: then all ones). */
export function oneHotTargets(targets: TargetWeights, classes: number): tf.Tensor2D {
  if (classes === 1) return tf.ones([targets.indices.size, 1]);
  return tf.cast(tf.oneHot(targets.indices, classes), 'float32') as tf.Tensor2D;
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
 * `log1p(u)` for `u >= 0` to a few float32 ulps on every backend. tf.log1p is `log(1 + u)` on wasm and
 * webgl; here `v = 1 + u` is rounded with error `δ = (v - 1) - u` (exact in float32), and
 * `log1p(u) = log(v) - δ/v` to second order in δ (< 2^-24): exactly `u` when `v` rounds to 1.
 */
export function log1pNonNegative(u: tf.Tensor): tf.Tensor {
  const v = tf.add(u, 1);
  const roundingError = tf.sub(tf.sub(v, 1), u);
  return tf.sub(tf.log(v), tf.div(roundingError, v));
}

/** `log1p(exp(-|x|))` to a few float32 ulps on every backend. */
function log1pExpNegAbs(x: tf.Tensor): tf.Tensor {
  return log1pNonNegative(tf.exp(tf.neg(tf.abs(x))));
}

/**
 * `softplus(x) = max(x, 0) + log1p(exp(-|x|))` to a few float32 ulps on every backend. Not
 * tf.softplus: it returns `exp(x)` below x = -13.9 (7 ulps off near there) and, on webgl,
 * `log(exp(x) + 1)` above (relative error 1e-3 at x = -10).
 */
export function softplus(x: tf.Tensor): tf.Tensor {
  return tf.add(tf.relu(x), log1pExpNegAbs(x));
}

/** `[softplus(x), softplus(-x)]`, sharing `log1p(exp(-|x|))`. */
export function softplusPair(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const shared = log1pExpNegAbs(x);
  return [tf.add(tf.relu(x), shared), tf.add(tf.relu(tf.neg(x)), shared)];
}

/**
 * `values[n, y_n]` per sample (class 0 for ignored samples), gathered from the flattened values at
 * `n·C + y_n`: no pass over all classes. (tf.gather with batchDims reads out of bounds on tfjs-wasm 4.22.)
 */
export function pickTarget(values: tf.Tensor2D, targets: TargetWeights): tf.Tensor1D {
  const [samples, classes] = values.shape;
  const flatIndices = tf.add(tf.mul(tf.range(0, samples, 1, 'int32'), tf.scalar(classes, 'int32')), targets.indices);
  return tf.gather(tf.reshape(values, [samples * classes]), flatIndices) as tf.Tensor1D;
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
 * row. (A product `kept·scale` would give NaN rows for ignored samples when the scale of 'mean' is NaN;
 * PyTorch gives them 0.) For 'sum' and 'none' the scale is 1 and this is `kept`.
 */
export function keptSampleScale(kept: tf.Tensor1D, scale: tf.Scalar, reduction: Reduction): tf.Tensor2D {
  const rows = tf.expandDims(kept, 1) as tf.Tensor2D;
  if (reduction !== 'mean') return rows;
  // Operands of one shape: a tf.where that broadcasts tiles them first (7 ms for 65,536 rows on wasm).
  return tf.where(tf.cast(rows, 'bool'), tf.mul(tf.onesLike(rows), scale), tf.zerosLike(rows)) as tf.Tensor2D;
}

/** Reduces per-sample losses: reshaped to `sampleShape` for 'none', their sum times `scale` otherwise. */
export function reduceLoss(perSample: tf.Tensor, reduction: Reduction, scale: tf.Scalar, sampleShape: number[]): tf.Tensor {
  return reduction === 'none' ? tf.reshape(perSample, sampleShape) : tf.mul(tf.sum(perSample), scale);
}

/** `t·weight`, or `t` when there is no weight (the weight broadcasts to `t`'s shape). */
export function times(t: tf.Tensor, weight: tf.Tensor | null): tf.Tensor {
  return weight === null ? t : tf.mul(t, weight);
}

/**
 * `log` where `defined`, else exactly -Infinity: GPU backends give a large finite number or NaN for log(0)
 * (-88.03 on SwiftShader's WebGL), where PyTorch's clamps and log-space sums need exactly -Infinity.
 */
export function orMinusInfinity(defined: tf.Tensor, log: tf.Tensor): tf.Tensor {
  return tf.where(defined, log, tf.fill(log.shape, -Infinity));
}
