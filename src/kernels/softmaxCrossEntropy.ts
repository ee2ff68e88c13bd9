import * as tf from '@tensorflow/tfjs-core';
import type { ClassLayout } from '../core/layout';
import type { Reduction } from '../core/options';
import { expNonPositive, softplusOfNegative } from './fastMath';
import {
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
} from './composite';
import { CompositeResult, finish, FusedResult } from './fusedLoss';
import { SimdKernels, simdKernels } from './simdKernels';

/** Inputs of the cross-entropy kernels, already validated and read to the host. */
export interface SoftmaxCrossEntropyArgs {
  logits: Float32Array;
  layout: ClassLayout;
  /** One weight per class, or null for all ones. */
  weight: Float32Array | null;
  labelSmoothing: number;
  reduction: Reduction;
  /** Shape of the per-sample loss ('none'). */
  sampleShape: number[];
}

/** `Σ_c exps[c]` of the sample `logSumExp` saw last (a module variable: no allocation per sample). */
let sampleSum = 1;
/** Where `softplusOfNegative` writes its sigmoid. */
const sigmoidScratch = new Float64Array(1);

/**
 * The log-sum-exp of one sample whose logits sit at `base + c·stride` (up to `end`). When `exps` is
 * given (the gradient array, scaled in place afterwards), writes there, at each logit's position, a
 * number proportional to its softmax probability, and sets `sampleSum` to their sum: `exp(x_c - max)`
 * for C > 2, one exponential per logit; the probabilities themselves for C = 2, from the table of
 * `softplusOfNegative` without a branch on which logit is larger (it would mispredict half the time).
 * NaN anywhere in the sample gives NaN, as in PyTorch.
 */
function logSumExp(logits: Float32Array, base: number, end: number, stride: number, exps: Float32Array | null): number {
  if (end - base === 2 * stride) {
    const x0 = logits[base];
    const x1 = logits[base + stride];
    const difference = x1 - x0;
    const gap = Math.abs(difference);
    const log1pExp = softplusOfNegative(gap, sigmoidScratch); // log1p(exp(-gap)); σ(-gap) in the scratch
    if (exps !== null) {
      const small = sigmoidScratch[0];
      exps[base] = small + (1 - 2 * small) * +(difference < 0);
      exps[base + stride] = small + (1 - 2 * small) * +(difference >= 0);
      sampleSum = 1;
    }
    return 0.5 * (x0 + x1 + gap) + log1pExp; // max(x0, x1) + log1p(exp(-|x1 - x0|))
  }
  let max = -Infinity;
  for (let at = base; at < end; at += stride) {
    const x = logits[at];
    if (x > max || x !== x) max = x;
  }
  let sum = 0;
  if (exps === null) {
    for (let at = base; at < end; at += stride) sum += expNonPositive(logits[at] - max);
  } else if (stride === 1) {
    // Four partial sums: one running sum would chain every addition to the previous one.
    let sum1 = 0;
    let sum2 = 0;
    let sum3 = 0;
    let at = base;
    for (; at + 3 < end; at += 4) {
      sum += exps[at] = expNonPositive(logits[at] - max);
      sum1 += exps[at + 1] = expNonPositive(logits[at + 1] - max);
      sum2 += exps[at + 2] = expNonPositive(logits[at + 2] - max);
      sum3 += exps[at + 3] = expNonPositive(logits[at + 3] - max);
    }
    for (; at < end; at++) sum += exps[at] = expNonPositive(logits[at] - max);
    sum += sum1 + sum2 + sum3;
  } else {
    for (let at = base; at < end; at += stride) sum += exps[at] = expNonPositive(logits[at] - max);
  }
  sampleSum = sum;
  return max + Math.log(sum);
}

/** Rows shorter than this stay in JavaScript: calls and copies would cost more than SIMD saves. */
const SIMD_MIN_CLASSES = 8;
/** Floats per block of rows in WebAssembly memory (8 MB each for logits and exps). */
const SIMD_BLOCK_FLOATS = 1 << 21;

function alignTo16(bytes: number): number {
  return (bytes + 15) & ~15;
}

