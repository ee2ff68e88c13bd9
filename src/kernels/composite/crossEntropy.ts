import * as tf from '@tensorflow/tfjs-core';
import type { CrossEntropyIndicesArgs, CrossEntropyProbabilitiesArgs } from '../args';
import {
  compositeKernel,
  CompositeResult,
  fromClassesLast,
  keptSampleScale,
  logSoftmaxLastAxis,
  oneHotTargets,
  pickTarget,
  reduceLoss,
  reductionScale,
  softplus,
  softplusPair,
  TargetWeights,
  targetWeights,
  toClassesLast,
} from './shared';

/**
 * Cross-entropy against class indices as a composite of tfjs ops: the host kernel's loss and
 * closed-form gradient, `(p·((1-ε)w_y + (ε/C)·Σw) - (1-ε)w_y·[c=y] - (ε/C)·w_c)·scale`, with the
 * targets read on the device.
 */
function crossEntropyIndices(args: CrossEntropyIndicesArgs, withGradient: boolean): CompositeResult {
  const { layout, labelSmoothing: eps, reduction } = args;
  const { classes } = layout;
  const smoothing = eps / classes;
  const logits = toClassesLast(args.logits, layout);
  const targets = targetWeights(args.target, layout, args.weight as tf.Tensor1D | null, args.ignoreIndex);
  if (classes === 2) return twoClassComposite(args, logits, targets, withGradient);
  // As PyTorch's log-softmax: x - max is exact for nearby logits; lp = (x - max) - log Σ exp(x - max).
  const shifted = tf.sub(logits, tf.max(logits, 1, true)) as tf.Tensor2D;
  const exps = tf.exp(shifted);
  const sumExps = tf.sum(exps, 1, true);
  const logSum = tf.reshape(tf.log(sumExps), [layout.outer * layout.inner]);
  let perSample: tf.Tensor = tf.mul(targets.perSample, tf.sub(logSum, pickTarget(shifted, targets))); // -w_y·lp_y
  const weightSum = targets.classWeight === null ? classes : tf.sum(targets.classWeight);
  if (eps > 0) {
    // -Σ_c w_c·lp_c = Σw·log Σ + Σ_c w_c·(max - x_c): two sums of non-negative terms, no cancellation.
    const weightedShift = tf.sum(targets.classWeight === null ? shifted : tf.mul(shifted, targets.classWeight), 1);
    const smoothingTerm = tf.mul(tf.sub(tf.mul(logSum, weightSum), weightedShift), targets.kept);
    perSample = tf.add(tf.mul(perSample, 1 - eps), tf.mul(smoothingTerm, smoothing));
  }
  const scale = reductionScale(reduction, tf.sum(targets.perSample));
  const value = reduceLoss(perSample, reduction, scale, args.sampleShape);
  if (!withGradient) return { value };
  // (p·((1-ε)w_y + (ε/C)·Σw) - (1-ε)w_y·[c=y] - (ε/C)·w_c)·scale on kept samples, with p = exps/Σ:
  // a few passes over the logits' size, fewer than tf.losses.softmaxCrossEntropy's forward and backward.
  const rowScale = keptSampleScale(targets.kept, scale, reduction);
  const rowFactor = tf.add(tf.mul(targets.perSample, 1 - eps), tf.mul(tf.mul(targets.kept, weightSum), smoothing));
  const targetPull = tf.mul(tf.expandDims(tf.mul(targets.perSample, 1 - eps), 1), rowScale);
  let gradient: tf.Tensor = tf.sub(
    tf.mul(exps, tf.div(tf.mul(tf.expandDims(rowFactor, 1), rowScale), sumExps)),
    tf.mul(oneHotTargets(targets, classes), targetPull),
  );
  if (eps > 0) {
    const classPull =
      targets.classWeight === null ? tf.fill([1, classes], smoothing) : tf.reshape(tf.mul(targets.classWeight, smoothing), [1, classes]);
    gradient = tf.sub(gradient, tf.mul(rowScale, classPull));
  }
  return { value, gradients: [fromClassesLast(gradient, layout, args.logits.shape)] };
}

/**
 * Two classes (the binary-as-two-class head) in the composite path, through the logit difference: with
 * `m = x_other - x_y`, the target's loss is `softplus(m)` and the other class's `softplus(-m)`, and the
 * gradient of the other class is `σ(m)·R - (ε/2)·w_other` (the target's is its negative), with
 * `R = (1-ε)w_y + (ε/2)·Σw`. `softplusPair` and tf.sigmoid are accurate to a few float32 ulps on every
 * backend, so a confident prediction's tiny loss keeps its relative accuracy, as on the fused path,
 * where `lse - x_y` would round it to 0.
 */
