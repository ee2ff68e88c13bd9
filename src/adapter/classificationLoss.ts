import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from '../core/errors';
import { classLayout } from '../core/layout';
import { booleanOption, OPTION, Parsed, parseOptions, Reduction, Schema, tensorOption, withDefault } from '../core/options';
import { formatShape, readValues, TensorInput, toFloatTensor, toNumericTensor } from '../core/tensors';
import { checkClassWeight, offTape, poisonInvalid, sameShape } from '../core/validate';
import { BINARY_CROSS_ENTROPY_WITH_LOGITS } from '../losses/binaryCrossEntropyWithLogits';
import { CROSS_ENTROPY } from '../losses/crossEntropy';
import { SIGMOID_FOCAL_LOSS } from '../losses/sigmoidFocalLoss';
import { SOFTMAX_FOCAL_LOSS } from '../losses/softmaxFocalLoss';
import { asCallerErrors } from './errors';
import { screenBinaryTargets, ScreenedBinaryTargets } from './targets';
import { binaryToTwoClassLogits } from './twoClass';

/** Options of `classificationLoss`: how a binary or multiclass head is weighted, smoothed, ignored and reduced. */
export interface ClassificationLossOptions {
  /**
   * Binary heads only: compute the loss as `crossEntropy(binaryToTwoClassLogits(z), y)` instead of
   * `binaryCrossEntropyWithLogits(z, y)`. Same value and gradient; targets must then be 0 or 1
   * (or ignoreIndex). Default false.
   */
  binaryAsTwoClass?: boolean;
  /**
   * A weight per sample, multiplying that sample's loss; the mean's denominator stays the one of the
   * head's own loss (N for a binary head, `Σ w[y]` with class weights). Shape `[N]` (or `[N, 1]` for a
   * binary head); for `[N, C, d1..dk]` logits, the shape of the per-sample loss `[N, d1..dk]`.
   * For a binary head this is BCE's `weight`.
   */
  sampleWeight?: TensorInput;
  /** A weight per class, `[C]`: crossEntropy's `weight`. Binary heads: only with `binaryAsTwoClass` (shape `[2]`). */
  classWeight?: TensorInput;
  /**
   * Binary heads only: the weight of positive targets, BCE's `pos_weight`, a single number. With
   * `binaryAsTwoClass` it becomes the class weight `[1, pw]`, and the mean stays BCE's (over N).
   */
  posWeight?: TensorInput;
  /** Targets equal to this value add nothing, and do not count in the mean. Default -100. */
  ignoreIndex?: number;
  /** Default 'mean'. */
  reduction?: Reduction;
  /**
   * ε in [0, 1], crossEntropy's label smoothing. A binary head (which has no label smoothing in PyTorch)
   * is trained on the targets `(1-ε)·y + ε/2`: cross-entropy's smoothing of its two-class form, and
   * Keras' `binaryCrossentropy(labelSmoothing)`. Default 0.
   */
  labelSmoothing?: number;
  /** Multiclass heads: the class axis, 1 as in PyTorch (`[N, C, d1..dk]`), -1 for channels-last. Default 1. */
  classAxis?: number;
  /**
   * γ >= 0: train with focal loss, which scales each sample's loss by `(1 - p_t)^γ` (`sigmoidFocalLoss`
   * for a binary head, `softmaxFocalLoss` for a multiclass head, on the same path as without it). Default 0,
   * the plain loss.
   */
  focalGamma?: number;
  /**
   * Binary heads only: focal loss's α, the weight of positive targets (negative ones get 1 - α), at most 1,
   * as `sigmoidFocalLoss`'s `alpha`; with `binaryAsTwoClass` the class weight `[1 - α, α]`. Default: none
   * (a negative α, as in torchvision). A multiclass head takes per-class α as `classWeight`.
   */
  focalAlpha?: number;
}

