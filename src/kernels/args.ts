import type * as tf from '@tensorflow/tfjs-core';
import type { ClassLayout } from '../core/layout';
import type { Reduction } from '../core/options';

/**
 * The arguments of each loss kernel, as every implementation (host, webgl, webgpu, composite) receives
 * them from the dispatcher: options parsed and shapes checked at the public entry, every array a tensor
 * on the current backend. Weights and targets travel as tensors, so a GPU implementation never reads
 * them back. `poison` is the 'device' validation mode: values were not checked on the host, and a bad
 * one (a class index that is neither an integer in [0, C) nor `ignoreIndex`, a probability outside
 * [0, 1]) makes its sample's loss and gradient NaN, and the whole loss and gradient for 'mean' and 'sum'.
 */

/** What every kernel of a loss over a class axis takes beside its inputs. */
export interface ClassAxisArgs {
  /** `[C]` float32, or null for all ones. */
  weight: tf.Tensor | null;
  layout: ClassLayout;
  /** The per-sample loss's shape ('none'): the input's shape without the class axis. */
  sampleShape: number[];
  reduction: Reduction;
}

/** Cross-entropy of logits against class indices. Differentiable: `logits`. */
export interface CrossEntropyIndicesArgs extends ClassAxisArgs {
  /** Laid out as `layout` (class axis at any position). */
  logits: tf.Tensor;
  /** Class indices, int32 or float32 holding integers, of `sampleShape`. */
  target: tf.Tensor;
  labelSmoothing: number;
  ignoreIndex: number;
  poison: boolean;
}

/** Cross-entropy of logits against class probabilities (PyTorch divides 'mean' by the sample count). Differentiable: `logits`, `target`. */
export interface CrossEntropyProbabilitiesArgs extends ClassAxisArgs {
  logits: tf.Tensor;
  /** Float32, the logits' shape. */
  target: tf.Tensor;
  labelSmoothing: number;
}

/** Negative log-likelihood of log-probabilities against class indices. Differentiable: `logProbabilities`. */
export interface NllArgs extends ClassAxisArgs {
  logProbabilities: tf.Tensor;
  target: tf.Tensor;
  ignoreIndex: number;
  poison: boolean;
}

/** Binary cross-entropy of probabilities (log clamped at -100 as PyTorch). Differentiable: `input`, `target`. */
export interface BinaryCrossEntropyArgs {
  /** Probabilities, any shape. */
  input: tf.Tensor;
  /** Float32, the input's shape. */
  target: tf.Tensor;
  /** Float32 of the input's rank, each dimension 1 or the input's (broadcast), or null for all ones. */
  weight: tf.Tensor | null;
  reduction: Reduction;
  poison: boolean;
}

/** Binary cross-entropy of logits. Differentiable: `input`, `target`. */
export interface BinaryCrossEntropyWithLogitsArgs {
  input: tf.Tensor;
  target: tf.Tensor;
  /** As `BinaryCrossEntropyArgs.weight`. */
  weight: tf.Tensor | null;
  /** As `weight`: broadcast to the input's shape. */
  posWeight: tf.Tensor | null;
  reduction: Reduction;
}

/** Focal loss of logits against class indices: cross-entropy's arguments and the focusing exponent. Differentiable: `logits`. */
export interface SoftmaxFocalIndicesArgs extends CrossEntropyIndicesArgs {
  /** γ >= 0: each class's term is scaled by `(1 - p_c)^γ`; 0 gives cross-entropy. */
  gamma: number;
}

/** Focal loss of logits against class probabilities ('mean' divides by the sample count). Differentiable: `logits`, `target`. */
export interface SoftmaxFocalProbabilitiesArgs extends CrossEntropyProbabilitiesArgs {
  gamma: number;
}

/** torchvision's sigmoid focal loss of logits against (soft) binary targets. Differentiable: `input`, `target`. */
export interface SigmoidFocalLossArgs {
  /** Logits, any shape. */
  input: tf.Tensor;
  /** Float32 in [0, 1], the input's shape. */
  target: tf.Tensor;
  /** The weight of positive targets, `1 - alpha` that of negative ones; negative: no weighting. */
  alpha: number;
  /** γ >= 0. */
  gamma: number;
  reduction: Reduction;
  poison: boolean;
}

/** Kullback-Leibler divergence of log-probabilities from a target distribution. Differentiable: `input`, `target`. */
export interface KlDivergenceArgs {
  /** Log-probabilities, any shape. */
  input: tf.Tensor;
  /** Probabilities (log-probabilities when `logTarget`), the input's shape. */
  target: tf.Tensor;
  reduction: Reduction;
  /** What 'mean' divides the sum by: the number of elements (PyTorch's 'mean'), or the size of the first axis ('batchmean'). */
  meanDenominator: number;
  logTarget: boolean;
}

/** What the forward pass of a device implementation gives. */
export interface DeviceForward {
  /** The loss: a scalar for 'mean' and 'sum', the per-sample (binary: per-element) loss for 'none'. */
  value: tf.Tensor;
  /**
   * What the backward pass needs beyond the arguments (row statistics such as the log-sum-exp, the
   * mean's denominator); empty when `recording` was false. Kept alive until the backward pass.
   */
  saved: tf.Tensor[];
}

/**
 * A loss on a backend whose data lives on a device (webgl, webgpu), or its composite of tfjs ops: the
 * forward pass, then, when a gradient tape recorded it, the closed-form backward pass from what the
 * forward saved. The dispatcher wraps it in one `tf.customGrad` op and keeps every tensor of `args`
 * alive for the backward pass.
 */
export interface DeviceKernel<A> {
  /** The keys of `args` that are differentiable, in the order `backward` returns their gradients. */
  differentiable: ReadonlyArray<keyof A & string>;
  forward(args: A, recording: boolean): DeviceForward;
  /** The gradient of each differentiable argument (its shape), for the upstream gradient `dy` (the value's shape). */
  backward(dy: tf.Tensor, args: A, saved: tf.Tensor[]): tf.Tensor[];
}
