import * as tf from '@tensorflow/tfjs-core';
import type { ClassLayout } from '../../core/layout';
import type { Reduction } from '../../core/options';
import { readValues } from '../../core/tensors';
import type { SoftmaxFocalIndicesArgs, SoftmaxFocalProbabilitiesArgs } from '../args';
import { expNonPositive } from './fastMath';
import { finish, FusedResult, hostOp } from './hostOp';

/**
 * One sample's softmax and focal factors, per class, in float64 (scratch arrays reused from sample to
 * sample). With `lp = logSoftmax(z)`, `p = exp(lp)`:
 *
 *     m_c = (1 - p_c)^γ = exp(γ·log(1 - p_c))
 *     h_c = (1 - p_c)^γ - γ·(1 - p_c)^(γ-1)·p_c·lp_c = m_c·(1 - γ·r_c),   r_c = p_c·lp_c/(1 - p_c) in [-1, 0]
 *
 * so that for any coefficients `a` (the weighted, smoothed target) the loss `Σ_c a_c·m_c·(-lp_c)` has
 * the gradient `p_k·Σ_c a_c·h_c - a_k·h_k`. `1 - p_c` is never formed by a subtraction that cancels:
 * for the largest logit it is `s/(1 + s)` with `s` the sum of the other classes' `exp(z - max)`, for
 * every other class (p <= 1/2) it is `1 - p_c`. So `m`, `h` and the loss are finite for every finite
 * logit and every γ >= 0, also when `1 - p` underflows and 0 < γ < 1.
 */
class FocalRow {
  readonly logProbability: Float64Array;
  readonly probability: Float64Array;
  readonly oneMinusProbability: Float64Array;
  readonly modulation: Float64Array;
  readonly slope: Float64Array;
  /** The class of the largest logit (the first of equals). */
  top = 0;

  constructor(classes: number) {
    this.logProbability = new Float64Array(classes);
    this.probability = new Float64Array(classes);
    this.oneMinusProbability = new Float64Array(classes);
    this.modulation = new Float64Array(classes);
    this.slope = new Float64Array(classes);
  }

  /** Computes the factors of the sample whose logits sit at `base + c·stride`. NaN anywhere gives NaN. */
  load(logits: Float32Array, base: number, stride: number, gamma: number): void {
    const { logProbability: lp, probability: p, oneMinusProbability: q, modulation: m, slope: h } = this;
    const classes = lp.length;
    let max = -Infinity;
    let top = 0;
    for (let c = 0; c < classes; c++) {
      const x = logits[base + c * stride];
      if (x > max || x !== x) {
        max = x;
        top = c;
      }
    }
    let others = 0; // s = Σ_{c ≠ top} exp(z_c - max)
    for (let c = 0; c < classes; c++) {
      p[c] = expNonPositive(logits[base + c * stride] - max);
      if (c !== top) others += p[c];
    }
    const log1pOthers = Math.log1p(others);
    for (let c = 0; c < classes; c++) {
      lp[c] = logits[base + c * stride] - max - log1pOthers;
      p[c] /= 1 + others;
      q[c] = c === top ? others / (1 + others) : 1 - p[c];
      m[c] = gamma === 0 ? 1 : expNonPositive(gamma * (c === top ? Math.log(others) - log1pOthers : Math.log1p(-p[c])));
      // r = p·lp/(1-p): for the top class -log1p(s)/s (-1 at s = 0); 0 where p underflows to 0.
      const r = c === top ? (others === 0 ? -1 : -log1pOthers / others) : p[c] > 0 ? (p[c] * lp[c]) / q[c] : 0;
      h[c] = gamma === 0 ? 1 : m[c] * (1 - gamma * r);
    }
    this.top = top;
  }

  /** `Σ_c a_c·m_c·(-lp_c)`, leaving out classes with `a_c = 0` (a logit of -Infinity there adds nothing). */
  loss(a: Float64Array): number {
    let loss = 0;
    for (let c = 0; c < a.length; c++) if (a[c] !== 0) loss -= a[c] * this.modulation[c] * this.logProbability[c];
    return loss;
  }

  /**
   * Writes `(p_k·S - a_k·h_k)·scale` at each class's position, `S = Σ_c a_c·h_c`; for the top class as
   * `p·(S - a·h) - a·h·(1 - p)`, which does not cancel when `p` is near 1.
   */
  writeGradient(a: Float64Array, gradient: Float32Array, base: number, stride: number, scale: number): void {
    const { probability: p, oneMinusProbability: q, slope: h, top } = this;
    let othersSum = 0;
    for (let c = 0; c < a.length; c++) if (c !== top && a[c] !== 0) othersSum += a[c] * h[c];
    const topTerm = a[top] === 0 ? 0 : a[top] * h[top];
    const sum = othersSum + topTerm;
    for (let c = 0; c < a.length; c++) {
      const own = a[c] === 0 ? 0 : a[c] * h[c];
      const g = c === top ? p[c] * othersSum - own * q[c] : p[c] * sum - own;
      gradient[base + c * stride] = g * scale;
    }
  }
}

/** Inputs of both focal kernels, validated and read to the host. */
interface HostFocalArgs {
  logits: Float32Array;
  layout: ClassLayout;
  /** One weight per class, or null for all ones. */
  weight: Float32Array | null;
  labelSmoothing: number;
  gamma: number;
  reduction: Reduction;
  sampleShape: number[];
}

/**
 * The pass both focal kernels share: for each sample, `coefficients` fills `a` (the weighted, smoothed
 * target distribution) and says whether the sample counts; then the loss, and when `gradient` is given
 * the logits' gradient scaled by `scale`; `sampleDone` sees the row (for the targets' gradient).
 */
