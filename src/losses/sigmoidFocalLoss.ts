import * as tf from '@tensorflow/tfjs-core';
import { checkSameShape } from '../core/elementwise';
import { OPTION, Reduction, Schema, withDefault } from '../core/options';
import { TensorInput, toFloatTensor } from '../core/tensors';
import { checkProbabilitiesOrPoison } from '../core/validate';
import { sigmoidFocalLossKernel } from '../kernels/dispatch';
import { bindLoss, LossDefinition } from './loss';

/** Options of `sigmoidFocalLoss` (torchvision: `alpha`, `gamma`, `reduction`). */
export interface SigmoidFocalLossOptions {
  /** The weight α of positive targets (negative ones get 1 - α), at most 1; a negative α turns the weighting off. Default 0.25. */
  alpha?: number;
  /** γ >= 0: how much a well-classified element's loss is scaled down, by `(1 - p_t)^γ`. Default 2. */
  gamma?: number;
  /** Default 'none', as torchvision. */
  reduction?: Reduction;
}

const SCHEMA = {
  alpha: OPTION.alpha,
  gamma: OPTION.gamma,
  reduction: withDefault(OPTION.reduction, 'none'),
} satisfies Schema<SigmoidFocalLossOptions>;

export const SIGMOID_FOCAL_LOSS: LossDefinition<typeof SCHEMA> = {
  name: 'sigmoidFocalLoss',
  schema: SCHEMA,
  run(input, target, { alpha, gamma, reduction }) {
    const fn = this.name;
    return tf.tidy(() => {
      const logits = toFloatTensor(input, fn, 'input');
      const targets = toFloatTensor(target, fn, 'target');
      checkSameShape(logits, targets, fn);
      const poison = checkProbabilitiesOrPoison(targets, fn, 'target');
      return sigmoidFocalLossKernel({ input: logits, target: targets, alpha, gamma, reduction, poison });
    });
  },
};

/**
 * The focal loss of RetinaNet (Lin et al., "Focal Loss for Dense Object Detection", 2017), as
 * torchvision's `torchvision.ops.sigmoid_focal_loss`: binary cross-entropy of logits `x` against
 * targets `y` (0 and 1, or soft targets in between), element by element, scaled down where the
 * prediction is already good. With `p = sigmoid(x)`, `p_t = p·y + (1-p)·(1-y)`:
 *
 *     loss = α_t·(1 - p_t)^γ·BCEWithLogits(x, y)        α_t = α·y + (1-α)·(1-y)   (1 when α < 0)
 *     'mean' = Σ loss / (number of elements)     (default 'none', as torchvision)
 *
 * Any shape; the target must have the input's shape, with values in [0, 1] (others are an error; on
 * GPU backends, a NaN loss: see `setValidation`). `(1 - p_t)^γ` is computed as
 * `exp(γ·log(y·σ(-x) + (1-y)·σ(x)))` in log space, so every finite logit (|x| = 1e4 and beyond) and every
 * γ >= 0 gives a finite loss and gradient, also 0 < γ < 1 at saturation, where torchvision's gradient
 * is NaN; elsewhere it agrees with torchvision. The gradients are closed-form, for the input and the
 * (soft) targets. For hard targets it equals `softmaxFocalLoss` on the two-class logits `[0, x]` with
 * `weight: [1 - α, α]` (no weight for α < 0), up to the mean's denominator.
 *
 * ```js
 * const logits = tf.tensor1d([2, -1, 0.5, -3]);
 * console.log(Array.from(sigmoidFocalLoss(logits, [1, 0, 0, 1]).dataSync(), (v) => v.toFixed(4)).join(', ')); // => 0.0005, 0.0170, 0.2831, 0.6916
 * console.log(sigmoidFocalLoss(logits, [1, 0, 0, 1], { alpha: -1, reduction: 'sum' }).dataSync()[0].toFixed(4)); // => 3.1682
 * ```
 */
export function sigmoidFocalLoss(input: TensorInput, target: TensorInput, options: SigmoidFocalLossOptions = {}): tf.Tensor {
  return bindLoss(SIGMOID_FOCAL_LOSS, options)(input, target);
}
