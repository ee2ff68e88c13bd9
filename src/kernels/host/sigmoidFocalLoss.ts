import * as tf from '@tensorflow/tfjs-core';
import { elementwiseLayout } from '../../core/layout';
import type { Reduction } from '../../core/options';
import type { SigmoidFocalLossArgs } from '../args';
import { expNonPositive, softplusOfNegative } from './fastMath';
import { elementwiseOutputs, finishElementwise, FusedResult, hostOp } from './hostOp';

/** Where `softplusOfNegative` writes its sigmoid: one for the logit, one for `logAddExp`'s own (unused) sigmoid. */
const sigmoidScratch = new Float64Array(1);
const unusedScratch = new Float64Array(1);

/** `log(e^a + e^b)`, also when one of them is -Infinity (a target of exactly 0 or 1). */
export function logAddExp(a: number, b: number): number {
  const high = Math.max(a, b);
  return high + softplusOfNegative(high - Math.min(a, b), unusedScratch);
}

/**
 * `log softplus(z)`, finite for every finite z: below -20, `softplus(z) = e^z·(1 - e^z/2 + ...)`,
 * whose logarithm is z to 1e-9 (and `softplus` itself underflows below -745).
 */
export function logSoftplus(z: number, softplusZ: number): number {
  return z < -20 ? z : Math.log(softplusZ);
}

/**
 * torchvision's sigmoid focal loss of logits `x` against (soft) targets `y` in one pass, in log space:
 * with `q = 1 - p_t = y·σ(-x) + (1-y)·σ(x)` and `ce` the binary cross-entropy,
 *
 *     log q = logAddExp(log y - softplus(x), log(1-y) - softplus(-x))     m = q^γ = exp(γ·log q)
 *     loss  = α_t·ce·m          α_t = α·y + (1-α)·(1-y), or 1 for α < 0
 *     ∂/∂x  = α_t·m·(σ(x) - y + γ·ce·(1-2y)·σ(x)σ(-x)/q)
 *     ∂/∂y  = ((2α-1)·ce + α_t·(-x + γ·(σ(-x) - σ(x))·ce/q))·m          (2α-1 is 0 for α < 0)
 *
 * `σ(x)σ(-x)/q <= 2` and `ce/q = exp(log ce - log q)` grows at most like |x|, so every term is finite for every finite
 * logit and γ >= 0, also for 0 < γ < 1 where `q` underflows (torchvision gives NaN there).
 * Accumulates in float64; 'mean' divides by the number of elements.
 */
export function sigmoidFocalFromLogits(
  args: { input: Float32Array; target: Float32Array; alpha: number; gamma: number; reduction: Reduction; shape: number[] },
  withGradients: boolean,
): FusedResult {
  const { input, target, alpha, gamma, reduction } = args;
  const size = input.length;
  const out = elementwiseOutputs(size, reduction, withGradients);
  const { scale, perElement, inputGradient, targetGradient } = out;
  const weighted = alpha >= 0;
  let total = 0;
  for (let e = 0; e < size; e++) {
    const x = input[e];
    const y = target[e];
    const log1pExp = softplusOfNegative(Math.abs(x), sigmoidScratch); // log1p(exp(-|x|)); σ(-|x|) in the scratch
    const softplusX = Math.max(x, 0) + log1pExp; // -log σ(-x)
    const softplusNegX = Math.max(-x, 0) + log1pExp; // -log σ(x)
    const logQ = Math.min(logAddExp(Math.log(y) - softplusX, Math.log1p(-y) - softplusNegX), 0);
    const modulation = gamma === 0 ? 1 : expNonPositive(gamma * logQ);
    const ce = (1 - y) * softplusX + y * softplusNegX;
    const alphaT = weighted ? alpha * y + (1 - alpha) * (1 - y) : 1;
    const loss = alphaT * ce * modulation;
    total += loss;
    if (perElement !== null) perElement[e] = loss;
    if (inputGradient === null || targetGradient === null) continue;
    const small = sigmoidScratch[0];
    const sigmoidX = x >= 0 ? 1 - small : small;
    const sigmoidNegX = x >= 0 ? small : 1 - small;
    let dx = sigmoidX - y;
    let dy = -x;
    if (gamma > 0) {
      dx += gamma * ce * (1 - 2 * y) * Math.exp(-softplusX - softplusNegX - logQ);
      const logCe = logAddExp(Math.log1p(-y) + logSoftplus(x, softplusX), Math.log(y) + logSoftplus(-x, softplusNegX));
      dy += gamma * (sigmoidNegX - sigmoidX) * Math.exp(logCe - logQ);
    }
    inputGradient[e] = alphaT * modulation * dx * scale;
    targetGradient[e] = ((weighted ? (2 * alpha - 1) * ce : 0) + alphaT * dy) * modulation * scale;
  }
  return finishElementwise(total, out, args.shape, reduction);
}

/** torchvision's sigmoid focal loss on the host: one fused pass. */
export function sigmoidFocalLossHost(args: SigmoidFocalLossArgs): tf.Tensor {
  const { input, alpha, gamma, reduction } = args;
  return hostOp([input, args.target], elementwiseLayout(input.size), (withGradients, [x, y]) =>
    sigmoidFocalFromLogits({ input: x, target: y, alpha, gamma, reduction, shape: input.shape }, withGradients),
  );
}
