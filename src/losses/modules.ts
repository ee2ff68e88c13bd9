import type * as tf from '@tensorflow/tfjs-core';
import type { TensorInput } from '../core/tensors';
import { binaryCrossEntropy, BinaryCrossEntropyOptions } from './binaryCrossEntropy';
import { binaryCrossEntropyWithLogits, BinaryCrossEntropyWithLogitsOptions } from './binaryCrossEntropyWithLogits';
import { crossEntropy, CrossEntropyOptions } from './crossEntropy';
import { klDivergence, KlDivergenceOptions } from './klDivergence';
import { nllLoss, NllLossOptions } from './nllLoss';
import { sigmoidFocalLoss, SigmoidFocalLossOptions } from './sigmoidFocalLoss';
import { softmaxFocalLoss, SoftmaxFocalLossOptions } from './softmaxFocalLoss';

/**
 * `torch.nn`-style loss modules: constructed once with their options, called with
 * `forward(input, target)`. Each is the functional loss of the same name with the options bound.
 *
 * ```js
 * const criterion = new CrossEntropyLoss({ labelSmoothing: 0.1 });
 * criterion.forward(tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]), [0, 1]).print();   // 0.4421...
 * ```
 */
abstract class LossModule<Options extends object> {
  constructor(readonly options: Options = {} as Options) {}

  protected abstract loss(input: TensorInput, target: TensorInput, options: Options): tf.Tensor;

  forward(input: TensorInput, target: TensorInput): tf.Tensor {
    return this.loss(input, target, this.options);
  }
}

/** `torch.nn.BCELoss`: binary cross-entropy of probabilities. */
export class BCELoss extends LossModule<BinaryCrossEntropyOptions> {
  protected loss = binaryCrossEntropy;
}

/** `torch.nn.BCEWithLogitsLoss`: binary cross-entropy of logits, with `posWeight`. */
export class BCEWithLogitsLoss extends LossModule<BinaryCrossEntropyWithLogitsOptions> {
  protected loss = binaryCrossEntropyWithLogits;
}

/** `torch.nn.CrossEntropyLoss`: cross-entropy of logits against class indices or probabilities. */
export class CrossEntropyLoss extends LossModule<CrossEntropyOptions> {
  protected loss = crossEntropy;
}

/** `torch.nn.NLLLoss`: negative log-likelihood of log-probabilities. */
export class NLLLoss extends LossModule<NllLossOptions> {
  protected loss = nllLoss;
}

/** torchvision's `sigmoid_focal_loss` as a module (torchvision has none): focal loss of logits against binary targets. */
export class SigmoidFocalLoss extends LossModule<SigmoidFocalLossOptions> {
  protected loss = sigmoidFocalLoss;
}

/** Multiclass focal loss of logits against class indices or probabilities, with `crossEntropy`'s options and `gamma`. */
export class SoftmaxFocalLoss extends LossModule<SoftmaxFocalLossOptions> {
  protected loss = softmaxFocalLoss;
}

/** `torch.nn.KLDivLoss`: Kullback-Leibler divergence of log-probabilities from a target distribution. */
export class KLDivLoss extends LossModule<KlDivergenceOptions> {
  protected loss = klDivergence;
}
