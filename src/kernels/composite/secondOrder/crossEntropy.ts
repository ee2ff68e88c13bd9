import * as tf from '@tensorflow/tfjs-core';
import type { CrossEntropyIndicesArgs, CrossEntropyProbabilitiesArgs } from '../../args';
import { fromClassesLast, keptSampleScale, oneHotTargets, reductionScale, targetWeights, times, toClassesLast } from '../shared';
import { logSoftmaxRows, upstreamRows } from './shared';

/**
 * The gradient of cross-entropy against class indices as differentiable ops on the logits:
 * `(p·((1-ε)w_y + (ε/C)·Σw) - (1-ε)w_y·[c=y] - (ε/C)·w_c)·dy/denominator` on kept samples, 0 on ignored
 * ones, with `p = softmax(logits)` recomputed here. Its derivative is the Hessian `diag(p) - p·pᵀ`
 * times the row factor.
 */
export function crossEntropyIndicesGradient(args: CrossEntropyIndicesArgs, dy: tf.Tensor): tf.Tensor[] {
  const { layout, labelSmoothing: eps, reduction } = args;
  const { classes } = layout;
  const smoothing = eps / classes;
  const targets = targetWeights(args.target, layout, args.weight as tf.Tensor1D | null, args.ignoreIndex);
  const weightSum = targets.classWeight === null ? classes : tf.sum(targets.classWeight);
  const targetShare = tf.expandDims(tf.mul(targets.perSample, 1 - eps), 1);
  const probabilityShare = tf.add(targetShare, tf.expandDims(tf.mul(tf.mul(targets.kept, weightSum), smoothing), 1));
  const probabilities = tf.exp(logSoftmaxRows(toClassesLast(args.logits, layout)));
  let rows = tf.sub(tf.mul(probabilities, probabilityShare), tf.mul(oneHotTargets(targets, classes), targetShare));
  if (eps > 0) {
    const classPull = targets.classWeight === null ? smoothing : tf.reshape(tf.mul(targets.classWeight, smoothing), [1, classes]);
    rows = tf.sub(rows, tf.mul(tf.expandDims(targets.kept, 1), classPull));
  }
  const scale = reductionScale(reduction, tf.sum(targets.perSample));
  const factor = tf.mul(keptSampleScale(targets.kept, scale, reduction), upstreamRows(dy, reduction, targets.kept.size));
  return [fromClassesLast(tf.mul(rows, factor), layout, args.logits.shape)];
}

/**
 * The gradients of cross-entropy against class probabilities as differentiable ops on the logits and
 * the targets: `(p·Σ_k w_k t'_k - w_c t'_c)·dy/samples` (logits) and `-(1-ε)·w_c·lp_c·dy/samples`
 * (targets), with `lp = logSoftmax(logits)` recomputed here and `t' = (1-ε)t + ε/C`.
 */
export function crossEntropyProbabilitiesGradient(args: CrossEntropyProbabilitiesArgs, dy: tf.Tensor): tf.Tensor[] {
  const { layout, labelSmoothing: eps, reduction, weight } = args;
  const samples = layout.outer * layout.inner;
  const target = toClassesLast(args.target, layout);
  const weighted = times(eps > 0 ? tf.add(tf.mul(target, 1 - eps), eps / layout.classes) : target, weight);
  const logProbabilities = logSoftmaxRows(toClassesLast(args.logits, layout));
  const factor = tf.mul(reductionScale(reduction, samples), upstreamRows(dy, reduction, samples));
  const logitGradient = tf.mul(tf.sub(tf.mul(tf.exp(logProbabilities), tf.sum(weighted, 1, true)), weighted), factor);
  const targetGradient = tf.mul(times(logProbabilities, weight), tf.mul(factor, -(1 - eps)));
  return [fromClassesLast(logitGradient, layout, args.logits.shape), fromClassesLast(targetGradient, layout, args.logits.shape)];
}
