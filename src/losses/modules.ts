import type * as tf from '@tensorflow/tfjs-core';
import type { TensorInput } from '../core/tensors';
import { BINARY_CROSS_ENTROPY, BinaryCrossEntropyOptions } from './binaryCrossEntropy';
import { BINARY_CROSS_ENTROPY_WITH_LOGITS, BinaryCrossEntropyWithLogitsOptions } from './binaryCrossEntropyWithLogits';
import { CROSS_ENTROPY, CrossEntropyOptions } from './crossEntropy';
import { KL_DIVERGENCE, KlDivergenceOptions } from './klDivergence';
import { bindLoss, LossDefinition, OptionSchema } from './loss';
import { NLL_LOSS, NllLossOptions } from './nllLoss';
import { SIGMOID_FOCAL_LOSS, SigmoidFocalLossOptions } from './sigmoidFocalLoss';
import { SOFTMAX_FOCAL_LOSS, SoftmaxFocalLossOptions } from './softmaxFocalLoss';

/**
 * `torch.nn`-style loss modules: constructed once with their options, called with
 * `forward(input, target)`. Each is the functional loss of the same name with the options bound; the
 * constructor checks them (a bad option throws there, under the functional loss's name).
 *
 * ```js
 * const criterion = new CrossEntropyLoss({ labelSmoothing: 0.1 });
 * criterion.forward(tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]), [0, 1]).print();   // 0.4421...
 * ```
 */
abstract class LossModule<Options extends object> {
  /** The loss the subclass is, set as a static field. @hidden */
  protected static readonly definition: LossDefinition<OptionSchema>;
  private readonly bound: (input: TensorInput, target: TensorInput) => tf.Tensor;

  constructor(readonly options: Options = {} as Options) {
    this.bound = bindLoss((new.target as typeof LossModule).definition, options);
  }

  forward(input: TensorInput, target: TensorInput): tf.Tensor {
    return this.bound(input, target);
  }
}

/** `torch.nn.BCELoss`: binary cross-entropy of probabilities. */
export class BCELoss extends LossModule<BinaryCrossEntropyOptions> {
  /** @hidden */
  protected static readonly definition = BINARY_CROSS_ENTROPY;
}

/** `torch.nn.BCEWithLogitsLoss`: binary cross-entropy of logits, with `posWeight`. */
export class BCEWithLogitsLoss extends LossModule<BinaryCrossEntropyWithLogitsOptions> {
  /** @hidden */
  protected static readonly definition = BINARY_CROSS_ENTROPY_WITH_LOGITS;
}

/** `torch.nn.CrossEntropyLoss`: cross-entropy of logits against class indices or probabilities. */
export class CrossEntropyLoss extends LossModule<CrossEntropyOptions> {
  /** @hidden */
  protected static readonly definition = CROSS_ENTROPY;
}

/** `torch.nn.NLLLoss`: negative log-likelihood of log-probabilities. */
export class NLLLoss extends LossModule<NllLossOptions> {
  /** @hidden */
  protected static readonly definition = NLL_LOSS;
}

/** torchvision's `sigmoid_focal_loss` as a module (torchvision has none): focal loss of logits against binary targets. */
export class SigmoidFocalLoss extends LossModule<SigmoidFocalLossOptions> {
  /** @hidden */
  protected static readonly definition = SIGMOID_FOCAL_LOSS;
}

/** Multiclass focal loss of logits against class indices or probabilities, with `crossEntropy`'s options and `gamma`. */
export class SoftmaxFocalLoss extends LossModule<SoftmaxFocalLossOptions> {
  /** @hidden */
  protected static readonly definition = SOFTMAX_FOCAL_LOSS;
}

/** `torch.nn.KLDivLoss`: Kullback-Leibler divergence of log-probabilities from a target distribution. */
export class KLDivLoss extends LossModule<KlDivergenceOptions> {
  /** @hidden */
  protected static readonly definition = KL_DIVERGENCE;
}
