import type { Reduction } from '../core/options';
import type { FusedResult } from './fusedLoss';
import { finish } from './softmaxCrossEntropy';

/** Inputs of the binary cross-entropy kernels, already validated and read to the host, all of one shape. */
export interface BinaryCrossEntropyArgs {
  input: Float32Array;
  target: Float32Array;
  /** One weight per element (already broadcast), or null for all ones. */
  weight: Float32Array | null;
  reduction: Reduction;
  /** Shape of the input: the shape of the per-element loss ('none'). */
  shape: number[];
}

/** PyTorch clamps each log of BCE at -100 so that a probability of exactly 0 or 1 gives a finite loss. */
const LOG_FLOOR = -100;
/** PyTorch's floor on `x(1-x)` in the input gradient of BCE. */
const VARIANCE_FLOOR = 1e-12;

/** What a kernel fills: the per-element loss for 'none', both gradients when asked; `scale` is 1/size for 'mean'. */
function outputs(size: number, reduction: Reduction, withGradients: boolean) {
  return {
    scale: reduction === 'mean' ? 1 / size : 1,
    perElement: reduction === 'none' ? new Float32Array(size) : null,
    inputGradient: withGradients ? new Float32Array(size) : null,
    targetGradient: withGradients ? new Float32Array(size) : null,
  };
}

/**
 * Binary cross-entropy of probabilities `x` in one pass: loss `-w·(y·max(log x, -100) + (1-y)·max(log(1-x), -100))`
 * and, when asked, PyTorch's gradients `w·(x-y)/max(x(1-x), 1e-12)` for the input and `-w·logit(x)` for
 * the target (not clamped: ±Infinity at x = 0 or 1, as PyTorch), scaled by 1/size for 'mean'.
 * Accumulates in float64. Probabilities must already be checked to lie in [0, 1].
 */
export function binaryCrossEntropyFromProbabilities(args: BinaryCrossEntropyArgs, withGradients: boolean): FusedResult {
  const { input, target, weight, reduction } = args;
  const { scale, perElement, inputGradient, targetGradient } = outputs(input.length, reduction, withGradients);
  let total = 0;
  for (let e = 0; e < input.length; e++) {
    const x = input[e];
    const y = target[e];
    const w = weight === null ? 1 : weight[e];
    const logX = Math.log(x);
    const logOneMinusX = Math.log1p(-x);
    const loss = -w * (y * Math.max(logX, LOG_FLOOR) + (1 - y) * Math.max(logOneMinusX, LOG_FLOOR));
    total += loss;
    if (perElement !== null) perElement[e] = loss;
    if (inputGradient !== null && targetGradient !== null) {
      inputGradient[e] = ((w * (x - y)) / Math.max(x * (1 - x), VARIANCE_FLOOR)) * scale;
      targetGradient[e] = w * (logOneMinusX - logX) * scale;
    }
  }
  return finish(total, scale, perElement, args.shape, reduction, inputGradient !== null && targetGradient !== null ? [inputGradient, targetGradient] : undefined);
}

/**
 * Binary cross-entropy of logits `x` in one pass, in the form `w·((1-y)·softplus(x) + pw·y·softplus(-x))`
 * (algebraically PyTorch's `(1-y)·x + (1+(pw-1)·y)·softplus(-x)`, with no cancellation between large
 * terms), where both softplus share `log1p(exp(-|x|))`, so any finite logit gives a finite loss.
 * When asked, the gradients `w·((1-y)·σ(x) - pw·y·σ(-x))` for the input and `w·(pw·softplus(-x) - softplus(x))`
 * for the target, scaled by 1/size for 'mean'. Accumulates in float64.
 */
export function binaryCrossEntropyFromLogits(args: BinaryCrossEntropyArgs & { posWeight: Float32Array | null }, withGradients: boolean): FusedResult {
  const { input, target, weight, posWeight, reduction } = args;
  const { scale, perElement, inputGradient, targetGradient } = outputs(input.length, reduction, withGradients);
  let total = 0;
  for (let e = 0; e < input.length; e++) {
    const x = input[e];
    const y = target[e];
    const w = weight === null ? 1 : weight[e];
    const pw = posWeight === null ? 1 : posWeight[e];
    const expNegAbs = Math.exp(-Math.abs(x));
    const log1pExp = Math.log1p(expNegAbs);
    const softplusX = Math.max(x, 0) + log1pExp; // -log σ(-x)
    const softplusNegX = Math.max(-x, 0) + log1pExp; // -log σ(x)
    const loss = w * ((1 - y) * softplusX + pw * y * softplusNegX);
    total += loss;
    if (perElement !== null) perElement[e] = loss;
    if (inputGradient !== null && targetGradient !== null) {
      const sigmoidX = x >= 0 ? 1 / (1 + expNegAbs) : expNegAbs / (1 + expNegAbs);
      const sigmoidNegX = x >= 0 ? expNegAbs / (1 + expNegAbs) : 1 / (1 + expNegAbs);
      inputGradient[e] = w * ((1 - y) * sigmoidX - pw * y * sigmoidNegX) * scale;
      targetGradient[e] = w * (pw * softplusNegX - softplusX) * scale;
    }
  }
  return finish(total, scale, perElement, args.shape, reduction, inputGradient !== null && targetGradient !== null ? [inputGradient, targetGradient] : undefined);
}
