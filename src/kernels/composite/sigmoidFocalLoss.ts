import * as tf from '@tensorflow/tfjs-core';
import { elementwiseLayout } from '../../core/layout';
import type { SigmoidFocalLossArgs } from '../args';
import { compositeKernel, CompositeResult, reduceLoss, reductionScale, softplus, softplusPair, times } from './shared';

/** `log(e^a + e^b)`, also where one of them is -Infinity. */
function logAddExp(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const high = tf.maximum(a, b);
  return tf.add(high, softplus(tf.sub(tf.minimum(a, b), high)));
}

/** `log softplus(z)`, finite for every finite z: below -17 it is z to float32 precision. */
function logSoftplus(z: tf.Tensor, softplusZ: tf.Tensor): tf.Tensor {
  return tf.where(tf.less(z, -17), z, tf.log(softplusZ));
}

/**
 * torchvision's sigmoid focal loss as a composite of tfjs ops, in log space as the host kernel:
 * `log q = logAddExp(log y - softplus(x), log(1-y) - softplus(-x))` (q = 1 - p_t), `m = exp(γ·log q)`,
 * loss `α_t·ce·m`, gradients `α_t·m·(σ(x) - y + γ·ce·(1-2y)·σ(x)σ(-x)/q)` (input) and
 * `((2α-1)·ce + α_t·(-x + γ·(σ(-x) - σ(x))·ce/q))·m` (target), with `σ(x)σ(-x)/q` and `ce/q` formed
 * from logarithms, so every finite logit gives finite numbers.
 */
/**
 * A stand-in for log(0) in the log-space sums below: its exponential, and that of anything a finite
 * number is added to, is exactly 0 in float32, as exp(-Infinity); GPU backends give NaN or a finite
 * log(0), and turn -Infinity in these sums into NaN.
 */
const LOG_OF_ZERO = -1e30;

/** `log` where `defined` (a target above 0, or below 1), else `LOG_OF_ZERO`. */
function logOrNegligible(defined: tf.Tensor, log: tf.Tensor): tf.Tensor {
  return tf.where(defined, log, tf.fill(log.shape, LOG_OF_ZERO));
}

function sigmoidFocalLoss(args: SigmoidFocalLossArgs, withGradients: boolean): CompositeResult {
  const { input: x, target: y, alpha, gamma, reduction } = args;
  const [softplusX, softplusNegX] = softplusPair(x);
  const oneMinusY = tf.sub(1, y);
  const logY = logOrNegligible(tf.greater(y, 0), tf.log(y));
  const logOneMinusY = logOrNegligible(tf.less(y, 1), tf.log1p(tf.neg(y)));
  const logQ = tf.minimum(logAddExp(tf.sub(logY, softplusX), tf.sub(logOneMinusY, softplusNegX)), 0);
  const modulation = gamma === 0 ? null : tf.exp(tf.mul(logQ, gamma));
  const ce = tf.add(tf.mul(oneMinusY, softplusX), tf.mul(y, softplusNegX));
  const alphaT = alpha >= 0 ? tf.add(tf.mul(y, alpha), tf.mul(oneMinusY, 1 - alpha)) : null;
  const scale = reductionScale(reduction, x.size);
  const value = reduceLoss(times(times(ce, modulation), alphaT), reduction, scale, x.shape);
  if (!withGradients) return { value };
  const sigmoidX = tf.sigmoid(x);
  const sigmoidNegX = tf.sigmoid(tf.neg(x));
  let dx = tf.sub(sigmoidX, y);
  let dy = tf.neg(x);
  if (gamma > 0) {
    const sigmoidProductOverQ = tf.exp(tf.sub(tf.neg(tf.add(softplusX, softplusNegX)), logQ));
    dx = tf.add(dx, tf.mul(tf.mul(ce, tf.sub(1, tf.mul(y, 2))), tf.mul(sigmoidProductOverQ, gamma)));
    const logCe = logAddExp(tf.add(logOneMinusY, logSoftplus(x, softplusX)), tf.add(logY, logSoftplus(tf.neg(x), softplusNegX)));
    dy = tf.add(dy, tf.mul(tf.sub(sigmoidNegX, sigmoidX), tf.mul(tf.exp(tf.sub(logCe, logQ)), gamma)));
  }
  const inputGradient = tf.mul(times(times(dx, modulation), alphaT), scale);
  const targetTerms = alpha >= 0 ? tf.add(tf.mul(ce, 2 * alpha - 1), times(dy, alphaT)) : dy;
  const targetGradient = tf.mul(times(targetTerms, modulation), scale);
  return { value, gradients: [inputGradient, targetGradient] };
}

export const sigmoidFocalLossComposite = compositeKernel<SigmoidFocalLossArgs>(
  ['input', 'target'],
  (args) => elementwiseLayout(args.input.size),
  sigmoidFocalLoss,
);
