import type * as tf from '@tensorflow/tfjs-core';
import { OPTION, Schema } from '../core/options';
import type { TensorInput } from '../core/tensors';
import { softmaxFocalIndicesKernel, softmaxFocalProbabilitiesKernel } from '../kernels/dispatch';
import { bindLoss, LossDefinition } from './loss';
import { SOFTMAX_LOSS_SCHEMA, softmaxLoss, SoftmaxLossOptions } from './softmaxLoss';

/** Options of `softmaxFocalLoss`: those of `crossEntropy`, and the focusing exponent `gamma`. */
export interface SoftmaxFocalLossOptions extends SoftmaxLossOptions {
  /** γ >= 0: how much a well-classified sample's loss is scaled down, by `(1 - p)^γ`. 0 gives `crossEntropy`. Default 2. */
  gamma?: number;
}

const SCHEMA = { ...SOFTMAX_LOSS_SCHEMA, gamma: OPTION.gamma } satisfies Schema<SoftmaxFocalLossOptions>;

export const SOFTMAX_FOCAL_LOSS: LossDefinition<typeof SCHEMA> = {
  name: 'softmaxFocalLoss',
  schema: SCHEMA,
  run(input, target, options) {
    const { gamma } = options;
    return softmaxLoss(input, target, options, this.name, {
      indices: (args) => softmaxFocalIndicesKernel({ ...args, gamma }),
      probabilities: (args) => softmaxFocalProbabilitiesKernel({ ...args, gamma }),
    });
  },
};

/**
 * Multiclass focal loss (Lin et al., "Focal Loss for Dense Object Detection", 2017) of logits, with
 * `crossEntropy`'s targets and options. With `lp = logSoftmax(input)` along the class axis, `p = exp(lp)`
 * and `t'` the target distribution (one-hot class indices or class probabilities, smoothed as
 * `(1-ε)·t + ε/C`):
 *
 *     loss_n = -Σ_c w_c·t'[n, c]·(1 - p[n, c])^γ·lp[n, c]          (0 where y_n = ignoreIndex)
 *     'mean' = Σ_n loss_n / Σ_{n not ignored} w[y_n]    for class indices (NaN when every target is ignored)
 *     'mean' = Σ_n loss_n / (number of samples)         for class probabilities
 *
 * The factor `(1 - p)^γ` down-weights the classes the model already predicts well, so training
 * concentrates on the hard, often rare, ones; `weight` is the per-class α of the paper. With `gamma: 0`
 * it is `crossEntropy`, for every option, in value and gradient. PyTorch has no built-in multiclass
 * focal loss: this is the formula above, and for two classes, `[0, s]`, and hard targets it equals
 * `sigmoidFocalLoss(s, y, {alpha, gamma})` with `weight: [1 - alpha, alpha]`.
 *
 * `(1 - p)^γ` is computed as `exp(γ·log(1 - p))`, with `1 - p` from the other classes' probabilities,
 * never as a difference that cancels, so every finite logit (|z| = 1e4 and beyond) and every γ >= 0,
 * also 0 < γ < 1 where `1 - p` underflows, gives a finite loss and gradient. The gradients are
 * closed-form, for the input and for class-probability targets.
 *
 * ```js
 * const logits = tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]);
 * console.log(softmaxFocalLoss(logits, tf.tensor1d([0, 1], 'int32')).dataSync()[0].toFixed(4)); // => 0.0341
 * console.log(softmaxFocalLoss(logits, [0, 1], { gamma: 0 }).dataSync()[0].toFixed(4));         // => 0.3171
 * console.log(crossEntropy(logits, [0, 1]).dataSync()[0].toFixed(4));                          // => 0.3171
 * ```
 */
export function softmaxFocalLoss(input: TensorInput, target: TensorInput, options: SoftmaxFocalLossOptions = {}): tf.Tensor {
  return bindLoss(SOFTMAX_FOCAL_LOSS, options)(input, target);
}
