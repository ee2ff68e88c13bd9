import type { ClassLayout } from '../core/layout';
import type { Reduction } from '../core/options';
import { expNonPositive, log1pUnit } from './fastMath';
import type { FusedResult } from './fusedLoss';

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

/** The largest logit of the sample `exponentiate` saw last (a module variable: no allocation per sample). */
let sampleMax = 0;

/**
 * The softmax denominator of one sample whose logits sit at `base + c·stride`: returns
 * `Σ_c exp(x_c - max)`, sets `sampleMax`, and writes each `exp(x_c - max)` to `exps` at the logit's
 * position when given (the gradient array, scaled in place afterwards: one exponential per logit).
 * NaN anywhere in the sample makes the sum NaN, as in PyTorch.
 */
function exponentiate(logits: Float32Array, base: number, end: number, stride: number, exps: Float32Array | null): number {
  let max = -Infinity;
  for (let at = base; at < end; at += stride) {
    const x = logits[at];
    if (x > max || x !== x) max = x;
  }
  sampleMax = max;
  let sum = 0;
  if (exps === null) {
    for (let at = base; at < end; at += stride) sum += expNonPositive(logits[at] - max);
  } else {
    for (let at = base; at < end; at += stride) {
      const e = expNonPositive(logits[at] - max);
      exps[at] = e;
      sum += e;
    }
  }
  return sum;
}

/** `log(sum)` of a softmax denominator (at least 1): for two classes `sum - 1` is the smaller exponential, so log1p. */
function logOfSum(sum: number, classes: number): number {
  return classes === 2 ? log1pUnit(sum - 1) : Math.log(sum);
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
  const smoothingPull = new Float64Array(eps > 0 && gradient !== null ? classes : 0);
  for (let c = 0; c < smoothingPull.length; c++) smoothingPull[c] = smoothing * (weight === null ? 1 : weight[c]) * scale;
  let total = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const s = o * inner + i;
      const y = target[s];
      if (y === ignoreIndex) continue;
      const base = o * classes * inner + i;
      const end = base + classes * inner;
      const sum = exponentiate(logits, base, end, inner, gradient);
      const lse = sampleMax + logOfSum(sum, classes);
      const wy = weight === null ? 1 : weight[y];
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
      if (gradient !== null) {
        // gradient holds exp(x_c - max); p_c = that / sum.
        const probabilityScale = (((1 - eps) * wy + smoothing * weightSum) * scale) / sum;
        if (eps > 0) {
          for (let at = base, c = 0; at < end; at += inner, c++) gradient[at] = gradient[at] * probabilityScale - smoothingPull[c];
        } else {
          for (let at = base; at < end; at += inner) gradient[at] *= probabilityScale;
        }
        gradient[base + y * inner] -= (1 - eps) * wy * scale;
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
export function softmaxCrossEntropyWithProbabilities(args: SoftmaxCrossEntropyArgs & { target: Float32Array }, withGradient: boolean): FusedResult {
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
      const sum = exponentiate(logits, base, end, inner, logitGradient);
      const lse = sampleMax + logOfSum(sum, classes);
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
        // logitGradient holds exp(x_c - max); p_c = that / sum.
        const probabilityScale = (targetMass * scale) / sum;
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

/** Packs the reduced loss: per sample for 'none', the scaled total otherwise (NaN for a mean over nothing, as 0/0). */
export function finish(total: number, scale: number, perSample: Float32Array | null, sampleShape: number[], reduction: Reduction, gradients: Float32Array[] | undefined): FusedResult {
  if (reduction === 'none' && perSample !== null) return { value: perSample, valueShape: sampleShape, gradients };
  return { value: Float32Array.of(total * scale), valueShape: [], gradients };
}
