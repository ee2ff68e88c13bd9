import * as tf from '@tensorflow/tfjs-core';
import type { ClassLayout } from '../core/layout';
import type { Reduction } from '../core/options';
import { finish } from './fusedLoss';
import {
  fromClassesLast,
  keptSampleScale,
  oneHotTargets,
  pickTarget,
  reduceLoss,
  reductionScale,
  targetWeights,
  toClassesLast,
} from './composite';
import type { CompositeResult, FusedResult } from './fusedLoss';

/**
 * Negative log-likelihood of log-probabilities: `loss_n = -w[y_n]·x[n, y_n]` (0 where ignored), its
 * gradient `-w[y_n]` at the target's position and 0 elsewhere, scaled by the reduction's denominator
 * `Σ_{n not ignored} w[y_n]` for 'mean'. Targets must already be checked.
 */
export function negativeLogLikelihood(
  args: {
    logProbabilities: Float32Array;
    layout: ClassLayout;
    target: Float32Array | Int32Array;
    weight: Float32Array | null;
    ignoreIndex: number;
    reduction: Reduction;
    sampleShape: number[];
  },
  withGradient: boolean,
): FusedResult {
  const { logProbabilities, layout, target, weight, ignoreIndex, reduction } = args;
  const { outer, classes, inner } = layout;
  const samples = outer * inner;
  let denominator = 0;
  for (let s = 0; s < samples; s++) {
    const y = target[s];
    if (y !== ignoreIndex) denominator += weight === null ? 1 : weight[y];
  }
  const scale = reduction === 'mean' ? 1 / denominator : 1;
  const perSample = reduction === 'none' ? new Float32Array(samples) : null;
  const gradient = withGradient ? new Float32Array(logProbabilities.length) : null;
  let total = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const s = o * inner + i;
      const y = target[s];
      if (y === ignoreIndex) continue;
      const at = (o * classes + y) * inner + i;
      const wy = weight === null ? 1 : weight[y];
      const loss = -wy * logProbabilities[at];
      total += loss;
      if (perSample !== null) perSample[s] = loss;
      if (gradient !== null) gradient[at] = -wy * scale;
    }
  }
  return finish(total, scale, perSample, args.sampleShape, reduction, gradient === null ? undefined : [gradient]);
}

/** `negativeLogLikelihood` as a composite of tfjs ops (see `KernelPath`), with the targets read on the device. */
export function negativeLogLikelihoodComposite(
  args: {
    logProbabilities: tf.Tensor;
    layout: ClassLayout;
    target: tf.Tensor;
    weight: Float32Array | null;
    ignoreIndex: number;
    reduction: Reduction;
    sampleShape: number[];
  },
  withGradient: boolean,
): CompositeResult {
  const { layout, reduction } = args;
  const targets = targetWeights(args.target, layout, args.weight, args.ignoreIndex);
  const perSample = tf.neg(tf.mul(targets.perSample, pickTarget(toClassesLast(args.logProbabilities, layout), targets)));
  const scale = reductionScale(reduction, tf.sum(targets.perSample));
  const value = reduceLoss(perSample, reduction, scale, args.sampleShape);
  if (!withGradient) return { value };
  // -w[y]·scale at the target of each kept sample, exactly 0 elsewhere (a product with the one-hot
  // would give -0, and NaN where the scale is NaN).
  const atTarget = tf.mul(tf.expandDims(targets.perSample, 1), tf.neg(keptSampleScale(targets.kept, scale, reduction)));
  const oneHot = oneHotTargets(targets, layout.classes);
  const isTarget = tf.logicalAnd(tf.cast(oneHot, 'bool'), tf.cast(tf.expandDims(targets.kept, 1), 'bool'));
  const gradient = tf.where(isTarget, tf.mul(tf.onesLike(oneHot), atTarget), tf.zerosLike(oneHot));
  return { value, gradients: [fromClassesLast(gradient, layout, args.logProbabilities.shape)] };
}