const SCHEMA = {
  binaryAsTwoClass: booleanOption(false),
  sampleWeight: tensorOption(),
  classWeight: tensorOption(),
  posWeight: tensorOption(),
  ignoreIndex: OPTION.ignoreIndex,
  reduction: OPTION.reduction,
  labelSmoothing: OPTION.labelSmoothing,
  classAxis: OPTION.classAxis,
  focalGamma: withDefault(OPTION.gamma, 0),
  focalAlpha: withDefault(OPTION.alpha, -1),
} satisfies Schema<ClassificationLossOptions>;

/** The options of `classificationLoss`, parsed: what the layers losses, which parse their own, pass to `classificationLossWith`. */
export type ClassificationSettings = Parsed<typeof SCHEMA>;

/** The settings of `classificationLoss({})`, for entries that set only some of them. */
export const DEFAULT_CLASSIFICATION_SETTINGS: ClassificationSettings = parseOptions(SCHEMA, {}, 'classificationLoss');

const FN = 'classificationLoss';
/** The names under which lower-level losses report this function's arguments. */
const ARGUMENT_NAMES = { input: 'logits', 'options.weight': 'options.classWeight' };

/**
 * One loss for binary and multiclass classification heads: `[N]` or `[N, 1]` logits of a binary head
 * with binary targets, or `[N, C]` (`[N, C, d1..dk]`) logits with class indices or class probabilities.
 * It gives the value and the gradients of the head's own PyTorch loss:
 *
 *     binary head:      binaryCrossEntropyWithLogits(z, y, {weight: sampleWeight, posWeight})
 *                       sigmoidFocalLoss(z, y, {alpha: focalAlpha, gamma: focalGamma})    (with focal options)
 *     multiclass head:  crossEntropy(z, y, {weight: classWeight, ignoreIndex, labelSmoothing, classAxis})
 *                       softmaxFocalLoss(z, y, {..., gamma: focalGamma})                 (with focalGamma)
 *
 * With `binaryAsTwoClass: true` a binary head goes through the multiclass path as two-class logits
 * `[0, z]` and class indices `y`, with the same value and gradient, because for binary logits
 *
 *     BCEWithLogits(z, y) = CE([0, z], y)     and     d/dz BCEWithLogits = σ(z) - y = d/dz CE([0, z], y)[1]
 *     sigmoidFocalLoss(z, y, {alpha, gamma}) = softmaxFocalLoss([0, z], y, {weight: [1 - alpha, alpha], gamma})
 *
 * Options carry over exactly, for every reduction: `sampleWeight` multiplies each sample's loss (the
 * mean's denominator is unchanged); `posWeight` (and `focalAlpha`) become the class weight `[1, pw]`
 * (`[1 - α, α]`), and the mean stays the binary head's, over the N samples kept (cross-entropy's would
 * divide by `Σ w[y]`); `ignoreIndex` drops a sample on both paths (BCE has none in PyTorch: the binary
 * path masks it and divides by the samples kept, as cross-entropy does); `labelSmoothing` smooths binary
 * targets to `(1-ε)·y + ε/2`, which is cross-entropy's smoothing of `[0, z]`. 'none' returns one loss per
 * sample: `[N]` for every binary head, the shape of the logits without the class axis otherwise.
 *
 * ```js
 * const z = tf.tensor1d([2, -1, 0.5]);
 * const y = tf.tensor1d([1, 0, 0]);
 * const show = (loss) => console.log(loss.dataSync()[0].toFixed(4));
 * show(classificationLoss(z, y));                                              // => 0.4714
 * show(classificationLoss(z, y, { binaryAsTwoClass: true }));                  // => 0.4714
 * show(classificationLoss(z, y, { posWeight: 3, reduction: 'sum' }));          // => 1.6681
 * show(classificationLoss(z, y, { focalGamma: 2, focalAlpha: 0.25 }));         // => 0.1002
 * show(classificationLoss(tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]), [0, 1]));  // => 0.3171
 * ```
 */
export function classificationLoss(logits: TensorInput, target: TensorInput, options: ClassificationLossOptions = {}): tf.Tensor {
  return classificationLossWith(logits, target, parseOptions(SCHEMA, options, FN));
}

