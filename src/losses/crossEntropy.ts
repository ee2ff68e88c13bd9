import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from '../core/errors';
import { classLayout } from '../core/layout';
import { checkInRange, checkInteger, checkOptionNames, checkReduction, Reduction } from '../core/options';
import { formatShape, TensorInput, toFloatTensor, toNumericTensor } from '../core/tensors';
import { checkClassIndicesOrPoison, checkClassWeight, sameShape, withoutAxis } from '../core/validate';
import { crossEntropyIndicesKernel, crossEntropyProbabilitiesKernel } from '../kernels/dispatch';

/** Options of `crossEntropy` (PyTorch: `weight`, `ignore_index`, `reduction`, `label_smoothing`; plus `classAxis`). */
export interface CrossEntropyOptions {
  /** A weight per class, shape `[C]`. */
  weight?: TensorInput;
  /** Targets equal to this index add nothing to the loss or the mean's denominator. Default -100. */
  ignoreIndex?: number;
  /** Default 'mean'. */
  reduction?: Reduction;
  /** ε in [0, 1]: mixes the target with the uniform distribution over the C classes. Default 0. */
  labelSmoothing?: number;
  /** The class axis: 1 as in PyTorch (`[N, C, d1..dk]`), -1 for channels-last. Default 1. */
  classAxis?: number;
}

const OPTIONS = ['weight', 'ignoreIndex', 'reduction', 'labelSmoothing', 'classAxis'] as const;

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
 * crossEntropy(logits, tf.tensor1d([0, 1], 'int32')).print();            // 0.3171...
 * crossEntropy(logits, [0, 1], { labelSmoothing: 0.1 }).print();         // 0.4421...
 * ```
 */
export function crossEntropy(input: TensorInput, target: TensorInput, options: CrossEntropyOptions = {}): tf.Tensor {
  const fn = 'crossEntropy';
  checkOptionNames(options, OPTIONS, fn);
  const reduction = checkReduction(options.reduction, fn);
  const ignoreIndex = checkInteger(options.ignoreIndex, -100, fn, 'options.ignoreIndex');
  const labelSmoothing = checkInRange(options.labelSmoothing, 0, 0, 1, fn, 'options.labelSmoothing');
  const classAxis = checkInteger(options.classAxis, 1, fn, 'options.classAxis');
  return tf.tidy(() => {
    const logits = toFloatTensor(input, fn, 'input');
    const { layout, axis } = classLayout(logits.shape, classAxis, fn);
    const labels = toNumericTensor(target, fn, 'target');
    const weight = options.weight === undefined ? null : checkClassWeight(options.weight, layout.classes, fn);
    const sampleShape = withoutAxis(logits.shape, axis);
    const common = { layout, weight, labelSmoothing, reduction, sampleShape };
    if (sameShape(labels.shape, logits.shape) && !(labels.dtype === 'int32')) {
      if (ignoreIndex >= 0) {
        throw new LossInputError(
          fn,
          'options.ignoreIndex',
          'negative (ignoreIndex is not supported with class-probability targets)',
          String(ignoreIndex),
        );
      }
      return crossEntropyProbabilitiesKernel({ ...common, logits, target: labels });
    }
    if (!sameShape(labels.shape, sampleShape)) {
      throw new LossInputError(
        fn,
        'target',
        `class indices of shape ${formatShape(sampleShape)} or class probabilities (float32) of shape ${formatShape(logits.shape)} (for input of shape ${formatShape(logits.shape)}, class axis ${axis})`,
        `${sameShape(labels.shape, logits.shape) ? 'an int32 tensor (read as class indices) of ' : ''}shape ${formatShape(labels.shape)}`,
      );
    }
    const poison = checkClassIndicesOrPoison(labels, layout.classes, ignoreIndex, fn);
    return crossEntropyIndicesKernel({ ...common, logits, target: labels, ignoreIndex, poison });
  });
}