function focalPass(
  args: HostFocalArgs,
  scale: number,
  gradient: Float32Array | null,
  coefficients: (sample: number, base: number, a: Float64Array) => boolean,
  sampleDone?: (row: FocalRow, base: number) => void,
): { total: number; perSample: Float32Array | null } {
  const { logits, layout, gamma, reduction } = args;
  const { outer, classes, inner } = layout;
  const row = new FocalRow(classes);
  const a = new Float64Array(classes);
  const perSample = reduction === 'none' ? new Float32Array(outer * inner) : null;
  let total = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const sample = o * inner + i;
      const base = o * classes * inner + i;
      if (!coefficients(sample, base, a)) continue;
      row.load(logits, base, inner, gamma);
      const loss = row.loss(a);
      total += loss;
      if (perSample !== null) perSample[sample] = loss;
      if (gradient !== null) row.writeGradient(a, gradient, base, inner, scale);
      sampleDone?.(row, base);
    }
  }
  return { total, perSample };
}

/**
 * Focal loss against class indices: `a_c = w_c·(ε/C) + (1-ε)·w_y·[c = y]`, so `loss_n = -Σ_c a_c·(1-p_c)^γ·lp_c`
 * (cross-entropy at γ = 0); 'mean' divides by `Σ w[y_n]` over the samples not ignored (NaN when it is 0,
 * as PyTorch's 0/0). Targets must already be checked.
 */
export function softmaxFocalWithIndices(
  args: HostFocalArgs & { target: Float32Array | Int32Array; ignoreIndex: number },
  withGradient: boolean,
): FusedResult {
  const { weight, labelSmoothing: eps, reduction, target, ignoreIndex, layout } = args;
  const smoothing = eps / layout.classes;
  const weightOf = (c: number) => (weight === null ? 1 : weight[c]);
  let denominator = 0;
  for (let s = 0; s < target.length; s++) if (target[s] !== ignoreIndex) denominator += weightOf(target[s]);
  const scale = reduction !== 'mean' ? 1 : denominator === 0 ? NaN : 1 / denominator;
  const gradient = withGradient ? new Float32Array(args.logits.length) : null;
  const { total, perSample } = focalPass(args, scale, gradient, (sample, _base, a) => {
    const y = target[sample];
    if (y === ignoreIndex) return false;
    for (let c = 0; c < a.length; c++) a[c] = smoothing * weightOf(c);
    a[y] += (1 - eps) * weightOf(y);
    return true;
  });
  return finish(total, scale, perSample, args.sampleShape, reduction, gradient === null ? undefined : [gradient]);
}

/**
 * Focal loss against class probabilities `t`: `a_c = w_c·((1-ε)·t_c + ε/C)`; the targets' gradient is
 * `-(1-ε)·w_c·(1-p_c)^γ·lp_c`. 'mean' divides by the number of samples.
 */
export function softmaxFocalWithProbabilities(args: HostFocalArgs & { target: Float32Array }, withGradient: boolean): FusedResult {
  const { weight, labelSmoothing: eps, reduction, target, layout } = args;
  const { classes, inner } = layout;
  const smoothing = eps / classes;
  const scale = reduction === 'mean' ? 1 / (layout.outer * inner) : 1;
  const logitGradient = withGradient ? new Float32Array(args.logits.length) : null;
  const targetGradient = withGradient ? new Float32Array(args.logits.length) : null;
  const weightOf = (c: number) => (weight === null ? 1 : weight[c]);
  const { total, perSample } = focalPass(
    args,
    scale,
    logitGradient,
    (_sample, base, a) => {
      for (let c = 0; c < classes; c++) a[c] = weightOf(c) * ((1 - eps) * target[base + c * inner] + smoothing);
      return true;
    },
    targetGradient === null
      ? undefined
      : (row, base) => {
          for (let c = 0; c < classes; c++) {
            targetGradient[base + c * inner] = -(1 - eps) * weightOf(c) * row.modulation[c] * row.logProbability[c] * scale;
          }
        },
  );
  const gradients = logitGradient !== null && targetGradient !== null ? [logitGradient, targetGradient] : undefined;
  return finish(total, scale, perSample, args.sampleShape, reduction, gradients);
}

/** Focal loss against class indices on the host: targets and weights read once, then one fused pass. */
export function softmaxFocalIndicesHost(args: SoftmaxFocalIndicesArgs): tf.Tensor {
  const { layout, sampleShape, reduction, labelSmoothing, ignoreIndex, gamma } = args;
  const weight = args.weight === null ? null : (readValues(args.weight) as Float32Array);
  const target = readValues(args.target);
  return hostOp([args.logits], layout, (withGradients, [logits]) =>
    softmaxFocalWithIndices({ logits, layout, weight, labelSmoothing, gamma, reduction, sampleShape, target, ignoreIndex }, withGradients),
  );
}

/** Focal loss against class probabilities on the host: weights read once, then one fused pass. */
export function softmaxFocalProbabilitiesHost(args: SoftmaxFocalProbabilitiesArgs): tf.Tensor {
  const { layout, sampleShape, reduction, labelSmoothing, gamma } = args;
  const weight = args.weight === null ? null : (readValues(args.weight) as Float32Array);
  return hostOp([args.logits, args.target], layout, (withGradients, [logits, target]) =>
    softmaxFocalWithProbabilities({ logits, layout, weight, labelSmoothing, gamma, reduction, sampleShape, target }, withGradients),
  );
}