/** `classificationLoss` with its options already parsed (by the layers losses). */
export function classificationLossWith(logits: TensorInput, target: TensorInput, settings: ClassificationSettings): tf.Tensor {
  return asCallerErrors(FN, ARGUMENT_NAMES, () =>
    tf.tidy(() => {
      const z = toFloatTensor(logits, FN, 'logits');
      if (isBinaryHead(z, settings.classAxis)) return binaryHeadLoss(z, target, settings);
      const binaryOnly = (name: string, instead: string) =>
        new LossInputError(
          FN,
          `options.${name}`,
          `absent for a multiclass head (it weights the positive target of a binary head; use ${instead})`,
          `logits of shape ${formatShape(z.shape)}`,
        );
      if (settings.posWeight !== undefined) throw binaryOnly('posWeight', 'classWeight');
      if (settings.focalAlpha >= 0) throw binaryOnly('focalAlpha', "classWeight, each class's alpha");
      return multiclassLoss(z, target, settings);
    }),
  );
}

/** `[N]`, or `[N, 1]` with the class axis at 1; a unit class axis on any other shape is refused as ambiguous. */
function isBinaryHead(z: tf.Tensor, classAxis: number): boolean {
  if (z.rank === 1) return true;
  if (z.rank === 0) {
    throw new LossInputError(FN, 'logits', 'binary logits [N] or [N, 1], or class logits [N, C] or [N, C, d1, ..., dk]', 'a scalar');
  }
  const { layout, axis } = classLayout(z.shape, classAxis, FN);
  if (layout.classes !== 1) return false;
  if (z.rank === 2 && axis === 1) return true;
  throw new LossInputError(
    FN,
    'logits',
    'binary logits [N] or [N, 1], or class logits with at least 2 classes (one class would always give a loss of 0)',
    `shape ${formatShape(z.shape)} with a class axis of size 1 (reshape a per-element binary head to [N])`,
  );
}

/** A per-sample tensor of a binary head, `[n]` or `[n, 1]`, as `[n]`. */
function binaryColumn(t: tf.Tensor, n: number, argument: string): tf.Tensor1D {
  if ((t.rank === 1 || (t.rank === 2 && t.shape[1] === 1)) && t.shape[0] === n) return tf.reshape(t, [n]);
  throw new LossInputError(
    FN,
    argument,
    `shape [${n}] or [${n}, 1] (one value per logit of the binary head)`,
    `shape ${formatShape(t.shape)}`,
  );
}

/** posWeight as the single number it must be for a binary head. */
function readPosWeight(posWeight: TensorInput): number {
  const pw = toFloatTensor(posWeight, FN, 'options.posWeight');
  if (pw.size !== 1 || pw.rank > 1) {
    throw new LossInputError(
      FN,
      'options.posWeight',
      'a single number (a scalar or shape [1]) for a binary head',
      `shape ${formatShape(pw.shape)}`,
    );
  }
  return readValues(pw)[0];
}

