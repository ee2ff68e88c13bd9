/**
 * A float64 reference of the focal losses and the KL divergence, and their gradients, in plain
 * TypeScript with no tfjs at all, in the style of `reference.ts`: written for clarity, from the
 * formulas (torchvision's `sigmoid_focal_loss`, PyTorch's `kl_div`) and independently of the kernels.
 * Each function returns the loss (one number for 'mean' and 'sum', one per element or sample for
 * 'none') and the gradient of `Σ value·upstream` with respect to the input and, where it is a float
 * argument, the target (`null` for class indices). `upstream` defaults to all ones.
 *
 * Focal factors `(1 - p)^γ` are evaluated in log space, `exp(γ·log(1 - p))`, so the reference stays
 * finite (and exact) where torchvision's direct float64 formula gives 0·∞ = NaN: at saturated logits
 * with 0 < γ < 1.
 *
 * ```ts
 * const r = referenceSigmoidFocalLoss({ shape: [2], values: [2, -1] }, { shape: [2], values: [1, 0] }, {});
 * console.log(Array.from(r.value.values, (v) => v.toFixed(6)).join(', ')); // => 0.000451, 0.016994
 * ```
 */
import { LossInputError } from '../core/errors';
import type { Reduction } from '../core/options';
import type { ReferenceCrossEntropyOptions, ReferenceResult, ReferenceTensor } from './reference';
import { checkClassIndices, classLayout, formatShape, logSigmoid, reduce, size } from './referenceShared';

/** Options of `referenceSigmoidFocalLoss`: those of `sigmoidFocalLoss`. */
export interface ReferenceSigmoidFocalLossOptions {
  alpha?: number;
  gamma?: number;
  /** Default 'none', as torchvision. */
  reduction?: Reduction;
}

/** Options of `referenceSoftmaxFocalLoss`: those of `softmaxFocalLoss`, with the weight as a `ReferenceTensor`. */
export interface ReferenceSoftmaxFocalLossOptions extends ReferenceCrossEntropyOptions {
  gamma?: number;
}

/** Options of `referenceKlDivergence`: those of `klDivergence`. */
export interface ReferenceKlDivergenceOptions {
  reduction?: Reduction | 'batchmean';
  logTarget?: boolean;
}

// ----------------------------------------------------------------------------- shared pieces

function requireShape(fn: string, argument: string, t: ReferenceTensor, shape: readonly number[]): void {
  if (t.values.length !== size(t.shape) || formatShape(t.shape) !== formatShape(shape)) {
    throw new LossInputError(
      fn,
      argument,
      `shape ${formatShape(shape)} with as many values`,
      `shape ${formatShape(t.shape)}, ${t.values.length} values`,
    );
  }
}

/**
 * `reduce` with this file's upstream message, and a 'mean' over nothing (every target ignored or of
 * weight 0) NaN, as PyTorch's 0/0, gradient included; a reduction other than 'none' or 'mean' sums.
 */
function reduceItems(
  fn: string,
  losses: Float64Array,
  itemShape: number[],
  reduction: Reduction,
  denominator: number,
  upstream: ArrayLike<number> | undefined,
): { value: ReferenceTensor; scales: Float64Array } {
  const upstreamCount = reduction === 'none' ? losses.length : 1;
  const u = upstream ?? new Float64Array(upstreamCount).fill(1);
  if (u.length !== upstreamCount) throw new LossInputError(fn, 'upstream', `${upstreamCount} values`, `${u.length} values`);
  const known = reduction === 'none' || reduction === 'mean' ? reduction : 'sum';
  return reduce(fn, losses, itemShape, known, denominator === 0 ? NaN : denominator, u);
}

/** `softplus(z) = log(1 + e^z)`, for any z. */
function softplus(z: number): number {
  return Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
}

/** `log softplus(z)`, finite for every finite z (softplus itself underflows below z = -745). */
function logSoftplus(z: number): number {
  return z < -30 ? z + Math.log1p(-Math.exp(z) / 2) : Math.log(softplus(z));
}

/** `log Σ_k exp(v_k)` as `max + log1p(Σ_{k ≠ argmax} exp(v_k - max))`: exact when the others are tiny; -Infinity when all are. */
function logSumExp(values: readonly number[]): number {
  if (values.length === 0) return -Infinity;
  const top = values.indexOf(Math.max(...values));
  const max = values[top];
  if (max === -Infinity) return -Infinity;
  let others = 0;
  values.forEach((v, k) => (others += k === top ? 0 : Math.exp(v - max)));
  return max + Math.log1p(others);
}

