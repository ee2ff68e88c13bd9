/**
 * A float64 reference of the four losses and their gradients, in plain TypeScript with no tfjs at all.
 *
 * It is the oracle of the tests, of `verify` and of fuzzing, so it is written for clarity, not speed,
 * straight from PyTorch's formulas and independently of the library's kernels: one element or one
 * sample at a time, every sum in float64. Each function returns the loss (one number for 'mean' and
 * 'sum', one per element or sample for 'none') and the gradient of `Σ value·upstream` with respect to
 * the input and, where PyTorch differentiates it, the target (`null` for class indices). `upstream`
 * defaults to all ones, i.e. the gradient of the loss itself.
 *
 * ```ts
 * const r = referenceCrossEntropy({ shape: [1, 3], values: [2, 0, -1] }, { shape: [1], values: [0] }, {});
 * console.log(r.value.values[0].toFixed(6));                                  // => 0.169846
 * console.log(Array.from(r.grad.input, (g) => g.toFixed(4)).join(', '), r.grad.target); // => -0.1562, 0.1142, 0.0420 null
 * ```
 */
import { LossInputError } from '../core/errors';
import type { Reduction } from '../core/options';
import type { ClassView } from './referenceShared';
import { checkClassIndices, classLayout, formatShape, logSigmoid, reduce, sigmoid, size } from './referenceShared';

/** A tensor as shape and row-major values. Inputs given as float32 are used exactly as those numbers. */
export interface ReferenceTensor {
  shape: number[];
  values: ArrayLike<number>;
}

/** What a reference loss returns: the value, and the float64 gradients of `Σ value·upstream`. */
export interface ReferenceResult {
  /** Shape `[]` for 'mean' and 'sum'; for 'none', the element shape (BCE) or the sample shape (CE, NLL). */
  value: ReferenceTensor;
  /** Gradients of `Σ value·upstream`, in the layout of the input and the target. */
  grad: { input: Float64Array; target: Float64Array | null };
}

/** Options of `referenceBinaryCrossEntropy`: those of `binaryCrossEntropy`, with weights as `ReferenceTensor`s. */
export interface ReferenceBinaryCrossEntropyOptions {
  /** Broadcasts against the input, as in PyTorch. */
  weight?: ReferenceTensor;
  reduction?: Reduction;
}

/** Options of `referenceBinaryCrossEntropyWithLogits`: those of `binaryCrossEntropyWithLogits`, with weights as `ReferenceTensor`s. */
export interface ReferenceBinaryCrossEntropyWithLogitsOptions extends ReferenceBinaryCrossEntropyOptions {
  /** The weight of positive targets; broadcasts against the input (`[C]` against `[N, C]`, `[C, 1, 1]` against `[N, C, H, W]`). */
  posWeight?: ReferenceTensor;
}

/** Options of `referenceNllLoss`: those of `nllLoss`, with the weight as a `ReferenceTensor`. */
export interface ReferenceNllLossOptions {
  /** One weight per class, shape `[C]`. */
  weight?: ReferenceTensor;
  ignoreIndex?: number;
  reduction?: Reduction;
  classAxis?: number;
}

/** Options of `referenceCrossEntropy`: those of `crossEntropy`, with the weight as a `ReferenceTensor`. */
export interface ReferenceCrossEntropyOptions extends ReferenceNllLossOptions {
  labelSmoothing?: number;
}

// ----------------------------------------------------------------------------- shared pieces

function checkValues(fn: string, argument: string, t: ReferenceTensor): void {
  if (t.values.length !== size(t.shape)) {
    throw new LossInputError(fn, argument, `${size(t.shape)} values for shape ${formatShape(t.shape)}`, `${t.values.length} values`);
  }
}

/**
 * `t` broadcast to `shape` by NumPy's rules (trailing axes aligned; an axis of 1 repeats), as PyTorch
 * broadcasts BCE's `weight` and `pos_weight`. The result must have exactly `shape`.
 */
