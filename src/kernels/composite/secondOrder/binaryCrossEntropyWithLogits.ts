import * as tf from '@tensorflow/tfjs-core';
import type { BinaryCrossEntropyWithLogitsArgs } from '../../args';
import { reductionScale, times } from '../shared';
import { sigmoid, smoothSoftplus } from './shared';

/**
 * The gradients of binary cross-entropy of logits as differentiable ops on the input and the target:
 * `w·((1-y)·σ(x) - pw·y·σ(-x))·dy·scale` (input) and `w·(pw·softplus(-x) - softplus(x))·dy·scale`
 * (target), σ and softplus recomputed here. The input's second derivative is `w·(1-y+pw·y)·σ(x)σ(-x)`.
 */
export function binaryCrossEntropyWithLogitsGradient(args: BinaryCrossEntropyWithLogitsArgs, dy: tf.Tensor): tf.Tensor[] {
  const { input: x, target: y, weight, posWeight, reduction } = args;
  const factor = tf.mul(reductionScale(reduction, x.size), dy);
  const negX = tf.neg(x);
  const positiveY = times(y, posWeight);
  const inputGradient = times(tf.sub(tf.mul(tf.sub(1, y), sigmoid(x)), tf.mul(positiveY, sigmoid(negX))), weight);
  const targetGradient = times(tf.sub(times(smoothSoftplus(negX), posWeight), smoothSoftplus(x)), weight);
  return [tf.mul(inputGradient, factor), tf.mul(targetGradient, factor)];
}
