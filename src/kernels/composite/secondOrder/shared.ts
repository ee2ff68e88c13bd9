import * as tf from '@tensorflow/tfjs-core';
import type { Reduction } from '../../../core/options';
import { offTape } from '../../../core/validate';
import { softplus } from '../shared';

/**
 * Pieces of the differentiable gradients (`DifferentiableGradient`): tfjs ops whose own derivatives
 * are exact, so that a tape through them gives the loss's second derivatives. Not tfjs' `logSoftmax`,
 * `softmax`, `sigmoid` or `softplus` as such: their gradients use their saved outputs, which an outer
 * tape does not connect, or are wrong at a point (relu and abs have derivative 0 at 0).
 */

/** `σ(x)` whose derivative is `σ(x)·σ(-x)` from the input, exact to float32 in the tails, where `y(1-y)` of tf.sigmoid's gradient cancels. */
export const sigmoid: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor;
  (args[1] as tf.GradSaveFunc)([x]);
  return {
    value: tf.sigmoid(x),
    gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => tf.mul(dy, tf.mul(sigmoid(saved), sigmoid(tf.neg(saved)))),
  };
}) as (x: tf.Tensor) => tf.Tensor;

/** `softplus(x) = log(1 + e^x)` (the composite's, accurate on every backend) whose derivative is `sigmoid(x)`. */
export const smoothSoftplus: (x: tf.Tensor) => tf.Tensor = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const x = args[0] as tf.Tensor;
  (args[1] as tf.GradSaveFunc)([x]);
  return { value: softplus(x), gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => tf.mul(dy, sigmoid(saved)) };
}) as (x: tf.Tensor) => tf.Tensor;

/**
 * Log-softmax of `[samples, classes]` logits along the last axis, `(x - m) - log Σ exp(x - m)`, with the
 * row max `m` a constant: the result does not depend on it, and tf.max's gradient is not a derivative
 * (it counts a tie twice).
 */
export function logSoftmaxRows(logits: tf.Tensor2D): tf.Tensor2D {
  const shifted = tf.sub(
    logits,
    offTape(logits, (x) => tf.max(x, 1, true)),
  );
  return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), 1, true)));
}

/** The upstream gradient of each sample as `[samples, 1]` for 'none', else the scalar `dy`: a factor of gradient rows. */
export function upstreamRows(dy: tf.Tensor, reduction: Reduction, samples: number): tf.Tensor {
  return tf.reshape(dy, reduction === 'none' ? [samples, 1] : []);
}