function broadcastTo(fn: string, argument: string, t: ReferenceTensor, shape: readonly number[]): Float64Array {
  checkValues(fn, argument, t);
  const offset = shape.length - t.shape.length;
  const fits = offset >= 0 && t.shape.every((d, k) => d === 1 || d === shape[k + offset]);
  if (!fits) {
    throw new LossInputError(fn, argument, `a shape that broadcasts to the input's ${formatShape(shape)}`, `shape ${formatShape(t.shape)}`);
  }
  const out = new Float64Array(size(shape));
  const position = new Array<number>(shape.length).fill(0);
  for (let e = 0; e < out.length; e++) {
    let source = 0;
    for (let k = 0; k < t.shape.length; k++) source = source * t.shape[k] + (t.shape[k] === 1 ? 0 : position[k + offset]);
    out[e] = t.values[source];
    for (let axis = shape.length - 1; axis >= 0; axis--) {
      if (++position[axis] < shape[axis]) break;
      position[axis] = 0;
    }
  }
  return out;
}

function readReduction(fn: string, reduction: Reduction | undefined): Reduction {
  const r = reduction ?? 'mean';
  if (r !== 'mean' && r !== 'sum' && r !== 'none') throw new LossInputError(fn, 'options.reduction', "'mean', 'sum' or 'none'", String(r));
  return r;
}

function checkSameShape(fn: string, input: ReferenceTensor, target: ReferenceTensor): void {
  checkValues(fn, 'input', input);
  checkValues(fn, 'target', target);
  if (formatShape(input.shape) !== formatShape(target.shape)) {
    throw new LossInputError(fn, 'target', `the input's shape ${formatShape(input.shape)}`, `shape ${formatShape(target.shape)}`);
  }
}

// ----------------------------------------------------------------------------- BCE

/**
 * PyTorch clamps each log at -100 so that a probability of exactly 0 or 1 gives a finite loss, and
 * divides the input gradient by `max(x(1-x), ε)` with ε the float32 number nearest 1e-12 (PyTorch's
 * constant is a `float`), so it is finite too; the target gradient `-w·logit(x)` is not clamped.
 */
const LOG_CLAMP = -100;
const BCE_GRADIENT_EPSILON = Math.fround(1e-12);

/** One element's unweighted loss and its derivatives with respect to the input and the target. */
interface ElementTerms {
  loss: number;
  dInput: number;
  dTarget: number;
}

/** A loss of one element at a time, times the broadcast `weight`, reduced over all elements. */
function elementwiseLoss(
  fn: string,
  input: ReferenceTensor,
  target: ReferenceTensor,
  options: ReferenceBinaryCrossEntropyOptions,
  upstream: ArrayLike<number> | undefined,
  terms: (x: number, y: number, element: number) => ElementTerms,
): ReferenceResult {
  checkSameShape(fn, input, target);
  const reduction = readReduction(fn, options.reduction);
  const n = size(input.shape);
  const weight =
    options.weight === undefined ? new Float64Array(n).fill(1) : broadcastTo(fn, 'options.weight', options.weight, input.shape);
  const elements = Array.from({ length: n }, (_, e) => terms(input.values[e], target.values[e], e));
  const losses = Float64Array.from(elements, (t, e) => weight[e] * t.loss);
  const { value, scales } = reduce(fn, losses, input.shape, reduction, n, upstream);
  return {
    value,
    grad: {
      input: Float64Array.from(elements, (t, e) => weight[e] * t.dInput * scales[e]),
      target: Float64Array.from(elements, (t, e) => weight[e] * t.dTarget * scales[e]),
    },
  };
}

/**
 * `ℓ = -w·(y·max(log x, -100) + (1-y)·max(log(1-x), -100))`, input `x` probabilities.
 * `∂ℓ/∂x = w·(x-y)/max(x(1-x), 1e-12)`, `∂ℓ/∂y = -w·log(x/(1-x))`.
 *
 * ```js
 * const r = referenceBinaryCrossEntropy({ shape: [3], values: [0.9, 0.2, 0.6] }, { shape: [3], values: [1, 0, 1] });
 * console.log(r.value.values[0].toFixed(4), Array.from(r.grad.input, (g) => g.toFixed(4)).join(', ')); // => 0.2798 -0.3704, 0.4167, -0.5556
 * ```
 */