/**
 * Runs `rows × classes` logits through the SIMD loops in blocks of rows: copies a block in; the module
 * computes each row's max and sum of exponentials and, when `gradient` is given, writes
 * `exp(x_c - max)·numerator(row)/sum - pull[c]` to it (the gradient but for the target's term);
 * `rowDone(row, max, sum)` gets every row's statistics for the loss.
 */
function forEachSimdBlock(
  simd: SimdKernels,
  logits: Float32Array,
  rows: number,
  classes: number,
  gradient: { values: Float32Array; numerator: (row: number) => number; pull: Float32Array } | null,
  rowDone: (row: number, max: number, sum: number) => void,
): void {
  const blockRows = Math.max(1, Math.floor(SIMD_BLOCK_FLOATS / classes));
  for (let first = 0; first < rows; first += blockRows) {
    const count = Math.min(blockRows, rows - first);
    const size = count * classes;
    const expsAt = alignTo16(size * 4);
    const statsAt = 2 * expsAt;
    const numeratorsAt = statsAt + count * 16;
    const pullAt = numeratorsAt + count * 8;
    const memory = simd.memory(pullAt + classes * 4);
    memory.f32.set(logits.subarray(first * classes, first * classes + size), 0);
    if (gradient !== null) {
      const numerators = memory.f64.subarray(numeratorsAt / 8, numeratorsAt / 8 + count);
      for (let r = 0; r < count; r++) numerators[r] = gradient.numerator(first + r);
      memory.f32.set(gradient.pull, pullAt / 4);
    }
    simd.softmaxRows(0, expsAt, count, classes, statsAt, gradient === null ? 0 : numeratorsAt, pullAt);
    const stats = memory.f64.subarray(statsAt / 8, statsAt / 8 + 2 * count);
    for (let r = 0; r < count; r++) rowDone(first + r, stats[2 * r], stats[2 * r + 1]);
    if (gradient !== null) gradient.values.set(memory.f32.subarray(expsAt / 4, expsAt / 4 + size), first * classes);
  }
}

/**
 * Finishes the target's entry of one gradient row: `p_y·A - pull`. When `p_y` is near 1 the two
 * terms nearly cancel, and `p_y`, rounded to float32, would leave an absolute error of float32's
 * spacing near 1 (6e-8): a relative error of 1e-3 in the gradient of a confident sample (PyTorch's
 * float32 has it). Every row of this gradient sums to 0 (also with weights and label smoothing), so
 * there the entry is minus the sum of the others, each accurate to float32, summed in float64.
 */
function subtractTarget(gradient: Float32Array, base: number, end: number, inner: number, targetAt: number, pull: number): void {
  if (!(Math.abs(gradient[targetAt]) > 0.5 * Math.abs(pull))) {
    gradient[targetAt] -= pull;
    return;
  }
  let others = 0;
  for (let at = base; at < targetAt; at += inner) others += gradient[at];
  for (let at = targetAt + inner; at < end; at += inner) others += gradient[at];
  gradient[targetAt] = -others;
}

/**
 * Cross-entropy with class-index targets in one pass per sample: log-sum-exp, the loss, and when
 * asked the gradient `p_c·((1-ε)w_y + (ε/C)·Σw) - (1-ε)w_y·[c=y] - (ε/C)·w_c`, scaled by the
 * reduction's denominator. Accumulates in float64. Targets must already be checked.
 */
