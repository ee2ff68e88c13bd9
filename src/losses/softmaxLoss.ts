import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from '../core/errors';
import { classLayout } from '../core/layout';
import { OPTION, Parsed, Reduction, Schema } from '../core/options';
import { formatShape, TensorInput, toFloatTensor, toNumericTensor } from '../core/tensors';
import { checkClassIndicesOrPoison, checkClassWeight, sameShape, withoutAxis } from '../core/validate';
import type { CrossEntropyIndicesArgs, CrossEntropyProbabilitiesArgs } from '../kernels/args';

/** The options of the losses on a softmax over a class axis: `crossEntropy` and `softmaxFocalLoss`. */
export interface SoftmaxLossOptions {
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

/** The rules of `SoftmaxLossOptions`. */
export const SOFTMAX_LOSS_SCHEMA = {
  weight: OPTION.weight,
  ignoreIndex: OPTION.ignoreIndex,
  reduction: OPTION.reduction,
  labelSmoothing: OPTION.labelSmoothing,
  classAxis: OPTION.classAxis,
} satisfies Schema<SoftmaxLossOptions>;

/** `SoftmaxLossOptions` parsed. */
export type ParsedSoftmaxLossOptions = Parsed<typeof SOFTMAX_LOSS_SCHEMA>;

/** A softmax loss's kernels: one for class-index targets, one for class-probability targets. */
export interface SoftmaxLossKernels {
  indices: (args: CrossEntropyIndicesArgs) => tf.Tensor;
  probabilities: (args: CrossEntropyProbabilitiesArgs) => tf.Tensor;
}

/**
 * With the options parsed, converts the arguments, reads the target as class
 * indices (the input's shape without the class axis; int32, or float32 holding integers) or class
 * probabilities (float32 of the input's shape), checks it, and runs the matching kernel.
 */
export function softmaxLoss(
  input: TensorInput,
  target: TensorInput,
  options: ParsedSoftmaxLossOptions,
  fn: string,
  kernels: SoftmaxLossKernels,
): tf.Tensor {
  const { reduction, ignoreIndex, labelSmoothing, classAxis } = options;
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
      return kernels.probabilities({ ...common, logits, target: labels });
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
    return kernels.indices({ ...common, logits, target: labels, ignoreIndex, poison });
  });
}
