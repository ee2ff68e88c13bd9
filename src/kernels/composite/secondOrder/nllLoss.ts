import * as tf from '@tensorflow/tfjs-core';
import type { NllArgs } from '../../args';
import { nllLossGradients } from '../nllLoss';
import { keptSampleScale, reductionScale, targetWeights } from '../shared';
import { upstreamRows } from './shared';

/**
 * The gradient of the negative log-likelihood, `-w[y]·dy/denominator` at each kept sample's target:
 * linear in the input, so it depends on the input only through `dy` (a loss after a log-softmax).
 */
export function nllLossGradient(args: NllArgs, dy: tf.Tensor): tf.Tensor[] {
  const { layout, reduction } = args;
  const targets = targetWeights(args.target, layout, args.weight as tf.Tensor1D | null, args.ignoreIndex);
  const scale = reductionScale(reduction, tf.sum(targets.perSample));
  const factor = tf.mul(keptSampleScale(targets.kept, scale, reduction), upstreamRows(dy, reduction, targets.kept.size));
  return nllLossGradients(args, targets, factor);
}