function binaryHeadLoss(z: tf.Tensor, target: TensorInput, settings: ClassificationSettings): tf.Tensor {
  const { ignoreIndex, reduction, labelSmoothing, focalGamma, focalAlpha } = settings;
  const n = z.shape[0];
  const logits = tf.reshape(z, [n]);
  const labels = binaryColumn(toNumericTensor(target, FN, 'target'), n, 'target');
  const sampleWeight =
    settings.sampleWeight === undefined
      ? undefined
      : binaryColumn(toFloatTensor(settings.sampleWeight, FN, 'options.sampleWeight'), n, 'options.sampleWeight');
  const posWeight = settings.posWeight === undefined ? undefined : readPosWeight(settings.posWeight);
  const focal = focalGamma > 0 || focalAlpha >= 0;
  if (focal && posWeight !== undefined) {
    throw new LossInputError(
      FN,
      'options.posWeight',
      'absent with focalGamma or focalAlpha (focal loss weights positive targets with focalAlpha)',
      String(posWeight),
    );
  }
  if (settings.binaryAsTwoClass) return twoClassHeadLoss(logits, labels, sampleWeight, posWeight, settings);

  if (settings.classWeight !== undefined) {
    throw new LossInputError(
      FN,
      'options.classWeight',
      'absent for a binary head unless binaryAsTwoClass is true (BCE has no class weight: use posWeight)',
      'a class weight',
    );
  }
  const screened = screenBinaryTargets(labels, { hard: false, ignoreIndex }, FN);
  const floatLabels = tf.cast(screened.tensor, 'float32');
  const smoothed = labelSmoothing > 0 ? tf.add(tf.mul(floatLabels, 1 - labelSmoothing), labelSmoothing / 2) : floatLabels;
  const binaryLoss = (y: tf.Tensor, weight: tf.Tensor | undefined, r: Reduction) =>
    focal
      ? weightAndReduce(SIGMOID_FOCAL_LOSS.run(logits, y, { alpha: focalAlpha, gamma: focalGamma, reduction: 'none' }), weight, r)
      : BINARY_CROSS_ENTROPY_WITH_LOGITS.run(logits, y, { weight, posWeight, reduction: r });
  if (screened.ignored === 0) return binaryLoss(smoothed, sampleWeight, reduction);
  // PyTorch's BCE cannot ignore a sample: give it weight 0 and a harmless target, then average over the rest.
  const kept = offTape(screened.tensor, (y) => tf.notEqual(y, ignoreIndex));
  const keptWeight = tf.cast(kept, 'float32');
  const weight = sampleWeight === undefined ? keptWeight : tf.mul(sampleWeight, keptWeight);
  const keptTargets = tf.where(kept, smoothed, tf.zerosLike(smoothed));
  const loss =
    reduction === 'mean'
      ? meanOver(binaryLoss(keptTargets, weight, 'sum'), keptCount(screened, ignoreIndex))
      : binaryLoss(keptTargets, weight, reduction);
  return poisonInvalid(loss, screened.valid, reduction);
}

/**
 * The binary head through cross-entropy (or softmax focal loss) on `[0, z]`: posWeight and focalAlpha
 * become the class weights `[1, pw]` and `[1 - α, α]`, and 'mean' divides by the samples kept, as the
 * binary head's loss does, where cross-entropy would divide by `Σ w[y]`.
 */
function twoClassHeadLoss(
  logits: tf.Tensor,
  labels: tf.Tensor,
  sampleWeight: tf.Tensor | undefined,
  posWeight: number | undefined,
  settings: ClassificationSettings,
): tf.Tensor {
  const { ignoreIndex, reduction, labelSmoothing, focalGamma, focalAlpha } = settings;
  const headWeight = posWeight !== undefined ? [1, posWeight] : focalAlpha >= 0 ? [1 - focalAlpha, focalAlpha] : undefined;
  if (headWeight !== undefined && settings.classWeight !== undefined) {
    throw new LossInputError(
      FN,
      posWeight !== undefined ? 'options.posWeight' : 'options.focalAlpha',
      'absent when classWeight is given (posWeight pw is the class weight [1, pw], focalAlpha α the class weight [1 - α, α])',
      String(posWeight ?? focalAlpha),
    );
  }
  if (labelSmoothing > 0 && (focalGamma > 0 || focalAlpha >= 0)) {
    throw new LossInputError(
      FN,
      'options.labelSmoothing',
      '0 with focalGamma or focalAlpha when binaryAsTwoClass is true (smoothed targets are soft, and for soft targets the binary ' +
        "head's focal loss differs from its two-class form; use binaryAsTwoClass: false)",
      String(labelSmoothing),
    );
  }
  const screened = screenBinaryTargets(labels, { hard: true, ignoreIndex }, FN);
  const twoClass = { ...settings, classWeight: headWeight ?? settings.classWeight, sampleWeight, classAxis: 1 };
  const loss = (r: Reduction) =>
    multiclassLoss(binaryToTwoClassLogits(logits), tf.cast(screened.tensor, 'int32'), { ...twoClass, reduction: r });
  const value =
    headWeight !== undefined && reduction === 'mean' ? meanOver(loss('sum'), keptCount(screened, ignoreIndex)) : loss(reduction);
  return poisonInvalid(value, screened.valid, reduction);
}

