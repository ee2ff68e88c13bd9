import type { ClassLayout } from '../core/layout';
import type { Reduction } from '../core/options';
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
  // before the main pass, so the gradient is scaled as it is written.
  let denominator = 0;
  for (let s = 0; s < samples; s++) {
    const y = target[s];
    if (y !== ignoreIndex) denominator += weight === null ? 1 : weight[y];
  }
  const scale = reduction === 'mean' ? 1 / denominator : 1;
  const perSample = reduction === 'none' ? new Float32Array(samples) : null;
  const gradient = withGradient ? new Float32Array(logits.length) : null;
  let total = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const s = o * inner + i;
      const y = target[s];
      if (y === ignoreIndex) continue;
      const base = o * classes * inner + i;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) max = Math.max(max, logits[base + c * inner]);
      let sumExp = 0;
      for (let c = 0; c < classes; c++) {
        const e = Math.exp(logits[base + c * inner] - max);
        sumExp += e;
        if (gradient !== null) gradient[base + c * inner] = e;
      }
      const lse = max + Math.log(sumExp);
      const wy = weight === null ? 1 : weight[y];
      let loss = -(1 - eps) * wy * (logits[base + y * inner] - lse);
      if (eps > 0) {
        let weightedLogitSum = 0;
        for (let c = 0; c < classes; c++) weightedLogitSum += (weight === null ? 1 : weight[c]) * logits[base + c * inner];
        loss += smoothing * (weightSum * lse - weightedLogitSum);
      }
      total += loss;
      if (perSample !== null) perSample[s] = loss;
      if (gradient !== null) {
        const probabilityScale = (((1 - eps) * wy + smoothing * weightSum) * scale) / sumExp;
        for (let c = 0; c < classes; c++) {
          const at = base + c * inner;
          gradient[at] = gradient[at] * probabilityScale - smoothing * (weight === null ? 1 : weight[c]) * scale;
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
  const scale = reduction === 'mean' ? 1 / samples : 1;
  const perSample = reduction === 'none' ? new Float32Array(samples) : null;
  const logitGradient = withGradient ? new Float32Array(logits.length) : null;
  const targetGradient = withGradient ? new Float32Array(logits.length) : null;
  let total = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * classes * inner + i;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) max = Math.max(max, logits[base + c * inner]);
      let sumExp = 0;
      for (let c = 0; c < classes; c++) sumExp += Math.exp(logits[base + c * inner] - max);
      const lse = max + Math.log(sumExp);
      let loss = 0;
      let targetMass = 0; // Σ_k w_k t'_k
      for (let c = 0; c < classes; c++) {
        const at = base + c * inner;
        const wc = weight === null ? 1 : weight[c];
        const smoothed = (1 - eps) * target[at] + smoothing;
        const logProbability = logits[at] - lse;
        loss -= wc * smoothed * logProbability;
        targetMass += wc * smoothed;
        if (targetGradient !== null && logitGradient !== null) {
          targetGradient[at] = -(1 - eps) * wc * logProbability * scale;
          logitGradient[at] = -wc * smoothed * scale;
        }
      }
      total += loss;
      if (perSample !== null) perSample[o * inner + i] = loss;
      if (logitGradient !== null) {
        const probabilityScale = targetMass * scale;
        for (let c = 0; c < classes; c++) {
          const at = base + c * inner;
          logitGradient[at] += Math.exp(logits[at] - lse) * probabilityScale;
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
