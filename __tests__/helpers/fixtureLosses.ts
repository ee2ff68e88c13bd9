import * as tf from '@tensorflow/tfjs';
import { binaryCrossEntropy } from '../../src/losses/binaryCrossEntropy';
import { binaryCrossEntropyWithLogits } from '../../src/losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { nllLoss } from '../../src/losses/nllLoss';
import { FixtureLoss, FixtureTensor, float32Values } from './fixtures';

/** The library's function of each loss with PyTorch fixtures, and fixture tensors as tfjs tensors. */

export type LossFunction = (input: tf.Tensor, target: tf.Tensor, options: object) => tf.Tensor;

export const LOSSES: Record<FixtureLoss, LossFunction> = {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  nllLoss,
};

/** A float32 fixture tensor (input, weight, upstream...) with exactly PyTorch's numbers. */
export function fixtureTensor(t: FixtureTensor): tf.Tensor {
  return tf.tensor(float32Values(t), t.shape, 'float32');
}