/**
 * crossEntropy, or softmaxFocalLoss when focalGamma > 0, with per-sample weights applied to its 'none'
 * output when there are any. The mean's denominator is then the loss's own: `Σ w[y]` over the targets
 * kept (their number without class weights), or the number of samples for probability targets.
 * Computed with tensor ops, so that the targets are not read back.
 */
function multiclassLoss(z: tf.Tensor, target: TensorInput, settings: ClassificationSettings): tf.Tensor {
  const { ignoreIndex, reduction, labelSmoothing, classAxis, classWeight, focalGamma } = settings;
  const options = { weight: classWeight, ignoreIndex, labelSmoothing, classAxis };
  const softmaxLoss = (r: Reduction) =>
    focalGamma > 0
      ? SOFTMAX_FOCAL_LOSS.run(z, target, { ...options, reduction: r, gamma: focalGamma })
      : CROSS_ENTROPY.run(z, target, { ...options, reduction: r });
  if (settings.sampleWeight === undefined) return softmaxLoss(reduction);
  const perSample = softmaxLoss('none');
  const sampleWeight = toFloatTensor(settings.sampleWeight, FN, 'options.sampleWeight');
  if (!sameShape(sampleWeight.shape, perSample.shape)) {
    throw new LossInputError(
      FN,
      'options.sampleWeight',
      `shape ${formatShape(perSample.shape)} (one weight per sample)`,
      `shape ${formatShape(sampleWeight.shape)}`,
    );
  }
  const weighted = tf.mul(perSample, sampleWeight);
  if (reduction === 'none') return weighted;
  const total = tf.sum(weighted);
  if (reduction === 'sum') return total;
  const labels = toNumericTensor(target, FN, 'target');
  // crossEntropy's rule: a float32 target of the input's shape holds probabilities, and the mean is over samples.
  if (sameShape(labels.shape, z.shape) && labels.dtype !== 'int32') return meanOver(total, perSample.size);
  const indices = offTape(labels, (y) => tf.cast(y, 'int32'));
  const kept = offTape(labels, (y) => tf.notEqual(y, ignoreIndex));
  const keptWeight = tf.cast(kept, 'float32');
  if (classWeight === undefined) return meanOver(total, tf.sum(keptWeight));
  const { layout } = classLayout(z.shape, classAxis, FN);
  const weights = checkClassWeight(classWeight, layout.classes, FN);
  // An ignored target may hold any integer: look up class 0 for it, then drop it.
  const targetWeight = tf.mul(tf.gather(weights, tf.where(kept, indices, tf.zerosLike(indices))), keptWeight);
  return meanOver(total, tf.sum(targetWeight));
}

/** The number of binary targets kept (not ignoreIndex): counted on the host when they were read, else with tensor ops. */
function keptCount(screened: ScreenedBinaryTargets, ignoreIndex: number): tf.Tensor | number {
  if (screened.ignored !== null) return screened.tensor.size - screened.ignored;
  return tf.sum(
    tf.cast(
      offTape(screened.tensor, (y) => tf.notEqual(y, ignoreIndex)),
      'float32',
    ),
  );
}

/** Per-sample losses times `weight` (when given), reduced; the mean over all samples. */
function weightAndReduce(perSample: tf.Tensor, weight: tf.Tensor | undefined, reduction: Reduction): tf.Tensor {
  const weighted = weight === undefined ? perSample : tf.mul(perSample, weight);
  return reduction === 'none' ? weighted : reduction === 'sum' ? tf.sum(weighted) : meanOver(tf.sum(weighted), weighted.size);
}

/**
 * `total / denominator`. A mean over nothing (denominator 0) is NaN, as 0/0 in PyTorch, with a zero
 * gradient: the NaN is a constant branch of `tf.where`, and the divisor of the other branch is made 1,
 * so that no 0·∞ reaches the gradient.
 */
function meanOver(total: tf.Tensor, denominator: tf.Tensor | number): tf.Tensor {
  const d = typeof denominator === 'number' ? tf.scalar(denominator) : denominator;
  const nonZero = offTape(d, (v) => tf.greater(v, 0));
  return tf.where(nonZero, tf.div(total, tf.where(nonZero, d, tf.onesLike(d))), tf.scalar(NaN));
}