export function softmaxCrossEntropyWithIndices(
  args: SoftmaxCrossEntropyArgs & { target: Float32Array | Int32Array; ignoreIndex: number },
  withGradient: boolean,
): FusedResult {
  const { logits, layout, weight, labelSmoothing: eps, reduction, target, ignoreIndex } = args;
  const { outer, classes, inner } = layout;
  const samples = outer * inner;
  const smoothing = eps / classes;
  let weightSum = classes;
  if (weight !== null) {
    weightSum = 0;
    for (let c = 0; c < classes; c++) weightSum += weight[c];
  }
  // The denominator of 'mean' (PyTorch: sum of w[y] over targets that are not ignored) is known
  // before the main pass, so the gradient is scaled as it is written. When it is 0, PyTorch's
  // negative log-likelihood part is 0/0: the loss and the gradient of every target not ignored are NaN.
  let denominator = 0;
  for (let s = 0; s < samples; s++) {
    const y = target[s];
    if (y !== ignoreIndex) denominator += weight === null ? 1 : weight[y];
  }
  const scale = reduction !== 'mean' ? 1 : denominator === 0 ? NaN : 1 / denominator;
  const perSample = reduction === 'none' ? new Float32Array(samples) : null;
  const gradient = withGradient ? new Float32Array(logits.length) : null;
  // What label smoothing subtracts from the gradient of class c, already scaled: (ε/C)·w_c·scale.
  const smoothingPull = new Float32Array(gradient !== null ? classes : 0);
  if (eps > 0) for (let c = 0; c < smoothingPull.length; c++) smoothingPull[c] = smoothing * (weight === null ? 1 : weight[c]) * scale;
  const simd = inner === 1 && classes >= SIMD_MIN_CLASSES ? simdKernels() : null;
  let total = 0;
  const addLoss = (s: number, lse: number, base: number, end: number, y: number, wy: number) => {
    let loss = (1 - eps) * wy * (lse - logits[base + y * inner]);
    if (eps > 0) {
      let weightedLogitSum = 0;
      if (weight === null) {
        for (let at = base; at < end; at += inner) weightedLogitSum += logits[at];
      } else {
        for (let at = base, c = 0; at < end; at += inner, c++) weightedLogitSum += weight[c] * logits[at];
      }
      loss += smoothing * (weightSum * lse - weightedLogitSum);
    }
    total += loss;
    if (perSample !== null) perSample[s] = loss;
  };
  if (simd !== null) {
    // Rows in blocks through the SIMD loops: exponentials, their sums and the gradient there, the loss here in float64.
    const numerator = (row: number) => {
      const y = target[row];
      return y === ignoreIndex ? 0 : ((1 - eps) * (weight === null ? 1 : weight[y]) + smoothing * weightSum) * scale;
    };
    forEachSimdBlock(
      simd,
      logits,
      outer,
      classes,
      gradient === null ? null : { values: gradient, numerator, pull: smoothingPull },
      (row, max, sum) => {
        const y = target[row];
        if (y === ignoreIndex) return;
        const base = row * classes;
        addLoss(row, max + Math.log(sum), base, base + classes, y, weight === null ? 1 : weight[y]);
      },
    );
    if (gradient !== null) {
      for (let row = 0; row < outer; row++) {
        const y = target[row];
        if (y === ignoreIndex) gradient.fill(0, row * classes, (row + 1) * classes);
        else
          subtractTarget(
            gradient,
            row * classes,
            (row + 1) * classes,
            1,
            row * classes + y,
            (1 - eps) * (weight === null ? 1 : weight[y]) * scale,
          );
      }
    }
  } else {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < inner; i++) {
        const s = o * inner + i;
        const y = target[s];
        if (y === ignoreIndex) continue;
        const base = o * classes * inner + i;
        const end = base + classes * inner;
        const lse = logSumExp(logits, base, end, inner, gradient);
        const wy = weight === null ? 1 : weight[y];
        addLoss(s, lse, base, end, y, wy);
        if (gradient !== null) {
          // gradient holds numbers proportional to p_c, summing to sampleSum.
          const probabilityScale = (((1 - eps) * wy + smoothing * weightSum) * scale) / sampleSum;
          if (eps > 0) {
            for (let at = base, c = 0; at < end; at += inner, c++) gradient[at] = gradient[at] * probabilityScale - smoothingPull[c];
          } else {
            for (let at = base; at < end; at += inner) gradient[at] *= probabilityScale;
          }
          subtractTarget(gradient, base, end, inner, base + y * inner, (1 - eps) * wy * scale);
        }
      }
    }
  }
  return finish(total, scale, perSample, args.sampleShape, reduction, gradient === null ? undefined : [gradient]);
}

