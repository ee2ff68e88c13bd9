import * as tf from '@tensorflow/tfjs-core';
import { checkBroadcastWeight, checkSameShape } from '../core/elementwise';
import { OPTION, Reduction, Schema } from '../core/options';
import { TensorInput, toFloatTensor } from '../core/tensors';
import { checkProbabilitiesOrPoison } from '../core/validate';
import { binaryCrossEntropyKernel } from '../kernels/dispatch';
import { bindLoss, LossDefinition } from './loss';

/** Options of `binaryCrossEntropy` (PyTorch: `weight`, `reduction`). */
export interface BinaryCrossEntropyOptions {
  /** A weight per element, broadcast to the input's shape (e.g. `[C]` against `[N, C]`). */
  weight?: TensorInput;
  /** Default 'mean'. */
  reduction?: Reduction;
}

const SCHEMA = { weight: OPTION.weight, reduction: OPTION.reduction } satisfies Schema<BinaryCrossEntropyOptions>;

export const BINARY_CROSS_ENTROPY: LossDefinition<typeof SCHEMA> = {
  name: 'binaryCrossEntropy',
  schema: SCHEMA,
  run(input, target, { weight: weightOption, reduction }) {
    const fn = this.name;
    return tf.tidy(() => {
      const probabilities = toFloatTensor(input, fn, 'input');
      const targets = toFloatTensor(target, fn, 'target');
      checkSameShape(probabilities, targets, fn);
      const weight = weightOption === undefined ? null : checkBroadcastWeight(weightOption, probabilities.shape, fn, 'options.weight');
      const poison = checkProbabilitiesOrPoison(probabilities, fn);
      return binaryCrossEntropyKernel({ input: probabilities, target: targets, weight, reduction, poison });
    });
  },
};

/**
 * Binary cross-entropy between probabilities and targets, as PyTorch's
 * `torch.nn.functional.binary_cross_entropy`: how well probabilities `x` in [0, 1] predict targets `y`
 * (0 and 1, or soft targets in between), element by element:
 *
 *     loss = -w·(y·max(log x, -100) + (1-y)·max(log(1-x), -100))
 *     'mean' = Σ loss / (number of elements)     (NaN for an empty input; 'sum' gives 0)
 *
 * The clamp at -100 keeps the loss finite for probabilities of exactly 0 and 1. The target must have
 * the input's shape (it is never broadcast); `weight` broadcasts to it. Probabilities outside [0, 1]
 * (NaN included) are an error (on GPU backends, a NaN loss: see `setValidation`). The gradients are
 * PyTorch's, in closed form, for the input, `w·(x-y)/max(x(1-x), 1e-12)`, and for (soft) targets, `-w·logit(x)`, which is ±Infinity at
 * x = 0 or 1 as in PyTorch. Prefer `binaryCrossEntropyWithLogits` on logits: it is stable where
 * the sigmoid rounds to 0 or 1.
 *
 * Unlike tfjs-layers' `binaryCrossentropy`, which clips probabilities to [1e-7, 1-1e-7], so that its
 * gradient is 0 outside the clip and its loss stops at 16.1, this follows PyTorch's formula and
 * gradient, rejects a target of another shape, and takes weights and PyTorch's reductions.
 *
 * ```js
 * const probabilities = tf.tensor1d([0.9, 0.2, 0.6]);
 * console.log(binaryCrossEntropy(probabilities, [1, 0, 1]).dataSync()[0].toFixed(4));                       // => 0.2798
 * console.log(binaryCrossEntropy(probabilities, [1, 0, 1], { weight: [1, 2, 1] }).dataSync()[0].toFixed(4)); // => 0.3542
 * ```
 */
export function binaryCrossEntropy(input: TensorInput, target: TensorInput, options: BinaryCrossEntropyOptions = {}): tf.Tensor {
  return bindLoss(BINARY_CROSS_ENTROPY, options)(input, target);
}
