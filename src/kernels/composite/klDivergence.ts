import * as tf from '@tensorflow/tfjs-core';
import { elementwiseLayout } from '../../core/layout';
import type { KlDivergenceArgs } from '../args';
import { compositeKernel, CompositeResult, reduceLoss, reductionScale } from './shared';

/**
 * PyTorch's `kl_div` as a composite of tfjs ops: `xlogy(t, t) - t·x`, gradients `-t` (input) and
 * `log t + 1 - x` (target; NaN at t = 0, as PyTorch's 0/0); with `logTarget`, `e^t·(t - x)`, gradients
 * `-e^t` and `e^t·(t - x + 1)`.
 */
function klDivergence(args: KlDivergenceArgs, withGradients: boolean): CompositeResult {
  const { input: x, target: t, reduction, logTarget } = args;
  const scale = reductionScale(reduction, args.meanDenominator);
  if (logTarget) {
    const expT = tf.exp(t);
    const difference = tf.sub(t, x);
    const value = reduceLoss(tf.mul(expT, difference), reduction, scale, x.shape);
    if (!withGradients) return { value };
    return { value, gradients: [tf.mul(expT, tf.neg(scale)), tf.mul(tf.mul(expT, tf.add(difference, 1)), scale)] };
  }
  const logT = tf.log(t);
  const isZero = tf.equal(t, 0);
  const xlogy = tf.where(isZero, tf.zerosLike(t), tf.mul(t, logT));
  const value = reduceLoss(tf.sub(xlogy, tf.mul(t, x)), reduction, scale, x.shape);
  if (!withGradients) return { value };
  const targetGradient = tf.where(isZero, tf.fill(t.shape, NaN), tf.sub(tf.add(logT, 1), x));
  return { value, gradients: [tf.mul(t, tf.neg(scale)), tf.mul(targetGradient, scale)] };
}

export const klDivergenceComposite = compositeKernel<KlDivergenceArgs>(
  ['input', 'target'],
  (args) => elementwiseLayout(args.input.size),
  klDivergence,
);