export function referenceBinaryCrossEntropy(
  input: ReferenceTensor,
  target: ReferenceTensor,
  options: ReferenceBinaryCrossEntropyOptions = {},
  upstream?: ArrayLike<number>,
): ReferenceResult {
  return elementwiseLoss('referenceBinaryCrossEntropy', input, target, options, upstream, (x, y) => ({
    loss: -(y * Math.max(Math.log(x), LOG_CLAMP) + (1 - y) * Math.max(Math.log1p(-x), LOG_CLAMP)),
    dInput: (x - y) / Math.max(x * (1 - x), BCE_GRADIENT_EPSILON),
    dTarget: -Math.log(x / (1 - x)),
  }));
}

/**
 * `ℓ = w·((1-y)·x - (1+(pw-1)·y)·log σ(x))`, input `x` logits, stable for any finite `x`.
 * `∂ℓ/∂x = w·((1+(pw-1)·y)·σ(x) - pw·y)`, `∂ℓ/∂y = w·(log σ(-x) - pw·log σ(x))`.
 *
 * ```js
 * const r = referenceBinaryCrossEntropyWithLogits({ shape: [2], values: [2, -1] }, { shape: [2], values: [1, 0] }, { reduction: 'none' });
 * console.log(Array.from(r.value.values, (v) => v.toFixed(4)).join(', ')); // => 0.1269, 0.3133
 * console.log(Array.from(r.grad.input, (g) => g.toFixed(4)).join(', '));   // => -0.1192, 0.2689
 * ```
 */
export function referenceBinaryCrossEntropyWithLogits(
  input: ReferenceTensor,
  target: ReferenceTensor,
  options: ReferenceBinaryCrossEntropyWithLogitsOptions = {},
  upstream?: ArrayLike<number>,
): ReferenceResult {
  const fn = 'referenceBinaryCrossEntropyWithLogits';
  const n = size(input.shape);
  const posWeight =
    options.posWeight === undefined ? new Float64Array(n).fill(1) : broadcastTo(fn, 'options.posWeight', options.posWeight, input.shape);
  return elementwiseLoss(fn, input, target, options, upstream, (x, y, e) => {
    const pw = posWeight[e];
    const L = 1 + (pw - 1) * y;
    return {
      // log σ(x) expanded on each side of 0, so that no two large terms cancel.
      loss: x >= 0 ? (1 - y) * x + L * Math.log1p(Math.exp(-x)) : -pw * y * x + L * Math.log1p(Math.exp(x)),
      dInput: L * sigmoid(x) - pw * y,
      dTarget: logSigmoid(-x) - pw * logSigmoid(x),
    };
  });
}

// ----------------------------------------------------------------------------- CE and NLL

/** The input around its class axis (`classLayout`). A rank-1 input is one unbatched sample, whatever `classAxis` says. */
function classView(fn: string, input: ReferenceTensor, classAxis: number | undefined): ClassView {
  checkValues(fn, 'input', input);
  const rank = input.shape.length;
  const requested = classAxis ?? 1;
  const axis = rank === 1 ? 0 : requested < 0 ? rank + requested : requested;
  if (rank === 0 || !Number.isInteger(requested) || axis < 0 || axis >= rank) {
    throw new LossInputError(fn, 'options.classAxis', `an axis of the input of shape ${formatShape(input.shape)}`, String(classAxis));
  }
  return classLayout(input.shape, axis);
}

function readClassWeight(fn: string, weight: ReferenceTensor | undefined, classes: number): Float64Array {
  if (weight === undefined) return new Float64Array(classes).fill(1);
  checkValues(fn, 'options.weight', weight);
  if (weight.shape.length !== 1 || weight.shape[0] !== classes) {
    throw new LossInputError(fn, 'options.weight', `shape [${classes}] (one weight per class)`, `shape ${formatShape(weight.shape)}`);
  }
  return Float64Array.from(weight.values);
}

/** Class indices, checked: integers in `[0, C)` or `ignoreIndex`. */
function readIndices(fn: string, target: ReferenceTensor, view: ClassView, ignoreIndex: number): ArrayLike<number> {
  checkValues(fn, 'target', target);
  if (formatShape(target.shape) !== formatShape(view.sampleShape)) {
    throw new LossInputError(fn, 'target', `class indices of shape ${formatShape(view.sampleShape)}`, `shape ${formatShape(target.shape)}`);
  }
  checkClassIndices(fn, target.values, view.classes, ignoreIndex);
  return target.values;
}

