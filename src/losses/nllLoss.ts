import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from '../core/errors';
import { classLayout } from '../core/layout';
import { OPTION, Reduction, Schema } from '../core/options';
import { formatShape, TensorInput, toFloatTensor, toNumericTensor } from '../core/tensors';
import { checkClassIndicesOrPoison, checkClassWeight, sameShape, withoutAxis } from '../core/validate';
import { nllLossKernel } from '../kernels/dispatch';
import { bindLoss, LossDefinition } from './loss';

/** Options of `nllLoss` (PyTorch: `weight`, `ignore_index`, `reduction`; plus `classAxis`). */
export interface NllLossOptions {
  /** A weight per class, shape `[C]`. */
  weight?: TensorInput;
  /** Targets equal to this index add nothing to the loss or the mean's denominator. Default -100. */
  ignoreIndex?: number;
  /** Default 'mean'. */
  reduction?: Reduction;
  /** The class axis: 1 as in PyTorch (`[N, C, d1..dk]`), -1 for channels-last. Default 1. */
  classAxis?: number;
}

const SCHEMA = {
  weight: OPTION.weight,
  ignoreIndex: OPTION.ignoreIndex,
  reduction: OPTION.reduction,
  classAxis: OPTION.classAxis,
} satisfies Schema<NllLossOptions>;

export const NLL_LOSS: LossDefinition<typeof SCHEMA> = {
  name: 'nllLoss',
  schema: SCHEMA,
  run(input, target, { weight: weightOption, ignoreIndex, reduction, classAxis }) {
    const fn = this.name;
    return tf.tidy(() => {
      const logProbabilities = toFloatTensor(input, fn, 'input');
      const { layout, axis } = classLayout(logProbabilities.shape, classAxis, fn);
      const labels = toNumericTensor(target, fn, 'target');
      const sampleShape = withoutAxis(logProbabilities.shape, axis);
      if (!sameShape(labels.shape, sampleShape)) {
        throw new LossInputError(
          fn,
          'target',
          `class indices of shape ${formatShape(sampleShape)} (for input of shape ${formatShape(logProbabilities.shape)}, class axis ${axis})`,
          `shape ${formatShape(labels.shape)}`,
        );
      }
      const weight = weightOption === undefined ? null : checkClassWeight(weightOption, layout.classes, fn);
      const poison = checkClassIndicesOrPoison(labels, layout.classes, ignoreIndex, fn);
      return nllLossKernel({ logProbabilities, target: labels, weight, layout, sampleShape, reduction, ignoreIndex, poison });
    });
  },
};

/**
 * Negative log-likelihood of class-index targets under log-probabilities, as PyTorch's
 * `torch.nn.functional.nll_loss`. The input holds log-probabilities (e.g. `tf.logSoftmax(logits)`);
 * `nllLoss(tf.logSoftmax(z), y)` equals `crossEntropy(z, y)`.
 *
 *     loss_n = -w[y_n]·input[n, y_n]        (0 where y_n = ignoreIndex)
 *     'mean' = Σ_n loss_n / Σ_{n not ignored} w[y_n]     (NaN when every target is ignored)
 *
 * Targets have the input's shape without the class axis: int32, or float32 holding integers.
 * The input is not checked to be log-probabilities, as in PyTorch. tfjs has no counterpart.
 *
 * ```js
 * const logProbabilities = tf.logSoftmax(tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]));
 * console.log(nllLoss(logProbabilities, [0, 1]).dataSync()[0].toFixed(4));                        // => 0.3171
 * console.log(nllLoss(logProbabilities, [0, 1], { weight: [1, 3, 1] }).dataSync()[0].toFixed(4)); // => 0.3907
 * ```
 */
export function nllLoss(input: TensorInput, target: TensorInput, options: NllLossOptions = {}): tf.Tensor {
  return bindLoss(NLL_LOSS, options)(input, target);
}
