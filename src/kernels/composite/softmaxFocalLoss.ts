import * as tf from '@tensorflow/tfjs-core';
import type { ClassLayout } from '../../core/layout';
import type { SoftmaxFocalIndicesArgs, SoftmaxFocalProbabilitiesArgs } from '../args';
import {
  compositeKernel,
  CompositeResult,
  fromClassesLast,
  keptSampleScale,
  log1pNonNegative,
  oneHotTargets,
  reduceLoss,
  reductionScale,
  targetWeights,
  times,
  toClassesLast,
} from './shared';

/**
 * The focal factors of `[samples, classes]` logits, as the host kernel's: `lp`, `p`, `1 - p`, and for
 * γ > 0 `m = (1-p)^γ` and `h = m·(1 - γ·p·lp/(1-p))` (null for γ = 0, where both are 1). For the
 * largest logit of a row `1 - p = s/(1 + s)`, `s` the sum of the other classes' `exp(z - max)`, and
 * `p·lp/(1-p) = -log1p(s)/s`; for the other classes `1 - p = Σ_{k≠c} exp(z_k - max)/(1 + s)`, no
 * cancellation either.
 */
function focalFactors(logits: tf.Tensor2D, gamma: number) {
  const [samples, classes] = logits.shape;
  const shifted = tf.sub(logits, tf.max(logits, 1, true));
  const exps = tf.exp(shifted);
  const isTop = classes === 1 ? tf.cast(tf.onesLike(logits), 'bool') : tf.cast(tf.oneHot(tf.argMax(logits, 1), classes), 'bool');
  const others = tf.sum(tf.where(isTop, tf.zerosLike(exps), exps), 1, true);
  const logSum = log1pNonNegative(others); // log Σ exp(z - max), accurate for a tiny s
  const sum = tf.add(others, 1);
  const logProbability = tf.sub(shifted, logSum);
  const probability = tf.div(exps, sum);
  const rest = tf.where(isTop, tf.mul(tf.onesLike(exps), others), tf.sub(sum, exps)); // Σ_{k≠c} exp(z_k - max)
  const oneMinusProbability = tf.div(rest, sum);
  if (gamma === 0) return { logProbability, probability, oneMinusProbability, isTop, modulation: null, slope: null, samples, classes };
  const modulation = tf.exp(tf.mul(tf.sub(tf.log(rest), logSum), gamma));
  const topRatio = tf.where(tf.greater(others, 0), tf.neg(tf.div(logSum, others)), tf.fill([samples, 1], -1));
  const otherRatio = tf.where(
    tf.greater(probability, 0),
    tf.div(tf.mul(probability, logProbability), oneMinusProbability),
    tf.zerosLike(probability),
  );
  const ratio = tf.where(isTop, tf.mul(tf.onesLike(exps), topRatio), otherRatio);
  const slope = tf.mul(modulation, tf.sub(1, tf.mul(ratio, gamma)));
  return { logProbability, probability, oneMinusProbability, isTop, modulation, slope, samples, classes };
}

/**
 * The loss per sample `Σ_c a_c·m_c·(-lp_c)` (classes with `a_c = 0` add nothing) and the logits'
 * gradient before the reduction's scale, `p_k·Σ_c a_c·h_c - a_k·h_k`, for coefficients `a` (the
 * weighted, smoothed target) of `[samples, classes]`; for the top class `p·Σ_{c≠top} a_c·h_c - a·h·(1-p)`.
 */
function focalTerms(factors: ReturnType<typeof focalFactors>, a: tf.Tensor, withGradient: boolean) {
  const { logProbability, probability, oneMinusProbability, isTop, modulation, slope } = factors;
  const zeros = tf.zerosLike(a);
  const isZero = tf.equal(a, 0);
  const perSample = tf.sum(tf.where(isZero, zeros, tf.neg(tf.mul(times(a, modulation), logProbability))), 1);
  if (!withGradient) return { perSample, gradient: null };
  const ah = tf.where(isZero, zeros, times(a, slope));
  const sum = tf.sum(ah, 1, true);
  const othersSum = tf.sum(tf.where(isTop, zeros, ah), 1, true);
  const gradient = tf.where(
    isTop,
    tf.sub(tf.mul(probability, othersSum), tf.mul(ah, oneMinusProbability)),
    tf.sub(tf.mul(probability, sum), ah),
  );
  return { perSample, gradient };
}