/**
 * `log softmax` of one sample's logits as `(z_c - max) - log Σ exp(z_k - max)`: the shift is exact for
 * float32 logits, so no precision is lost to their magnitude (|z| = 1e4 keeps full float64 precision).
 */
function logSoftmax(input: ReferenceTensor, view: ClassView, sample: number): Float64Array {
  const z = new Float64Array(view.classes);
  for (let c = 0; c < view.classes; c++) z[c] = input.values[view.at(sample, c)];
  const max = z.reduce((a, b) => Math.max(a, b), -Infinity);
  let sumExp = 0;
  for (let c = 0; c < view.classes; c++) sumExp += Math.exp(z[c] - max);
  const logSumExp = Math.log(sumExp);
  return z.map((zc) => zc - max - logSumExp);
}

/**
 * Cross-entropy as `torch.nn.functional.cross_entropy`, with `lp = log softmax(input)` along the class axis.
 *
 * Class-index targets `y` (shape of the input without the class axis):
 *     ℓ_n = (1-ε)·(-w[y_n]·lp[n, y_n]) + (ε/C)·Σ_c(-w_c·lp[n, c])        (0 where y_n = ignoreIndex)
 *     'mean' = Σ_n ℓ_n / Σ_{n not ignored} w[y_n]   (NaN when every target is ignored; the gradient is then 0)
 *     ∂ℓ_n/∂z[n, c] = (1-ε)·w[y_n]·(p_c - [c = y_n]) + (ε/C)·(p_c·Σ_k w_k - w_c)
 *
 * Class-probability targets `t` (the input's shape), `t' = (1-ε)·t + ε/C`:
 *     ℓ_n = -Σ_c w_c·t'[n, c]·lp[n, c]          'mean' = Σ_n ℓ_n / (number of samples)
 *     ∂ℓ_n/∂z[n, c] = p_c·Σ_k w_k·t'[n, k] - w_c·t'[n, c]        ∂ℓ_n/∂t[n, c] = -(1-ε)·w_c·lp[n, c]
 *
 * ```js
 * const r = referenceCrossEntropy({ shape: [1, 3], values: [2, 0, -1] }, { shape: [1], values: [0] }, {}, [2]);  // upstream 2
 * console.log(r.value.values[0].toFixed(6), Array.from(r.grad.input, (g) => g.toFixed(4)).join(', ')); // => 0.169846 -0.3124, 0.2284, 0.0840
 * ```
 */
