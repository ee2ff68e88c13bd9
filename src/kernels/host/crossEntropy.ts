import * as tf from '@tensorflow/tfjs-core';
import type { ClassLayout } from '../../core/layout';
import type { Reduction } from '../../core/options';
import { readValues } from '../../core/tensors';
import type { CrossEntropyIndicesArgs, CrossEntropyProbabilitiesArgs } from '../args';
import { expNonPositive, softplusOfNegative } from './fastMath';
import { finish, FusedResult, hostOp } from './hostOp';
import { SimdKernels, simdKernels } from './simd/simdKernels';

/** Inputs of the cross-entropy kernels, already validated and read to the host. */
interface HostCrossEntropyArgs {
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
  args: HostCrossEntropyArgs & { target: Float32Array | Int32Array; ignoreIndex: number },
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
  args: HostCrossEntropyArgs & { target: Float32Array },
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

/** Cross-entropy against class indices on the host: targets and weights read once, then one fused pass. */
export function crossEntropyIndicesHost(args: CrossEntropyIndicesArgs): tf.Tensor {
  const { layout, sampleShape, reduction, labelSmoothing, ignoreIndex } = args;
  const weight = args.weight === null ? null : (readValues(args.weight) as Float32Array);
  const target = readValues(args.target);
  return hostOp([args.logits], layout, (withGradients, [logits]) =>
    softmaxCrossEntropyWithIndices({ logits, layout, weight, labelSmoothing, reduction, sampleShape, target, ignoreIndex }, withGradients),
  );
}

/** Cross-entropy against class probabilities on the host: weights read once, then one fused pass. */
export function crossEntropyProbabilitiesHost(args: CrossEntropyProbabilitiesArgs): tf.Tensor {
  const { layout, sampleShape, reduction, labelSmoothing } = args;
  const weight = args.weight === null ? null : (readValues(args.weight) as Float32Array);
  return hostOp([args.logits, args.target], layout, (withGradients, [logits, target]) =>
    softmaxCrossEntropyWithProbabilities({ logits, layout, weight, labelSmoothing, reduction, sampleShape, target }, withGradients),
  );
}