function readGamma(fn: string, gamma: number | undefined): number {
  const g = gamma ?? 2;
  if (!(g >= 0 && g < Infinity)) throw new LossInputError(fn, 'options.gamma', 'a finite number >= 0', String(g));
  return g;
}

// ----------------------------------------------------------------------------- sigmoid focal loss

/**
 * torchvision's `sigmoid_focal_loss`, for logits `x` and (soft) targets `y` in [0, 1]:
 *
 *     ce = (1-y)·softplus(x) + y·softplus(-x)       q = 1 - p_t = y·σ(-x) + (1-y)·σ(x)
 *     ℓ = α_t·ce·q^γ        α_t = α·y + (1-α)·(1-y), 1 for α < 0;      'mean' over the elements
 *     ∂ℓ/∂x = α_t·((σ(x) - y)·q^γ + γ·ce·q^(γ-1)·(1-2y)·σ(x)σ(-x))
 *     ∂ℓ/∂y = (2α-1)·ce·q^γ + α_t·(-x·q^γ + γ·ce·q^(γ-1)·(σ(-x) - σ(x)))      (2α-1 → 0 for α < 0)
 *
 * with `q^γ`, `ce·q^(γ-1)` and `q^(γ-1)·σ(x)σ(-x)` evaluated as exponentials of sums of logarithms.
 *
 * ```js
 * const r = referenceSigmoidFocalLoss({ shape: [2], values: [2, -1] }, { shape: [2], values: [1, 0] }, { alpha: 0.25, gamma: 2 });
 * console.log(Array.from(r.value.values, (v) => v.toFixed(6)).join(', '));  // => 0.000451, 0.016994
 * console.log(Array.from(r.grad.input, (g) => g.toFixed(6)).join(', '));    // => -0.001218, 0.039436
 * ```
 */
export function referenceSigmoidFocalLoss(
  input: ReferenceTensor,
  target: ReferenceTensor,
  options: ReferenceSigmoidFocalLossOptions = {},
  upstream?: ArrayLike<number>,
): ReferenceResult {
  const fn = 'referenceSigmoidFocalLoss';
  requireShape(fn, 'input', input, input.shape);
  requireShape(fn, 'target', target, input.shape);
  const alpha = options.alpha ?? 0.25;
  const gamma = readGamma(fn, options.gamma);
  if (!(alpha <= 1)) throw new LossInputError(fn, 'options.alpha', 'a number <= 1', String(alpha));
  const n = input.values.length;
  const losses = new Float64Array(n);
  const dx = new Float64Array(n);
  const dy = new Float64Array(n);
  for (let e = 0; e < n; e++) {
    const x = input.values[e];
    const y = target.values[e];
    if (!(y >= 0 && y <= 1)) throw new LossInputError(fn, 'target', 'probabilities in [0, 1]', `${y} at flat position ${e}`);
    const logSigmoidX = logSigmoid(x);
    const logSigmoidNegX = logSigmoid(-x);
    const logQ = logSumExp([Math.log(y) + logSigmoidNegX, Math.log(1 - y) + logSigmoidX]);
    const ce = (1 - y) * softplus(x) + y * softplus(-x);
    const logCe = logSumExp([Math.log(1 - y) + logSoftplus(x), Math.log(y) + logSoftplus(-x)]);
    const power = (exponent: number, logFactor: number) => Math.exp(exponent * logQ + logFactor); // q^exponent·factor
    const modulation = gamma === 0 ? 1 : power(gamma, 0);
    const alphaT = alpha >= 0 ? alpha * y + (1 - alpha) * (1 - y) : 1;
    losses[e] = alphaT * ce * modulation;
    const sigmoidX = Math.exp(logSigmoidX);
    const sigmoidNegX = Math.exp(logSigmoidNegX);
    const focusX = gamma === 0 ? 0 : gamma * ce * (1 - 2 * y) * power(gamma - 1, logSigmoidX + logSigmoidNegX);
    const focusY = gamma === 0 ? 0 : gamma * (sigmoidNegX - sigmoidX) * power(gamma - 1, logCe);
    dx[e] = alphaT * ((sigmoidX - y) * modulation + focusX);
    dy[e] = (alpha >= 0 ? (2 * alpha - 1) * ce * modulation : 0) + alphaT * (-x * modulation + focusY);
  }
  const { value, scales } = reduceItems(fn, losses, input.shape, options.reduction ?? 'none', n, upstream);
  return {
    value,
    grad: { input: dx.map((g, e) => g * scales[e]), target: dy.map((g, e) => g * scales[e]) },
  };
}