export function referenceCrossEntropy(
  input: ReferenceTensor,
  target: ReferenceTensor,
  options: ReferenceCrossEntropyOptions = {},
  upstream?: ArrayLike<number>,
): ReferenceResult {
  const fn = 'referenceCrossEntropy';
  const view = classView(fn, input, options.classAxis);
  const reduction = readReduction(fn, options.reduction);
  const weight = readClassWeight(fn, options.weight, view.classes);
  const eps = options.labelSmoothing ?? 0;
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (!(eps >= 0 && eps <= 1)) throw new LossInputError(fn, 'options.labelSmoothing', 'a number in [0, 1]', String(eps));
  const samples = view.outer * view.inner;
  const C = view.classes;
  const gradInput = new Float64Array(input.values.length);

  if (formatShape(target.shape) === formatShape(input.shape)) {
    checkValues(fn, 'target', target);
    if (ignoreIndex >= 0)
      throw new LossInputError(fn, 'options.ignoreIndex', 'negative with class-probability targets', String(ignoreIndex));
    const smoothed = (sample: number, c: number) => (1 - eps) * target.values[view.at(sample, c)] + eps / C;
    const logProbabilities: Float64Array[] = [];
    const losses = new Float64Array(samples);
    for (let s = 0; s < samples; s++) {
      const lp = logSoftmax(input, view, s);
      logProbabilities.push(lp);
      for (let c = 0; c < C; c++) losses[s] -= weight[c] * smoothed(s, c) * lp[c];
    }
    const { value, scales } = reduce(fn, losses, view.sampleShape, reduction, samples, upstream);
    const gradTarget = new Float64Array(target.values.length);
    for (let s = 0; s < samples; s++) {
      const lp = logProbabilities[s];
      let weightedTargetSum = 0;
      for (let c = 0; c < C; c++) weightedTargetSum += weight[c] * smoothed(s, c);
      for (let c = 0; c < C; c++) {
        gradInput[view.at(s, c)] = (Math.exp(lp[c]) * weightedTargetSum - weight[c] * smoothed(s, c)) * scales[s];
        gradTarget[view.at(s, c)] = -(1 - eps) * weight[c] * lp[c] * scales[s];
      }
    }
    return { value, grad: { input: gradInput, target: gradTarget } };
  }

  const indices = readIndices(fn, target, view, ignoreIndex);
  const weightSum = weight.reduce((a, b) => a + b, 0);
  let denominator = 0;
  const logProbabilities: Array<Float64Array | null> = [];
  const nll = new Float64Array(samples);
  const smoothing = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    const y = indices[s];
    if (y === ignoreIndex) {
      logProbabilities.push(null);
      continue;
    }
    const lp = logSoftmax(input, view, s);
    logProbabilities.push(lp);
    denominator += weight[y];
    nll[s] = -weight[y] * lp[y];
    for (let c = 0; c < C; c++) smoothing[s] -= weight[c] * lp[c];
  }
  // PyTorch reduces the two terms separately and adds the smoothing term only when ε > 0: the same
  // number, except that when every target has weight 0 the mean is 0/0 = NaN rather than Infinity.
  const hard = reduce(fn, nll, view.sampleShape, reduction, denominator, upstream);
  const smooth = reduce(fn, smoothing, view.sampleShape, reduction, denominator, upstream);
  const scales = hard.scales;
  const value = {
    shape: hard.value.shape,
    values: eps > 0 ? hard.value.values.map((v, k) => (1 - eps) * v + (eps / C) * smooth.value.values[k]) : hard.value.values,
  };
  for (let s = 0; s < samples; s++) {
    const lp = logProbabilities[s];
    if (lp === null) continue;
    const y = indices[s];
    for (let c = 0; c < C; c++) {
      const p = Math.exp(lp[c]);
      const hardGradient = (1 - eps) * weight[y] * scales[s] * (p - (c === y ? 1 : 0));
      const smoothGradient = (eps / C) * (p * weightSum - weight[c]) * scales[s];
      gradInput[view.at(s, c)] = hardGradient + smoothGradient;
    }
  }
  return { value, grad: { input: gradInput, target: null } };
}

/**
 * Negative log-likelihood as `torch.nn.functional.nll_loss`, input `x` log-probabilities:
 *     ℓ_n = -w[y_n]·x[n, y_n]   (0 where y_n = ignoreIndex)      'mean' = Σ_n ℓ_n / Σ_{n not ignored} w[y_n]
 *     ∂ℓ_n/∂x[n, c] = -w[y_n]·[c = y_n]
 *
 * ```js
 * const r = referenceNllLoss({ shape: [2, 3], values: [-0.2, -1.8, -3, -1, -0.5, -2] }, { shape: [2], values: [0, 1] });
 * console.log(r.value.values[0], Array.from(r.grad.input).join(', ')); // => 0.35 -0.5, 0, 0, 0, -0.5, 0
 * ```
 */
export function referenceNllLoss(
  input: ReferenceTensor,
  target: ReferenceTensor,
  options: ReferenceNllLossOptions = {},
  upstream?: ArrayLike<number>,
): ReferenceResult {
  const fn = 'referenceNllLoss';
  const view = classView(fn, input, options.classAxis);
  const reduction = readReduction(fn, options.reduction);
  const weight = readClassWeight(fn, options.weight, view.classes);
  const ignoreIndex = options.ignoreIndex ?? -100;
  const indices = readIndices(fn, target, view, ignoreIndex);
  const samples = view.outer * view.inner;
  const losses = new Float64Array(samples);
  let denominator = 0;
  for (let s = 0; s < samples; s++) {
    const y = indices[s];
    if (y === ignoreIndex) continue;
    denominator += weight[y];
    losses[s] = -weight[y] * input.values[view.at(s, y)];
  }
  const { value, scales } = reduce(fn, losses, view.sampleShape, reduction, denominator, upstream);
  const gradInput = new Float64Array(input.values.length);
  for (let s = 0; s < samples; s++) {
    const y = indices[s];
    if (y !== ignoreIndex) gradInput[view.at(s, y)] = -weight[y] * scales[s];
  }
  return { value, grad: { input: gradInput, target: null } };
}
