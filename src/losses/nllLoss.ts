import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from '../core/errors';
import { classLayout } from '../core/layout';
import { checkInteger, checkOptionNames, checkReduction, Reduction } from '../core/options';
import { formatShape, readValues, TensorInput, toFloatTensor, toNumericTensor } from '../core/tensors';
import { poisonInvalid, readClassWeight, sameShape, screenClassIndices, withoutAxis } from '../core/validate';
import { fusedLoss } from '../kernels/fusedLoss';
import { negativeLogLikelihood, negativeLogLikelihoodComposite } from '../kernels/negativeLogLikelihood';

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

const OPTIONS = ['weight', 'ignoreIndex', 'reduction', 'classAxis'] as const;

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
 * nllLoss(logProbabilities, [0, 1]).print();                          // 0.3171...
 * nllLoss(logProbabilities, [0, 1], { weight: [1, 3, 1] }).print();   // 0.3907...
 * ```
 */
export function nllLoss(input: TensorInput, target: TensorInput, options: NllLossOptions = {}): tf.Tensor {
  const fn = 'nllLoss';
  checkOptionNames(options, OPTIONS, fn);
  const reduction = checkReduction(options.reduction, fn);
  const ignoreIndex = checkInteger(options.ignoreIndex, -100, fn, 'options.ignoreIndex');
  const classAxis = checkInteger(options.classAxis, 1, fn, 'options.classAxis');
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
    const weight = options.weight === undefined ? null : readClassWeight(options.weight, layout.classes, fn);
    const screened = screenClassIndices(labels, layout.classes, ignoreIndex, fn);
    const common = { layout, weight, ignoreIndex, reduction, sampleShape };
    // Read on the fused path only (a device backend's composite path never reads them back), once.
    let indices: Float32Array | Int32Array | undefined;
    const loss = fusedLoss(
      [logProbabilities],
      layout,
      (withGradients, [values]) =>
        negativeLogLikelihood({ ...common, logProbabilities: values, target: (indices ??= readValues(screened.tensor)) }, withGradients),
      (withGradients, [x]) => negativeLogLikelihoodComposite({ ...common, logProbabilities: x, target: screened.tensor }, withGradients),
    );
    return poisonInvalid(loss, screened.valid, reduction);
  });
}