/** `[1, classes]` class weights times `factor`, or `factor` alone for no weights. */
function classRow(weight: tf.Tensor | null, classes: number, factor: number): tf.Tensor {
  return weight === null ? tf.scalar(factor) : tf.reshape(tf.mul(weight, factor), [1, classes]);
}

/**
 * Focal loss against class indices as a composite of tfjs ops: coefficients
 * `a_c = w_c·(ε/C) + (1-ε)·w_y·[c = y]` on kept samples, 'mean' over `Σ w[y]`.
 */
function softmaxFocalIndices(args: SoftmaxFocalIndicesArgs, withGradient: boolean): CompositeResult {
  const { layout, labelSmoothing: eps, reduction, gamma } = args;
  const factors = focalFactors(toClassesLast(args.logits, layout), gamma);
  const targets = targetWeights(args.target, layout, args.weight as tf.Tensor1D | null, args.ignoreIndex);
  let a = tf.mul(oneHotTargets(targets, layout.classes), tf.expandDims(tf.mul(targets.perSample, 1 - eps), 1));
  if (eps > 0) a = tf.add(a, tf.mul(tf.expandDims(targets.kept, 1), classRow(args.weight, layout.classes, eps / layout.classes)));
  const { perSample, gradient } = focalTerms(factors, a, withGradient);
  const scale = reductionScale(reduction, tf.sum(targets.perSample));
  const value = reduceLoss(perSample, reduction, scale, args.sampleShape);
  if (gradient === null) return { value };
  const scaled = tf.mul(gradient, keptSampleScale(targets.kept, scale, reduction));
  return { value, gradients: [fromClassesLast(scaled, layout, args.logits.shape)] };
}

/**
 * Focal loss against class probabilities as a composite of tfjs ops: coefficients `a = w·((1-ε)·t + ε/C)`,
 * the targets' gradient `-(1-ε)·w·(1-p)^γ·lp`, 'mean' over the number of samples.
 */
function softmaxFocalProbabilities(args: SoftmaxFocalProbabilitiesArgs, withGradient: boolean): CompositeResult {
  const { layout, labelSmoothing: eps, reduction, gamma } = args;
  const factors = focalFactors(toClassesLast(args.logits, layout), gamma);
  const target = toClassesLast(args.target, layout);
  const smoothed = eps > 0 ? tf.add(tf.mul(target, 1 - eps), eps / layout.classes) : target;
  const a = times(smoothed, args.weight);
  const { perSample, gradient } = focalTerms(factors, a, withGradient);
  const scale = reductionScale(reduction, layout.outer * layout.inner);
  const value = reduceLoss(perSample, reduction, scale, args.sampleShape);
  if (gradient === null) return { value };
  const targetGradient = tf.mul(
    times(times(factors.logProbability, factors.modulation), classRow(args.weight, layout.classes, 1)),
    tf.mul(scale, -(1 - eps)),
  );
  const shape = args.logits.shape;
  return { value, gradients: [fromClassesLast(tf.mul(gradient, scale), layout, shape), fromClassesLast(targetGradient, layout, shape)] };
}

const layoutOf = (args: { layout: ClassLayout }) => args.layout;

export const softmaxFocalIndicesComposite = compositeKernel<SoftmaxFocalIndicesArgs>(['logits'], layoutOf, softmaxFocalIndices);

export const softmaxFocalProbabilitiesComposite = compositeKernel<SoftmaxFocalProbabilitiesArgs>(
  ['logits', 'target'],
  layoutOf,
  softmaxFocalProbabilities,
);
