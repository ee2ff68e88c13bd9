import * as tf from '@tensorflow/tfjs-core';
import { elementwiseLayout } from '../../core/layout';
import type { KlDivergenceArgs } from '../args';
import { elementwiseOutputs, finishElementwise, FusedResult, hostOp } from './hostOp';

/**
 * PyTorch's `kl_div` of log-probabilities `x` from targets `t`, element by element, in one pass:
 *
 *     loss = xlogy(t, t) - t·x        ∂/∂x = -t        ∂/∂t = [t ≠ 0]·log t + t/t - x
 *     logTarget:  loss = e^t·(t - x)  ∂/∂x = -e^t      ∂/∂t = e^t·(t - x + 1)
 *
 * `xlogy(0, t) = 0`, so a target of 0 adds nothing to the loss; its gradient is NaN (0/0), as PyTorch's.
 * The sum is scaled by `1/meanDenominator` for 'mean'. Accumulates in float64.
 */
export function klDivergenceElements(
  args: Pick<KlDivergenceArgs, 'reduction' | 'meanDenominator' | 'logTarget'> & {
    input: Float32Array;
    target: Float32Array;
    shape: number[];
  },
  withGradients: boolean,
): FusedResult {
  const { input, target, reduction, logTarget } = args;
  const size = input.length;
  const out = elementwiseOutputs(size, reduction, withGradients, args.meanDenominator);
  const { scale, perElement, inputGradient, targetGradient } = out;
  let total = 0;
  for (let e = 0; e < size; e++) {
    const x = input[e];
    const t = target[e];
    let loss: number;
    let dx: number;
    let dt: number;
    if (logTarget) {
      const expT = Math.exp(t);
      loss = expT * (t - x);
      dx = -expT;
      dt = expT * (t - x + 1);
    } else {
      const logT = Math.log(t);
      loss = (t === 0 ? 0 : t * logT) - t * x;
      dx = -t;
      dt = (t === 0 ? 0 : logT) + t / t - x;
    }
    total += loss;
    if (perElement !== null) perElement[e] = loss;
    if (inputGradient !== null && targetGradient !== null) {
      inputGradient[e] = dx * scale;
      targetGradient[e] = dt * scale;
    }
  }
  return finishElementwise(total, out, args.shape, reduction);
}

/** KL divergence on the host: one fused pass. */
export function klDivergenceHost(args: KlDivergenceArgs): tf.Tensor {
  const { input, reduction, meanDenominator, logTarget } = args;
  return hostOp([input, args.target], elementwiseLayout(input.size), (withGradients, [x, t]) =>
    klDivergenceElements({ input: x, target: t, reduction, meanDenominator, logTarget, shape: input.shape }, withGradients),
  );
}
