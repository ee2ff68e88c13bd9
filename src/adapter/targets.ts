import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from '../core/errors';
import { OPTION, parseOptions, Schema } from '../core/options';
import { formatPosition, readValues, TensorInput, toFloatTensor, toNumericTensor } from '../core/tensors';
import { offTape, poisonInvalid, Screened } from '../core/validate';
import { activeValidation } from '../core/validation';
import { binarySampleCount } from './twoClass';

/** Which binary target values a conversion accepts. */
export interface BinaryTargetRule {
  /** true: only 0 and 1 (class indices); false: any probability in [0, 1] (soft targets). */
  hard: boolean;
  /** A value that marks an ignored sample and is let through, or null when none is allowed. */
  ignoreIndex: number | null;
}

/**
 * Checks binary targets on the host and returns how many equal `ignoreIndex`. A target outside [0, 1]
 * is always a bug (binary cross-entropy on it is unbounded below), so it is rejected, with its position.
 */
export function checkBinaryTargets(
  target: tf.Tensor,
  values: Float32Array | Int32Array,
  rule: BinaryTargetRule,
  functionName: string,
): number {
  let ignored = 0;
  for (let k = 0; k < values.length; k++) {
    const y = values[k];
    if (y === rule.ignoreIndex) {
      ignored++;
      continue;
    }
    const valid = rule.hard ? y === 0 || y === 1 : y >= 0 && y <= 1;
    if (!valid) {
      const allowed = rule.hard ? 'binary class indices 0 or 1' : 'binary targets in [0, 1]';
      const orIgnored = rule.ignoreIndex === null ? '' : ` or ignoreIndex ${rule.ignoreIndex}`;
      throw new LossInputError(functionName, 'target', allowed + orIgnored, `${y} at position ${formatPosition(k, target.shape)}`);
    }
  }
  return ignored;
}

/** Binary targets checked as the active validation mode says (see `ValidationMode`). */
export interface ScreenedBinaryTargets extends Screened {
  /** How many targets equal ignoreIndex when they were read on the host ('sync'); null on the device. */
  ignored: number | null;
}

/**
 * Binary targets checked on the host (`checkBinaryTargets`, which throws) or, in 'device' mode, with
 * tensor ops: each invalid target becomes ignoreIndex (or 0 when there is none), so that nothing reads
 * it as a class, and `valid` marks it for `poisonInvalid`. Call inside `tf.tidy`.
 */
export function screenBinaryTargets(target: tf.Tensor, rule: BinaryTargetRule, functionName: string): ScreenedBinaryTargets {
  if (activeValidation() === 'sync') {
    return { tensor: target, valid: null, ignored: checkBinaryTargets(target, readValues(target), rule, functionName) };
  }
  const valid = offTape(target, (t) => {
    const y = tf.cast(t, 'float32');
    const inRule = rule.hard ? tf.logicalOr(tf.equal(y, 0), tf.equal(y, 1)) : tf.logicalAnd(tf.greaterEqual(y, 0), tf.lessEqual(y, 1));
    return rule.ignoreIndex === null ? inRule : tf.logicalOr(inRule, tf.equal(y, rule.ignoreIndex));
  });
  const replacement = tf.fill(target.shape, rule.ignoreIndex ?? 0, target.dtype);
  return { tensor: tf.where(valid, target, replacement), valid, ignored: null };
}

/** The target value that marks a sample to leave out (default -100), as in PyTorch. */
export interface IgnoreIndexOption {
  /** A target value that marks a sample to ignore; it is passed through unchanged. Default -100, as in `crossEntropy`. */
  ignoreIndex?: number;
}

const IGNORE_INDEX_SCHEMA = { ignoreIndex: OPTION.ignoreIndex } satisfies Schema<IgnoreIndexOption>;

/** Hard binary targets (0, 1 or ignoreIndex), `[N]` or `[N, 1]`, checked on the host and returned as `[N]` of `dtype`. */
function convertHardTargets(
  target: TensorInput,
  options: IgnoreIndexOption,
  dtype: 'int32' | 'float32',
  functionName: string,
): tf.Tensor1D {
  const { ignoreIndex } = parseOptions(IGNORE_INDEX_SCHEMA, options, functionName);
  return tf.tidy(() => {
    const y = toNumericTensor(target, functionName, 'target');
    const n = binarySampleCount(y, functionName, 'target');
    checkBinaryTargets(y, readValues(y), { hard: true, ignoreIndex }, functionName);
    return tf.reshape(tf.cast(y, dtype), [n]) as tf.Tensor1D;
  });
}