// ----------------------------------------------------------------------------- softmax focal loss

/**
 * Multiclass focal loss, `crossEntropy`'s arguments and `gamma`, with `lp = log softmax(z)` along the
 * class axis, `p = e^lp` and coefficients `a_c = w_c·t'_c` (t' the smoothed one-hot index or probabilities):
 *
 *     ℓ_n = -Σ_c a_c·(1 - p_c)^γ·lp_c       log(1 - p_c) = log Σ_{k≠c} e^(z_k) - log Σ_k e^(z_k)
 *     ∂ℓ_n/∂z_k = Σ_c a_c·h_c·(p_k - [c = k]),   h_c = (1 - p_c)^γ·(1 - γ·p_c·lp_c/(1 - p_c))
 *     ∂ℓ_n/∂t_c = -(1-ε)·w_c·(1 - p_c)^γ·lp_c      (class-probability targets)
 *
 * 'mean' divides by `Σ w[y_n]` over the samples not ignored (indices) or by the sample count
 * (probabilities); `p·lp/(1 - p)` is its limit -1 where `1 - p` is below e^-700.
 *
 * ```js
 * const logits = { shape: [1, 3], values: [2, 0, -1] };
 * const target = { shape: [1], values: [0] };
 * console.log(referenceSoftmaxFocalLoss(logits, target, { gamma: 2 }).value.values[0].toFixed(6)); // => 0.004144
 * console.log(referenceSoftmaxFocalLoss(logits, target, { gamma: 0 }).value.values[0].toFixed(6)); // => 0.169846
 * console.log(referenceCrossEntropy(logits, target).value.values[0].toFixed(6));                   // => 0.169846
 * ```
 */
export function referenceSoftmaxFocalLoss(
  input: ReferenceTensor,
  target: ReferenceTensor,
  options: ReferenceSoftmaxFocalLossOptions = {},
  upstream?: ArrayLike<number>,
): ReferenceResult {
  const fn = 'referenceSoftmaxFocalLoss';
  requireShape(fn, 'input', input, input.shape);
  const gamma = readGamma(fn, options.gamma);
  const eps = options.labelSmoothing ?? 0;
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (!(eps >= 0 && eps <= 1)) throw new LossInputError(fn, 'options.labelSmoothing', 'a number in [0, 1]', String(eps));
  const rank = input.shape.length;
  const classAxis = options.classAxis ?? 1;
  const axis = rank === 1 ? 0 : classAxis < 0 ? rank + classAxis : classAxis;
  if (rank === 0 || !(axis >= 0 && axis < rank))
    throw new LossInputError(fn, 'options.classAxis', 'an axis of the input', String(classAxis));
  const { classes: C, sampleShape, at } = classLayout(input.shape, axis);
  const samples = size(sampleShape);
  const w = options.weight === undefined ? new Float64Array(C).fill(1) : Float64Array.from(options.weight.values);
  if (options.weight !== undefined) requireShape(fn, 'options.weight', options.weight, [C]);

  const probabilityTargets = formatShape(target.shape) === formatShape(input.shape);
  requireShape(fn, 'target', target, probabilityTargets ? input.shape : sampleShape);
  if (!probabilityTargets) checkClassIndices(fn, target.values, C, ignoreIndex);
  let denominator = probabilityTargets ? samples : 0;
  /** The coefficients a_c of a sample, or null when it is ignored. */
  const coefficients = (s: number): Float64Array | null => {
    if (probabilityTargets) return w.map((wc, c) => wc * ((1 - eps) * target.values[at(s, c)] + eps / C));
    const y = target.values[s];
    if (y === ignoreIndex) return null;
    denominator += w[y];
    return w.map((wc, c) => wc * ((c === y ? 1 - eps : 0) + eps / C));
  };

  const losses = new Float64Array(samples);
  const rows: Array<{ a: Float64Array; p: number[]; h: number[]; modulatedLp: number[] } | null> = [];
  for (let s = 0; s < samples; s++) {
    const a = coefficients(s);
    if (a === null) {
      rows.push(null);
      continue;
    }
    // Shifted by the largest logit (exact), so that lp of the largest is -log1p(s) and not 0 after rounding.
    const zs = Array.from({ length: C }, (_, c) => input.values[at(s, c)]);
    const z = zs.map((zc) => zc - Math.max(...zs));
    const logTotal = logSumExp(z);
    const lp = z.map((zc) => zc - logTotal);
    const logRest = z.map((_, c) => logSumExp(z.filter((_, k) => k !== c)) - logTotal); // log(1 - p_c)
    const modulation = logRest.map((l) => (gamma === 0 ? 1 : Math.exp(gamma * l)));
    // p·lp/(1 - p); below 1 - p = e^-700 it is its limit -1 to float64 precision (and e^700·lp would overflow).
    const ratio = lp.map((l, c) => (logRest[c] < -700 ? -1 : l * Math.exp(l - logRest[c])));
    const h = modulation.map((m, c) => m * (1 - gamma * ratio[c]));
    const modulatedLp = lp.map((l, c) => modulation[c] * l);
    losses[s] = a.reduce((sum, ac, c) => (ac === 0 ? sum : sum - ac * modulatedLp[c]), 0);
    rows.push({ a, p: lp.map(Math.exp), h, modulatedLp });
  }
  const reduction = options.reduction ?? 'mean';
  const { value, scales } = reduceItems(fn, losses, sampleShape, reduction, denominator, upstream);
  const gradInput = new Float64Array(input.values.length);
  const gradTarget = probabilityTargets ? new Float64Array(target.values.length) : null;
  rows.forEach((row, s) => {
    if (row === null) return;
    const scale = scales[s];
    for (let k = 0; k < C; k++) {
      let g = 0;
      for (let c = 0; c < C; c++) if (row.a[c] !== 0) g += row.a[c] * row.h[c] * (row.p[k] - (c === k ? 1 : 0));
      gradInput[at(s, k)] = g * scale;
      if (gradTarget !== null) gradTarget[at(s, k)] = -(1 - eps) * w[k] * row.modulatedLp[k] * scale;
    }
  });
  return { value, grad: { input: gradInput, target: gradTarget } };
}

