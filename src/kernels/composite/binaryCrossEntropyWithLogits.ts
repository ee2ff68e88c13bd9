import * as tf from '@tensorflow/tfjs-core';
import { elementwiseLayout } from '../../core/layout';
import type { BinaryCrossEntropyWithLogitsArgs } from '../args';
import { compositeKernel, CompositeResult, reduceLoss, reductionScale, softplusPair, times } from './shared';

/**
 * Binary cross-entropy of logits as a composite of tfjs ops: `w·((1-y)·softplus(x) + pw·y·softplus(-x))`,
 * gradients `w·((1-y)·σ(x) - pw·y·σ(-x))` (input) and `w·(pw·softplus(-x) - softplus(x))` (target).
 */
function binaryCrossEntropyWithLogits(args: BinaryCrossEntropyWithLogitsArgs, withGradients: boolean): CompositeResult {
  const { input: x, target: y, reduction, weight, posWeight } = args;
  const shape = x.shape;
  const negX = tf.neg(x);
  const [softplusX, softplusNegX] = softplusPair(x);
  const oneMinusY = tf.sub(1, y);
  const positiveY = times(y, posWeight); // pw·y
  const loss = times(tf.add(tf.mul(oneMinusY, softplusX), tf.mul(positiveY, softplusNegX)), weight);
  const scale = reductionScale(reduction, x.size);
  const value = reduceLoss(loss, reduction, scale, shape);
  if (!withGradients) return { value };
  const inputGradient = tf.mul(times(tf.sub(tf.mul(oneMinusY, tf.sigmoid(x)), tf.mul(positiveY, tf.sigmoid(negX))), weight), scale);
  const targetGradient = tf.mul(times(tf.sub(times(softplusNegX, posWeight), softplusX), weight), scale);
  return { value, gradients: [inputGradient, targetGradient] };
}

export const binaryCrossEntropyWithLogitsComposite = compositeKernel<BinaryCrossEntropyWithLogitsArgs>(
  ['input', 'target'],
  (args) => elementwiseLayout(args.input.size),
  binaryCrossEntropyWithLogits,
);