/**
 * Cross-entropy with class-probability targets `t` (same shape as the logits), smoothed as
 * `t' = (1-ε)t + ε/C`: loss `-Σ_c w_c t'_c lp_c`; gradients `p_c·Σ_k w_k t'_k - w_c t'_c` for the
 * logits and `-(1-ε)·w_c·lp_c` for the targets. 'mean' divides by the number of samples.
 */
export function softmaxCrossEntropyWithProbabilities(
  args: SoftmaxCrossEntropyArgs & { target: Float32Array },
  withGradient: boolean,
): FusedResult {
  const { logits, layout, weight, labelSmoothing: eps, reduction, target } = args;
  const { outer, classes, inner } = layout;
  const samples = outer * inner;
  const smoothing = eps / classes;
  const keep = 1 - eps;
  const scale = reduction === 'mean' ? 1 / samples : 1;
  const perSample = reduction === 'none' ? new Float32Array(samples) : null;
  const logitGradient = withGradient ? new Float32Array(logits.length) : null;
  const targetGradient = withGradient ? new Float32Array(logits.length) : null;
  let total = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * classes * inner + i;
      const end = base + classes * inner;
      const lse = logSumExp(logits, base, end, inner, logitGradient);
      let loss = 0;
      let targetMass = 0; // Σ_k w_k t'_k
      for (let at = base, c = 0; at < end; at += inner, c++) {
        const weighted = (weight === null ? 1 : weight[c]) * (keep * target[at] + smoothing);
        const logProbability = logits[at] - lse;
        loss -= weighted * logProbability;
        targetMass += weighted;
        if (targetGradient !== null) targetGradient[at] = -keep * (weight === null ? 1 : weight[c]) * logProbability * scale;
      }
      total += loss;
      if (perSample !== null) perSample[o * inner + i] = loss;
      if (logitGradient !== null) {
        // logitGradient holds numbers proportional to p_c, summing to sampleSum.
        const probabilityScale = (targetMass * scale) / sampleSum;
        for (let at = base, c = 0; at < end; at += inner, c++) {
          const weighted = (weight === null ? 1 : weight[c]) * (keep * target[at] + smoothing);
          logitGradient[at] = logitGradient[at] * probabilityScale - weighted * scale;
        }
      }
    }
  }
  const gradients = logitGradient !== null && targetGradient !== null ? [logitGradient, targetGradient] : undefined;
  return finish(total, scale, perSample, args.sampleShape, reduction, gradients);
}

/** The composites' arguments: as the fused kernels', with the logits as a tensor that stays on its backend. */
export interface SoftmaxCrossEntropyCompositeArgs extends Omit<SoftmaxCrossEntropyArgs, 'logits'> {
  logits: tf.Tensor;
}

/**
 * `softmaxCrossEntropyWithIndices` as a composite of tfjs ops (see `KernelPath`): the same loss and
 * closed-form gradient, with the targets read on the device.
 */
export function softmaxCrossEntropyWithIndicesComposite(
  args: SoftmaxCrossEntropyCompositeArgs & { target: tf.Tensor; ignoreIndex: number },
  withGradient: boolean,
): CompositeResult {
  const { layout, labelSmoothing: eps, reduction } = args;
  const { classes } = layout;
  const smoothing = eps / classes;
  const logits = toClassesLast(args.logits, layout);
  const targets = targetWeights(args.target, layout, args.weight, args.ignoreIndex);
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
  args: SoftmaxCrossEntropyCompositeArgs & { target: tf.Tensor; ignoreIndex: number },
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

/** `softmaxCrossEntropyWithProbabilities` as a composite of tfjs ops (see `KernelPath`). */
export function softmaxCrossEntropyWithProbabilitiesComposite(
  args: SoftmaxCrossEntropyCompositeArgs & { target: tf.Tensor },
  withGradient: boolean,
): CompositeResult {
  const { layout, labelSmoothing: eps, reduction } = args;
  const logits = toClassesLast(args.logits, layout);
  const target = toClassesLast(args.target, layout);
  const classWeight = args.weight === null ? null : tf.tensor1d(args.weight, 'float32');
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