function twoClassComposite(
  args: CrossEntropyIndicesArgs,
  logits: tf.Tensor2D,
  targets: TargetWeights,
  withGradient: boolean,
): CompositeResult {
  const { layout, labelSmoothing: eps, reduction } = args;
  const samples = layout.outer * layout.inner;
  // x1 - x0 as a product and a row sum: tf.split and tf.stack along the class axis (slice and concat)
  // copy element by element on cpu and wasm, 10 to 30 times slower.
  const columnSigns = tf.tensor2d([[-1, 1]]);
  const difference = tf.sum(tf.mul(logits, columnSigns), 1);
  // m = x_other - x_y: x0 - x1 when the target is class 1, x1 - x0 otherwise (ignored samples are masked).
  const sign = tf.sub(1, tf.mul(tf.cast(tf.equal(targets.indices, 1), 'float32'), 2));
  const margin = tf.mul(difference, sign);
  const weightSum = targets.classWeight === null ? 2 : tf.sum(targets.classWeight);
  let perSample: tf.Tensor;
  let otherWeight: tf.Tensor | null = null; // w_other on kept samples, for label smoothing
  if (eps > 0) {
    const [targetLoss, otherLoss] = softplusPair(margin);
    otherWeight = tf.mul(tf.sub(weightSum, targets.perSample), targets.kept);
    const nll = tf.mul(targets.perSample, targetLoss);
    perSample = tf.add(tf.mul(nll, 1 - eps), tf.mul(tf.add(nll, tf.mul(otherWeight, otherLoss)), eps / 2));
  } else {
    perSample = tf.mul(targets.perSample, softplus(margin));
  }
  const scale = reductionScale(reduction, tf.sum(targets.perSample));
  const value = reduceLoss(perSample, reduction, scale, args.sampleShape);
  if (!withGradient) return { value };
  let otherGradient: tf.Tensor;
  if (otherWeight !== null) {
    const rowFactor = tf.add(tf.mul(targets.perSample, 1 - eps), tf.mul(tf.mul(targets.kept, weightSum), eps / 2));
    otherGradient = tf.sub(tf.mul(tf.sigmoid(margin), rowFactor), tf.mul(otherWeight, eps / 2));
  } else {
    otherGradient = tf.mul(tf.sigmoid(margin), targets.perSample);
  }
  const column1 = tf.mul(tf.mul(otherGradient, sign), tf.reshape(keptSampleScale(targets.kept, scale, reduction), [samples]));
  const gradient = tf.mul(tf.expandDims(column1, 1), columnSigns);
  return { value, gradients: [fromClassesLast(gradient, layout, args.logits.shape)] };
}

/**
 * Cross-entropy against class probabilities as a composite of tfjs ops: loss `-Σ_c w_c t'_c lp_c`,
 * gradients `p_c·Σ_k w_k t'_k - w_c t'_c` (logits) and `-(1-ε)·w_c·lp_c` (targets).
 */
function crossEntropyProbabilities(args: CrossEntropyProbabilitiesArgs, withGradient: boolean): CompositeResult {
  const { layout, labelSmoothing: eps, reduction } = args;
  const logits = toClassesLast(args.logits, layout);
  const target = toClassesLast(args.target, layout);
  const classWeight = args.weight;
  const smoothed = eps > 0 ? tf.add(tf.mul(target, 1 - eps), eps / layout.classes) : target;
  const weighted = classWeight === null ? smoothed : tf.mul(smoothed, classWeight);
  const logProbabilities = logSoftmaxLastAxis(logits);
  const perSample = tf.neg(tf.sum(tf.mul(weighted, logProbabilities), 1));
  const scale = reductionScale(reduction, layout.outer * layout.inner);
  const value = reduceLoss(perSample, reduction, scale, args.sampleShape);
  if (!withGradient) return { value };
  const logitGradient = tf.mul(tf.sub(tf.mul(tf.exp(logProbabilities), tf.sum(weighted, 1, true)), weighted), scale);
  const targetScale = tf.mul(scale, -(1 - eps));
  const targetGradient = tf.mul(classWeight === null ? logProbabilities : tf.mul(logProbabilities, classWeight), targetScale);
  return {
    value,
    gradients: [fromClassesLast(logitGradient, layout, args.logits.shape), fromClassesLast(targetGradient, layout, args.logits.shape)],
  };
}

export const crossEntropyIndicesComposite = compositeKernel<CrossEntropyIndicesArgs>(
  ['logits'],
  (args) => args.layout,
  crossEntropyIndices,
);

export const crossEntropyProbabilitiesComposite = compositeKernel<CrossEntropyProbabilitiesArgs>(
  ['logits', 'target'],
  (args) => args.layout,
  crossEntropyProbabilities,
);
