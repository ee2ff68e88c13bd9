import * as tf from '@tensorflow/tfjs-core';
import type { ClassLayout } from '../../core/layout';
import type { Reduction } from '../../core/options';
import { readValues } from '../../core/tensors';
import type { NllArgs } from '../args';
import { finish, FusedResult, hostOp } from './hostOp';

/**
 * Negative log-likelihood of log-probabilities: `loss_n = -w[y_n]·x[n, y_n]` (0 where ignored), its
 * gradient `-w[y_n]` at the target's position and 0 elsewhere, scaled by the reduction's denominator
 * `Σ_{n not ignored} w[y_n]` for 'mean'. Targets must already be checked.
 */
export function negativeLogLikelihood(
  args: {
    logProbabilities: Float32Array;
    layout: ClassLayout;
    target: Float32Array | Int32Array;
    weight: Float32Array | null;
    ignoreIndex: number;
    reduction: Reduction;
    sampleShape: number[];
  },
  withGradient: boolean,
): FusedResult {
  const { logProbabilities, layout, target, weight, ignoreIndex, reduction } = args;
  const { outer, classes, inner } = layout;
  const samples = outer * inner;
  let denominator = 0;
  for (let s = 0; s < samples; s++) {
    const y = target[s];
    if (y !== ignoreIndex) denominator += weight === null ? 1 : weight[y];
  }
  const scale = reduction === 'mean' ? 1 / denominator : 1;
  const perSample = reduction === 'none' ? new Float32Array(samples) : null;
  const gradient = withGradient ? new Float32Array(logProbabilities.length) : null;
  let total = 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const s = o * inner + i;
      const y = target[s];
      if (y === ignoreIndex) continue;
      const at = (o * classes + y) * inner + i;
      const wy = weight === null ? 1 : weight[y];
      const loss = -wy * logProbabilities[at];
      total += loss;
      if (perSample !== null) perSample[s] = loss;
      if (gradient !== null) gradient[at] = -wy * scale;
    }
  }
  return finish(total, scale, perSample, args.sampleShape, reduction, gradient === null ? undefined : [gradient]);
}

/** Negative log-likelihood on the host: targets and weights read once, then one fused pass. */
export function nllLossHost(args: NllArgs): tf.Tensor {
  const { layout, sampleShape, reduction, ignoreIndex } = args;
  const weight = args.weight === null ? null : (readValues(args.weight) as Float32Array);
  const target = readValues(args.target);
  return hostOp([args.logProbabilities], layout, (withGradients, [logProbabilities]) =>
    negativeLogLikelihood({ logProbabilities, layout, target, weight, ignoreIndex, reduction, sampleShape }, withGradients),
  );
}
