import * as tf from '@tensorflow/tfjs-core';
import { elementwiseLayout } from '../../core/layout';
import { offTape } from '../../core/validate';
import type { BinaryCrossEntropyArgs } from '../args';
import { LOG_FLOOR, VARIANCE_FLOOR } from '../pytorchConstants';
import { compositeKernel, CompositeResult, orMinusInfinity, reduceLoss, reductionScale, times } from './shared';

/**
 * Binary cross-entropy of probabilities as a composite of tfjs ops: `-w·(y·max(log x, -100) + (1-y)·max(log(1-x), -100))`,
 * gradients `w·(x-y)/max(x(1-x), 1e-12)` (input) and `-w·logit(x)` (target), as PyTorch.
 */
function binaryCrossEntropy(args: BinaryCrossEntropyArgs, withGradients: boolean): CompositeResult {
  const { input: x, target: y, reduction, weight } = args;
  const shape = x.shape;
  const logs = logsOf(x);
  const [logX, logOneMinusX] = logs;
  const oneMinusY = tf.sub(1, y);
  const loss = tf.neg(
    times(tf.add(tf.mul(y, tf.maximum(logX, LOG_FLOOR)), tf.mul(oneMinusY, tf.maximum(logOneMinusX, LOG_FLOOR))), weight),
  );
  const scale = reductionScale(reduction, x.size);
  const value = reduceLoss(loss, reduction, scale, shape);
  if (!withGradients) return { value };
  return { value, gradients: binaryCrossEntropyGradients(args, scale, logs) };
}

/** `[log x, log(1-x)]`, each exactly -Infinity where x is 0 or 1 (the comparisons hidden from the tape: they have no gradient). */
function logsOf(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  return [
    orMinusInfinity(
      offTape(x, (v) => tf.greater(v, 0)),
      tf.log(x),
    ),
    orMinusInfinity(
      offTape(x, (v) => tf.less(v, 1)),
      tf.log1p(tf.neg(x)),
    ),
  ];
}

/**
 * The gradients `w·(x-y)/max(x(1-x), 1e-12)·factor` (input) and `w·(log(1-x) - log x)·factor` (target),
 * as tfjs ops on x and y whose own derivatives are exact (away from the clamp): what the composite
 * saves (`factor` the reduction's scale) and what a recorded backward pass differentiates (`factor`
 * also times `dy`).
 */
export function binaryCrossEntropyGradients(
  args: BinaryCrossEntropyArgs,
  factor: tf.Tensor,
  [logX, logOneMinusX] = logsOf(args.input),
): tf.Tensor[] {
  const { input: x, target: y, weight } = args;
  const variance = tf.maximum(tf.mul(x, tf.sub(1, x)), VARIANCE_FLOOR);
  const inputGradient = tf.mul(times(tf.div(tf.sub(x, y), variance), weight), factor);
  const targetGradient = tf.mul(times(tf.sub(logOneMinusX, logX), weight), factor);
  return [inputGradient, targetGradient];
}

export const binaryCrossEntropyComposite = compositeKernel<BinaryCrossEntropyArgs>(
  ['input', 'target'],
  (args) => elementwiseLayout(args.input.size),
  binaryCrossEntropy,
);
