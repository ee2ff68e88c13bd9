import * as tf from '@tensorflow/tfjs-core';
import type { BinaryCrossEntropyArgs } from '../../args';
import { binaryCrossEntropyGradients } from '../binaryCrossEntropy';
import { reductionScale } from '../shared';

/**
 * The gradients of binary cross-entropy of probabilities, the composite's formulas times `dy`: as
 * PyTorch, the input's second derivative is `w·(x² - 2xy + y)/(x(1-x))²` (away from the clamp).
 */
export function binaryCrossEntropyGradient(args: BinaryCrossEntropyArgs, dy: tf.Tensor): tf.Tensor[] {
  return binaryCrossEntropyGradients(args, tf.mul(reductionScale(args.reduction, args.input.size), dy));
}
