import type * as tf from '@tensorflow/tfjs-core';
import type { TensorInput } from '../core/tensors';
import { crossEntropyIndicesKernel, crossEntropyProbabilitiesKernel } from '../kernels/dispatch';
import { bindLoss, LossDefinition } from './loss';
import { SOFTMAX_LOSS_SCHEMA, softmaxLoss, SoftmaxLossOptions } from './softmaxLoss';

/** Options of `crossEntropy` (PyTorch: `weight`, `ignore_index`, `reduction`, `label_smoothing`; plus `classAxis`). */
export type CrossEntropyOptions = SoftmaxLossOptions;

export const CROSS_ENTROPY: LossDefinition<typeof SOFTMAX_LOSS_SCHEMA> = {
  name: 'crossEntropy',
  schema: SOFTMAX_LOSS_SCHEMA,
  run(input, target, options) {
    return softmaxLoss(input, target, options, this.name, {
      indices: crossEntropyIndicesKernel,
      probabilities: crossEntropyProbabilitiesKernel,
    });
  },
};

/**
 * Cross-entropy between logits and a target, as PyTorch's `torch.nn.functional.cross_entropy`.
 *
 * For class-index targets `y` (the input's shape without the class axis; int32, or float32 holding
 * integers as tfjs-layers passes labels), with `lp = logSoftmax(input)` along the class axis:
 *
 *     loss_n = (1-ε)·(-w[y_n]·lp[n, y_n]) + (ε/C)·Σ_c(-w_c·lp[n, c])        (0 where y_n = ignoreIndex)
 *     'mean' = Σ_n loss_n / Σ_{n not ignored} w[y_n]     (NaN when every target is ignored)
 *
 * For class-probability targets `t` (the input's shape), `t' = (1-ε)·t + ε/C`:
 *
 *     loss_n = -Σ_c w_c·t'[n, c]·lp[n, c]        'mean' = Σ_n loss_n / (number of samples)
 *
 * The gradient is closed-form, for the input and for probability targets. Input of shape `[C]` is
 * one unbatched sample; `[N, C, d1, ..., dk]` has its class axis at 1 unless `classAxis` says otherwise.
 *
 * Unlike `tf.losses.softmaxCrossEntropy` it takes class indices, smooths over the class axis of any
 * rank, and differentiates the targets correctly; unlike tfjs-layers' sparse loss it never clips logits
 * and rejects out-of-range labels instead of returning 0.
 *
 * ```js
 * const logits = tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]);
 * console.log(crossEntropy(logits, tf.tensor1d([0, 1], 'int32')).dataSync()[0].toFixed(4));   // => 0.3171
 * console.log(crossEntropy(logits, [0, 1], { labelSmoothing: 0.1 }).dataSync()[0].toFixed(4)); // => 0.4421
 * // Class probabilities (one-hot here) instead of class indices:
 * console.log(crossEntropy(logits, [[1, 0, 0], [0, 1, 0]]).dataSync()[0].toFixed(4));          // => 0.3171
 * ```
 */
export function crossEntropy(input: TensorInput, target: TensorInput, options: CrossEntropyOptions = {}): tf.Tensor {
  return bindLoss(CROSS_ENTROPY, options)(input, target);
}
