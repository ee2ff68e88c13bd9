import * as tf from '@tensorflow/tfjs-core';
import type { NllArgs } from '../args';
import {
  compositeKernel,
  CompositeResult,
  fromClassesLast,
  keptSampleScale,
  oneHotTargets,
  pickTarget,
  reduceLoss,
  reductionScale,
  TargetWeights,
  targetWeights,
  toClassesLast,
} from './shared';

/**
 * Negative log-likelihood as a composite of tfjs ops: `loss_n = -w[y_n]·x[n, y_n]`, gradient `-w[y_n]`
 * (times the reduction's scale) at the target of each kept sample, with the targets read on the device.
 */
function nllLoss(args: NllArgs, withGradient: boolean): CompositeResult {
  const { layout, reduction } = args;
  const targets = targetWeights(args.target, layout, args.weight as tf.Tensor1D | null, args.ignoreIndex);
  const perSample = tf.neg(tf.mul(targets.perSample, pickTarget(toClassesLast(args.logProbabilities, layout), targets)));
  const scale = reductionScale(reduction, tf.sum(targets.perSample));
  const value = reduceLoss(perSample, reduction, scale, args.sampleShape);
  if (!withGradient) return { value };
  return { value, gradients: nllLossGradients(args, targets, keptSampleScale(targets.kept, scale, reduction)) };
}

/**
 * The gradient `-w[y]·factor` at the target of each kept sample, exactly 0 elsewhere (a product with
 * the one-hot would give -0, and NaN where the factor is NaN), with `factor` `[samples, 1]` or a
 * scalar: what the composite saves (the reduction's scale on kept samples) and what a recorded
 * backward pass returns (also times `dy`, through which it is differentiable).
 */
export function nllLossGradients(args: NllArgs, targets: TargetWeights, factor: tf.Tensor): tf.Tensor[] {
  const atTarget = tf.mul(tf.expandDims(targets.perSample, 1), tf.neg(factor));
  const oneHot = oneHotTargets(targets, args.layout.classes);
  const isTarget = tf.logicalAnd(tf.cast(oneHot, 'bool'), tf.cast(tf.expandDims(targets.kept, 1), 'bool'));
  const gradient = tf.where(isTarget, tf.mul(tf.onesLike(oneHot), atTarget), tf.zerosLike(oneHot));
  return [fromClassesLast(gradient, args.layout, args.logProbabilities.shape)];
}

export const nllLossComposite = compositeKernel<NllArgs>(['logProbabilities'], (args) => args.layout, nllLoss);
