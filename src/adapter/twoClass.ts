import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from '../core/errors';
import { formatShape, TensorInput, toFloatTensor } from '../core/tensors';
import { twoClassLogits } from '../kernels/dispatch';

/**
 * The number of samples of a binary head, `[N]` or `[N, 1]`, or a LossInputError naming `argument`.
 * Shared by the adapter and `classificationLoss`, which accept both shapes for logits and targets.
 */
export function binarySampleCount(t: tf.Tensor, functionName: string, argument: string): number {
  if (t.rank === 1 || (t.rank === 2 && t.shape[1] === 1)) return t.shape[0];
  throw new LossInputError(
    functionName,
    argument,
    'a binary tensor of shape [N] or [N, 1] (one value per sample)',
    `shape ${formatShape(t.shape)}`,
  );
}

/** A two-class tensor `[N, 2]` (one row per sample, one column per class), or a LossInputError naming `argument`. */
function checkTwoClass(t: tf.Tensor, functionName: string, argument: string): number {
  if (t.rank === 2 && t.shape[1] === 2) return t.shape[0];
  throw new LossInputError(
    functionName,
    argument,
    'a two-class tensor of shape [N, 2] (class 0 in column 0, class 1 in column 1)',
    `shape ${formatShape(t.shape)}`,
  );
}

/**
 * The two-class logits of a binary head: `[N]` or `[N, 1]` logits `z` become `[N, 2]` rows `[0, z]`.
 *
 * Softmax is unchanged by adding a constant to a row, so `[0, z]` is the canonical two-class form of
 * `σ(z)`: `softmax([0, z])[1] = σ(z)`, and cross-entropy on it is binary cross-entropy with logits,
 * value and gradient (`dCE/dz = σ(z) - y`). The zero column is a constant: the gradient with respect
 * to `z` is the gradient of column 1. Exact in float32 (no arithmetic on `z`).
 *
 * ```js
 * const z = tf.tensor1d([1.5, -2]);
 * console.log(JSON.stringify(binaryToTwoClassLogits(z).arraySync()));                     // => [[0,1.5],[0,-2]]
 * console.log(crossEntropy(binaryToTwoClassLogits(z), [1, 0]).dataSync()[0].toFixed(4)); // => 0.1642
 * console.log(binaryCrossEntropyWithLogits(z, [1, 0]).dataSync()[0].toFixed(4));         // => 0.1642
 * ```
 */
export function binaryToTwoClassLogits(logits: TensorInput): tf.Tensor2D {
  const fn = 'binaryToTwoClassLogits';
  return tf.tidy(() => {
    const z = toFloatTensor(logits, fn, 'logits');
    return twoClassLogits(z, binarySampleCount(z, fn, 'logits'));
  });
}

/**
 * The binary logit of a two-class head: `[N, 2]` logits become `[N]` logits `z[:, 1] - z[:, 0]`, the
 * log-odds of class 1. `σ(z1 - z0) = softmax(z)[1]`, so binary cross-entropy with logits on the result
 * equals cross-entropy on `z`, value and gradient (the gradient is `+g` for column 1, `-g` for column 0).
 * One float32 rounding, in the subtraction.
 *
 * ```js
 * console.log(JSON.stringify(twoClassToBinaryLogits(tf.tensor2d([[0.5, 2], [1, -1]])).arraySync())); // => [1.5,-2]
 * ```
 */
export function twoClassToBinaryLogits(logits: TensorInput): tf.Tensor1D {
  const fn = 'twoClassToBinaryLogits';
  return tf.tidy(() => {
    const z = toFloatTensor(logits, fn, 'logits');
    const n = checkTwoClass(z, fn, 'logits');
    const [z0, z1] = tf.split(z, 2, 1);
    return tf.reshape(tf.sub(z1, z0), [n]) as tf.Tensor1D;
  });
}

/**
 * The probability of class 1 from two-class probabilities: `[N, 2]` becomes `[N]`, `p[:, 1]`. Use it
 * on a softmax output (a prediction) or on two-class probability targets; the gradient goes to column 1.
 * It does not check that rows sum to 1: column 0 is simply not read.
 *
 * ```js
 * console.log(JSON.stringify(twoClassToBinaryProbs(tf.tensor2d([[0.25, 0.75], [0.875, 0.125]])).arraySync())); // => [0.75,0.125]
 * ```
 */
export function twoClassToBinaryProbs(probabilities: TensorInput): tf.Tensor1D {
  const fn = 'twoClassToBinaryProbs';
  return tf.tidy(() => {
    const p = toFloatTensor(probabilities, fn, 'probabilities');
    const n = checkTwoClass(p, fn, 'probabilities');
    return tf.reshape(tf.slice(p, [0, 1], [n, 1]), [n]) as tf.Tensor1D;
  });
}
