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
 * console.log(criterion.forward(tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]), [0, 1]).dataSync()[0].toFixed(4)); // => 0.4421
 * try { new CrossEntropyLoss({ labelSmoothing: 2 }); } catch (e) { console.log(e.message); }
 * // => crossEntropy: argument 'options.labelSmoothing' must be a number in [0, 1], got 2
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

/**
 * `torch.nn.BCELoss`: binary cross-entropy of probabilities.
 *
 * ```js
 * const criterion = new BCELoss({ reduction: 'sum' });
 * console.log(criterion.forward([0.9, 0.2, 0.6], [1, 0, 1]).dataSync()[0].toFixed(4)); // => 0.8393
 * ```
 */
export class BCELoss extends LossModule<BinaryCrossEntropyOptions> {
  /** @hidden */
  protected static readonly definition = BINARY_CROSS_ENTROPY;
}

/**
 * `torch.nn.BCEWithLogitsLoss`: binary cross-entropy of logits, with `posWeight`.
 *
 * ```js
 * const criterion = new BCEWithLogitsLoss({ posWeight: [3, 1] });
 * console.log(criterion.forward([[2, -1], [-0.5, 3]], [[1, 0], [1, 1]]).dataSync()[0].toFixed(4)); // => 0.9162
 * ```
 */
export class BCEWithLogitsLoss extends LossModule<BinaryCrossEntropyWithLogitsOptions> {
  /** @hidden */
  protected static readonly definition = BINARY_CROSS_ENTROPY_WITH_LOGITS;
}

/**
 * `torch.nn.CrossEntropyLoss`: cross-entropy of logits against class indices or probabilities.
 *
 * ```js
 * const criterion = new CrossEntropyLoss({ weight: [1, 3, 1] });
 * console.log(criterion.forward(tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]), [0, 1]).dataSync()[0].toFixed(4)); // => 0.3907
 * ```
 */
export class CrossEntropyLoss extends LossModule<CrossEntropyOptions> {
  /** @hidden */
  protected static readonly definition = CROSS_ENTROPY;
}

/**
 * `torch.nn.NLLLoss`: negative log-likelihood of log-probabilities.
 *
 * ```js
 * const criterion = new NLLLoss({ reduction: 'none' });
 * const logProbabilities = tf.logSoftmax(tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]));
 * console.log(Array.from(criterion.forward(logProbabilities, [0, 1]).dataSync(), (v) => v.toFixed(4)).join(', ')); // => 0.1698, 0.4644
 * ```
 */
export class NLLLoss extends LossModule<NllLossOptions> {
  /** @hidden */
  protected static readonly definition = NLL_LOSS;
}

/**
 * torchvision's `sigmoid_focal_loss` as a module (torchvision has none): focal loss of logits against binary targets.
 *
 * ```js
 * const criterion = new SigmoidFocalLoss({ alpha: 0.25, gamma: 2, reduction: 'mean' });
 * console.log(criterion.forward([2, -1, 0.5, -3], [1, 0, 0, 1]).dataSync()[0].toFixed(4)); // => 0.2480
 * ```
 */
export class SigmoidFocalLoss extends LossModule<SigmoidFocalLossOptions> {
  /** @hidden */
  protected static readonly definition = SIGMOID_FOCAL_LOSS;
}

/**
 * Multiclass focal loss of logits against class indices or probabilities, with `crossEntropy`'s options and `gamma`.
 *
 * ```js
 * const criterion = new SoftmaxFocalLoss({ gamma: 2 });
 * console.log(criterion.forward(tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]), [0, 1]).dataSync()[0].toFixed(4)); // => 0.0341
 * ```
 */
export class SoftmaxFocalLoss extends LossModule<SoftmaxFocalLossOptions> {
  /** @hidden */
  protected static readonly definition = SOFTMAX_FOCAL_LOSS;
}

/**
 * `torch.nn.KLDivLoss`: Kullback-Leibler divergence of log-probabilities from a target distribution.
 *
 * ```js
 * const criterion = new KLDivLoss({ reduction: 'batchmean' });
 * const logProbabilities = tf.logSoftmax(tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]));
 * console.log(criterion.forward(logProbabilities, [[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]]).dataSync()[0].toFixed(4)); // => 0.0717
 * ```
 */
export class KLDivLoss extends LossModule<KlDivergenceOptions> {
  /** @hidden */
  protected static readonly definition = KL_DIVERGENCE;
}