/**
 * Binary targets `[N]` or `[N, 1]` holding 0 and 1 (float32, as tfjs-layers passes labels, or int32)
 * as `[N]` int32 class indices for `crossEntropy` on two-class logits. Entries equal to `ignoreIndex`
 * pass through; any other value (a soft target such as 0.3) is rejected: soft targets need
 * `binaryTargetsToTwoClassProbs`. The targets are read back to be checked on every backend (an int32
 * index cannot be marked invalid with NaN): convert labels while preparing data, not in a training step.
 *
 * ```js
 * const indices = binaryTargetsToClassIndices(tf.tensor2d([[1], [0], [-100]]));
 * console.log(indices.dtype, JSON.stringify(indices.arraySync())); // => int32 [1,0,-100]
 * try { binaryTargetsToClassIndices([1, 0.5]); } catch (e) { console.log(e.message); }
 * // => binaryTargetsToClassIndices: argument 'target' must be binary class indices 0 or 1 or ignoreIndex -100, got 0.5 at position [1]
 * ```
 */
export function binaryTargetsToClassIndices(target: TensorInput, options: IgnoreIndexOption = {}): tf.Tensor1D {
  return convertHardTargets(target, options, 'int32', 'binaryTargetsToClassIndices');
}

/**
 * Class indices 0 and 1 (`[N]` or `[N, 1]`, int32 or float32) as `[N]` float32 binary targets for
 * `binaryCrossEntropyWithLogits`. Entries equal to `ignoreIndex` pass through (as a float), so that
 * `classificationLoss` still ignores them; any other index is rejected. Read back to be checked, as above.
 *
 * ```js
 * const targets = classIndicesToBinaryTargets(tf.tensor1d([1, 0, 1], 'int32'));
 * console.log(targets.dtype, JSON.stringify(targets.arraySync())); // => float32 [1,0,1]
 * ```
 */
export function classIndicesToBinaryTargets(indices: TensorInput, options: IgnoreIndexOption = {}): tf.Tensor1D {
  return convertHardTargets(indices, options, 'float32', 'classIndicesToBinaryTargets');
}

/**
 * Binary targets `y` in [0, 1] (`[N]` or `[N, 1]`, hard or soft) as two-class probability targets
 * `[N, 2]`, rows `[1 - y, y]`: one-hot rows for hard targets. `crossEntropy` with these targets on
 * `binaryToTwoClassLogits(z)` is `binaryCrossEntropyWithLogits(z, y)`, also with soft targets and a
 * class weight `[1, pw]` for `posWeight` (probability targets average over N, as BCE does). The
 * gradient flows back to `y` (column 1 minus column 0). The inverse is `twoClassToBinaryProbs`. A target
 * outside [0, 1] throws, or in 'device' validation mode (GPU backends) gives a row of NaN.
 *
 * ```js
 * console.log(JSON.stringify(binaryTargetsToTwoClassProbs(tf.tensor1d([1, 0, 0.25])).arraySync())); // => [[0,1],[1,0],[0.75,0.25]]
 * ```
 */
export function binaryTargetsToTwoClassProbs(target: TensorInput): tf.Tensor2D {
  const fn = 'binaryTargetsToTwoClassProbs';
  return tf.tidy(() => {
    const y = toFloatTensor(target, fn, 'target');
    const n = binarySampleCount(y, fn, 'target');
    const screened = screenBinaryTargets(y, { hard: false, ignoreIndex: null }, fn);
    const column = tf.reshape(screened.tensor, [n, 1]);
    const rows = tf.concat([tf.sub(1, column), column], 1);
    // In 'device' validation mode an invalid target gives a row of NaN (both columns).
    return (screened.valid === null ? rows : poisonInvalid(rows, tf.reshape(screened.valid, [n, 1]), 'none')) as tf.Tensor2D;
  });
}
