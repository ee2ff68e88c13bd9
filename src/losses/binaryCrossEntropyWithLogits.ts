import * as tf from '@tensorflow/tfjs-core';
import { checkBroadcastWeight, checkSameShape } from '../core/elementwise';
import { OPTION, Reduction, Schema } from '../core/options';
import { TensorInput, toFloatTensor } from '../core/tensors';
import { binaryCrossEntropyWithLogitsKernel } from '../kernels/dispatch';
import { bindLoss, LossDefinition } from './loss';

/** Options of `binaryCrossEntropyWithLogits` (PyTorch: `weight`, `pos_weight`, `reduction`). */
export interface BinaryCrossEntropyWithLogitsOptions {
  /** A weight per element, broadcast to the input's shape (e.g. `[C]` against `[N, C]`). */
  weight?: TensorInput;
  /**
   * The weight of positive targets, broadcast to the target's shape as in PyTorch: `[C]` against
   * `[N, C]` (one per class of a multi-label head), `[C, 1, 1]` against `[N, C, H, W]`.
   */
  posWeight?: TensorInput;
  /** Default 'mean'. */
  reduction?: Reduction;
}

const SCHEMA = {
  weight: OPTION.weight,
  posWeight: OPTION.posWeight,
  reduction: OPTION.reduction,
} satisfies Schema<BinaryCrossEntropyWithLogitsOptions>;

export const BINARY_CROSS_ENTROPY_WITH_LOGITS: LossDefinition<typeof SCHEMA> = {
  name: 'binaryCrossEntropyWithLogits',
  schema: SCHEMA,
  run(input, target, options) {
    const fn = this.name;
    return tf.tidy(() => {
      const logits = toFloatTensor(input, fn, 'input');
      const targets = toFloatTensor(target, fn, 'target');
      checkSameShape(logits, targets, fn);
      const broadcast = (w: TensorInput | undefined, argument: string) =>
        w === undefined ? null : checkBroadcastWeight(w, logits.shape, fn, argument);
      const weight = broadcast(options.weight, 'options.weight');
      const posWeight = broadcast(options.posWeight, 'options.posWeight');
      return binaryCrossEntropyWithLogitsKernel({ input: logits, target: targets, weight, posWeight, reduction: options.reduction });
    });
  },
};

/**
 * Binary cross-entropy between logits and targets, as PyTorch's
 * `torch.nn.functional.binary_cross_entropy_with_logits`: the cross-entropy of `sigmoid(x)` against
 * targets `y` (0 and 1, or soft targets in between), element by element, without forming the sigmoid:
 *
 *     loss = w·((1-y)·x + (1+(pw-1)·y)·softplus(-x))  =  w·((1-y)·softplus(x) + pw·y·softplus(-x))
 *     'mean' = Σ loss / (number of elements)     (NaN for an empty input; 'sum' gives 0)
 *
 * with `softplus(x) = max(x, 0) + log1p(exp(-|x|))`, so every finite logit (|x| = 1e4 and beyond)
 * gives a finite loss and gradient. `pw` (`posWeight`) scales the loss of positive targets: more than 1
 * favours recall. The target must have the input's shape (it is never broadcast); `weight` and
 * `posWeight` broadcast to it. The gradients are closed-form, for the input,
 * `w·((1-y)·sigmoid(x) - pw·y·sigmoid(-x))`, and for (soft) targets, `w·(pw·softplus(-x) - softplus(x))`.
 *
 * Unlike `tf.losses.sigmoidCrossEntropy` it takes PyTorch's argument order `(input, target)`, a
 * `posWeight`, PyTorch's reductions (tfjs' default divides by the number of non-zero weights), and
 * no label smoothing (PyTorch has none: smooth the targets instead); unlike tfjs-layers'
 * `binaryCrossentropy` it takes logits, not probabilities that it clips to [1e-7, 1-1e-7] with a
 * gradient of 0 outside the clip.
 *
 * ```js
 * const logits = tf.tensor2d([[2, -1], [-0.5, 3]]);
 * const target = tf.tensor2d([[1, 0], [1, 1]]);
 * console.log(binaryCrossEntropyWithLogits(logits, target).dataSync()[0].toFixed(4));                       // => 0.3657
 * console.log(binaryCrossEntropyWithLogits(logits, target, { posWeight: [3, 1] }).dataSync()[0].toFixed(4)); // => 0.9162
 * ```
 */
export function binaryCrossEntropyWithLogits(
  input: TensorInput,
  target: TensorInput,
  options: BinaryCrossEntropyWithLogitsOptions = {},
): tf.Tensor {
  return bindLoss(BINARY_CROSS_ENTROPY_WITH_LOGITS, options)(input, target);
}