// ----------------------------------------------------------------------------- KL divergence

/**
 * PyTorch's `kl_div` of log-probabilities `x` from targets `t`, element by element:
 *
 *     ℓ = xlogy(t, t) - t·x,   ∂ℓ/∂x = -t,   ∂ℓ/∂t = log t + 1 - x   (NaN at t = 0, as PyTorch's autograd)
 *     logTarget:  ℓ = e^t·(t - x),   ∂ℓ/∂x = -e^t,   ∂ℓ/∂t = e^t·(t - x + 1)
 *
 * 'mean' divides by the number of elements, 'batchmean' by the size of the first axis (not at all for a scalar).
 *
 * ```js
 * const logProbabilities = { shape: [1, 3], values: [Math.log(0.5), Math.log(0.25), Math.log(0.25)] };
 * const r = referenceKlDivergence(logProbabilities, { shape: [1, 3], values: [0.25, 0.5, 0.25] }, { reduction: 'batchmean' });
 * console.log(r.value.values[0].toFixed(6), (0.25 * Math.log(0.5) + 0.5 * Math.log(2)).toFixed(6)); // => 0.173287 0.173287
 * console.log(Array.from(r.grad.input).join(', ')); // => -0.25, -0.5, -0.25
 * ```
 */
export function referenceKlDivergence(
  input: ReferenceTensor,
  target: ReferenceTensor,
  options: ReferenceKlDivergenceOptions = {},
  upstream?: ArrayLike<number>,
): ReferenceResult {
  const fn = 'referenceKlDivergence';
  requireShape(fn, 'input', input, input.shape);
  requireShape(fn, 'target', target, input.shape);
  const requested = options.reduction ?? 'mean';
  const n = input.values.length;
  const denominator = requested === 'batchmean' ? (input.shape.length === 0 ? 1 : input.shape[0]) : n;
  const losses = new Float64Array(n);
  const dx = new Float64Array(n);
  const dt = new Float64Array(n);
  for (let e = 0; e < n; e++) {
    const x = input.values[e];
    const t = target.values[e];
    if (options.logTarget === true) {
      losses[e] = Math.exp(t) * (t - x);
      dx[e] = -Math.exp(t);
      dt[e] = Math.exp(t) * (t - x + 1);
    } else {
      losses[e] = (t === 0 ? 0 : t * Math.log(t)) - t * x;
      dx[e] = -t;
      dt[e] = t === 0 ? NaN : Math.log(t) + 1 - x;
    }
  }
  const reduction = requested === 'batchmean' ? 'mean' : requested;
  const { value, scales } = reduceItems(fn, losses, input.shape, reduction, denominator, upstream);
  return { value, grad: { input: dx.map((g, e) => g * scales[e]), target: dt.map((g, e) => g * scales[e]) } };
}
