import * as tf from '@tensorflow/tfjs-core';
import { ClassificationSettings, classificationLossWith, DEFAULT_CLASSIFICATION_SETTINGS } from '../adapter/classificationLoss';
import { asCallerErrors } from '../adapter/errors';
import { LossInputError } from '../core/errors';
import { classLayout } from '../core/layout';
import { booleanOption, numberOption, OPTION, parseOptions, Schema, withDefault } from '../core/options';
import { formatShape } from '../core/tensors';
import { sameShape, withoutAxis } from '../core/validate';

/**
 * A loss for `model.compile({loss})`: tfjs-layers calls it with the labels and the model's output and
 * expects one loss per sample, which it multiplies by `fit`'s class weights and then averages.
 */
export type LayersLoss = (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Tensor;

/** Options of `binaryCrossEntropyWithLogitsLoss` for `model.compile`. */
export interface BinaryLayersLossOptions {
  /** The weight of positive labels, as BCE's `pos_weight`. Default 1. */
  posWeight?: number;
  /** ε in [0, 1]: train on labels `(1-ε)·y + ε/2`. Default 0. */
  labelSmoothing?: number;
  /** Labels equal to this value give a loss of 0. Default -100. */
  ignoreIndex?: number;
}

/** Options of `categoricalCrossEntropyLoss` for `model.compile`. */
export interface CategoricalLayersLossOptions {
  /** ε in [0, 1], crossEntropy's label smoothing. Default 0. */
  labelSmoothing?: number;
  /** The class axis of the logits: -1 (channels-last, tfjs-layers' layout) by default. */
  classAxis?: number;
}

/** Options of `sparseCategoricalCrossEntropyLoss` for `model.compile`. */
export interface SparseLayersLossOptions extends CategoricalLayersLossOptions {
  /** Labels equal to this value give a loss of 0. Default -100. */
  ignoreIndex?: number;
}

/** Options of `binaryFocalLoss` for `model.compile`: `sigmoidFocalLoss`'s, and the labels' handling. */
export interface BinaryFocalLayersLossOptions {
  /** The weight α of positive labels (negative ones get 1 - α), at most 1; a negative α turns it off. Default 0.25, as torchvision. */
  alpha?: number;
  /** γ >= 0: each sample's loss is scaled by `(1 - p_t)^γ`. Default 2. */
  gamma?: number;
  /** ε in [0, 1]: train on labels `(1-ε)·y + ε/2`. Default 0. */
  labelSmoothing?: number;
  /** Labels equal to this value give a loss of 0. Default -100. */
  ignoreIndex?: number;
}

/** Options of `categoricalFocalLoss` for `model.compile`. */
export interface CategoricalFocalLayersLossOptions extends CategoricalLayersLossOptions {
  /** γ >= 0: each sample's loss is scaled by `(1 - p)^γ`. Default 2. */
  gamma?: number;
}

/** Options of `sparseCategoricalFocalLoss` for `model.compile`. */
export interface SparseFocalLayersLossOptions extends SparseLayersLossOptions {
  /** γ >= 0: each sample's loss is scaled by `(1 - p)^γ`. Default 2. */
  gamma?: number;
}

/** Options of `classificationLossFn` for `model.compile`. */
export interface ClassificationLayersLossOptions {
  /** Route a one-unit head through crossEntropy on `[0, z]`: same value and gradient. Default false. */
  binaryAsTwoClass?: boolean;
  /** One-unit heads only: the weight of positive labels. */
  posWeight?: number;
  labelSmoothing?: number;
  ignoreIndex?: number;
  /** γ >= 0: focal loss, as `classificationLoss`'s `focalGamma`. Default 0 (none). */
  focalGamma?: number;
  /** One-unit heads only: focal loss's α, as `classificationLoss`'s `focalAlpha`. Default: none. */
  focalAlpha?: number;
}

/** The rules of the layers losses' options: `classificationLoss`'s, channels-last, with posWeight a number. */
const LAYERS_OPTION = {
  posWeight: numberOption(undefined, { finite: true }),
  labelSmoothing: OPTION.labelSmoothing,
  ignoreIndex: OPTION.ignoreIndex,
  classAxis: withDefault(OPTION.classAxis, -1),
  gamma: OPTION.gamma,
  alpha: OPTION.alpha,
} as const;

const CATEGORICAL_SCHEMA = {
  labelSmoothing: LAYERS_OPTION.labelSmoothing,
  classAxis: LAYERS_OPTION.classAxis,
} satisfies Schema<CategoricalLayersLossOptions>;

const SPARSE_SCHEMA = {
  labelSmoothing: LAYERS_OPTION.labelSmoothing,
  ignoreIndex: LAYERS_OPTION.ignoreIndex,
  classAxis: LAYERS_OPTION.classAxis,
} satisfies Schema<SparseLayersLossOptions>;

/** The focal variant of a multiclass layers loss: its options and focal loss's `gamma`. */
function focalVariant(
  schema: typeof SPARSE_SCHEMA | typeof CATEGORICAL_SCHEMA,
  options: unknown,
  functionName: string,
  loss: (functionName: string, settings: ClassificationSettings) => LayersLoss,
): LayersLoss {
  const { gamma, ...rest } = parseOptions({ ...schema, gamma: LAYERS_OPTION.gamma }, options, functionName);
  return loss(functionName, perSample({ ...rest, focalGamma: gamma }));
}

/** `classificationLoss`'s settings for a layers loss: one loss per sample, and `settings`. */
function perSample(settings: Partial<ClassificationSettings>): ClassificationSettings {
  return { ...DEFAULT_CLASSIFICATION_SETTINGS, ...settings, reduction: 'none' };
}

/** A layers loss reports its errors under its own name, calling the model output `yPred` and the labels `yTrue`. */
const LAYERS_ARGUMENTS = { logits: 'yPred', input: 'yPred', target: 'yTrue' };

/**
 * Runs the body of a layers loss, reporting the errors of the losses it calls as its own (see
 * `LAYERS_ARGUMENTS`). tfjs-layers calls the loss on one batch at a time, so a position in `yTrue` or
 * `yPred` is a position within that batch, not in the data given to `fit`: the message says so.
 */
function asLayersErrors<T>(functionName: string, body: () => T): T {
  try {
    return asCallerErrors(functionName, LAYERS_ARGUMENTS, body);
  } catch (e) {
    if (!(e instanceof LossInputError)) throw e;
    const actual = e.actual.replace(/ at position (\[[\d, ]*\])/, ' at position $1 within the batch');
    throw new LossInputError(e.functionName, e.argument, e.expected, actual);
  }
}

/**
 * The loss of a one-unit logit head, `[batch, 1]` (or `[batch]`), or an error that points to the
 * multiclass losses.
 */
function oneUnitLoss(functionName: string, settings: ClassificationSettings): LayersLoss {
  return (yTrue, yPred) =>
    asLayersErrors(functionName, () => {
      if (!(yPred.rank === 1 || (yPred.rank === 2 && yPred.shape[1] === 1))) {
        throw new LossInputError(
          functionName,
          'yPred',
          'the logits of a one-unit binary head, [batch, 1] (for C units use sparseCategoricalCrossEntropyLoss or categoricalCrossEntropyLoss)',
          `shape ${formatShape(yPred.shape)}`,
        );
      }
      return classificationLossWith(yPred, yTrue, settings);
    });
}

/** The class axis of multiclass logits and its size, refusing a one-unit head. */
function multiclassAxis(yPred: tf.Tensor, classAxis: number, functionName: string): number {
  if (yPred.rank < 2) {
    throw new LossInputError(
      functionName,
      'yPred',
      'class logits [batch, C] (or [batch, d1, ..., C])',
      `shape ${formatShape(yPred.shape)}`,
    );
  }
  const { layout, axis } = asCallerErrors(functionName, LAYERS_ARGUMENTS, () => classLayout(yPred.shape, classAxis, functionName));
  if (layout.classes < 2) {
    throw new LossInputError(
      functionName,
      'yPred',
      'class logits with at least 2 units (a one-unit head is binary: use binaryCrossEntropyWithLogitsLoss, or add a BinaryAsTwoClass layer)',
      `shape ${formatShape(yPred.shape)}`,
    );
  }
  return axis;
}

/**
 * Class-index labels for logits with their class axis at `axis`: the logits' shape without that axis,
 * or with it of size 1 (the `[batch, 1]` labels that `fit` makes of a `[batch]` array). One-hot labels
 * are refused here: the categorical loss takes them.
 */
function indexLabels(yTrue: tf.Tensor, yPred: tf.Tensor, axis: number, functionName: string): tf.Tensor {
  const sampleShape = withoutAxis(yPred.shape, axis);
  if (sameShape(yTrue.shape, sampleShape)) return yTrue;
  if (yTrue.rank === yPred.rank && yTrue.shape[axis] === 1 && sameShape(withoutAxis(yTrue.shape, axis), sampleShape))
    return tf.squeeze(yTrue, [axis]);
  const keptUnit = [...sampleShape];
  keptUnit.splice(axis, 0, 1);
  throw new LossInputError(
    functionName,
    'yTrue',
    `class indices of shape ${formatShape(sampleShape)} or ${formatShape(keptUnit)} for logits of shape ${formatShape(yPred.shape)} (for one-hot labels use categoricalCrossEntropyLoss)`,
    `shape ${formatShape(yTrue.shape)}`,
  );
}

/**
 * For labels shaped like class indices (`[batch]` or `[batch, 1]` for `[batch, C]` logits) given where
 * one-hot labels belong, how to fix it; otherwise nothing. tfjs-layers' `fit` wants labels of the
 * output's shape, so with `fit` the indices must become one-hot labels; `fitDataset` takes them as they are.
 */
function classIndexHint(yTrue: tf.Tensor, yPred: tf.Tensor, axis: number): string {
  const sampleShape = withoutAxis(yPred.shape, axis);
  const withoutClassAxis = sameShape(yTrue.shape, sampleShape);
  const unitClassAxis = yTrue.rank === yPred.rank && yTrue.shape[axis] === 1 && sameShape(withoutAxis(yTrue.shape, axis), sampleShape);
  if (!withoutClassAxis && !unitClassAxis) return '';
  const classes = yPred.shape[axis];
  const oneHot =
    axis !== yPred.rank - 1
      ? `tf.oneHot, with the classes moved to axis ${axis}`
      : `tf.oneHot(${withoutClassAxis ? 'labels' : 'tf.squeeze(labels, [-1])'}.toInt(), ${classes})`;
  return (
    `, which looks like class indices: one-hot encode them (${oneHot}), as tfjs-layers' fit wants labels of the model output's shape, ` +
    'or keep them and train with sparseCategoricalCrossEntropyLoss through fitDataset or a custom training loop'
  );
}

/**
 * Binary cross-entropy with logits for a one-unit logit head (`dense({units: 1})` with no sigmoid):
 * `(1-y)·softplus(z) + pw·y·softplus(-z)` per sample, exactly PyTorch's `BCEWithLogitsLoss(reduction='none')`.
 * Labels are the `[batch, 1]` floats `fit` passes, in [0, 1]; any other value is an error (tfjs-layers'
 * `binaryCrossentropy` takes probabilities, clips them and has a zero gradient outside the clip).
 *
 * ```js
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4], kernelInitializer: 'zeros' })] });
 * model.compile({ optimizer: 'sgd', loss: binaryCrossEntropyWithLogitsLoss({ posWeight: 2 }) });
 * // Logits 0: the loss is ln 2, doubled for the positive label; (2·ln 2 + ln 2) / 2:
 * console.log(model.evaluate(tf.ones([2, 4]), tf.tensor2d([[1], [0]])).dataSync()[0].toFixed(4)); // => 1.0397
 * const perSample = binaryCrossEntropyWithLogitsLoss()(tf.tensor2d([[1], [0]]), tf.tensor2d([[2], [0.5]]));
 * console.log(Array.from(perSample.dataSync(), (v) => v.toFixed(4)).join(', ')); // => 0.1269, 0.9741
 * ```
 */
export function binaryCrossEntropyWithLogitsLoss(options: BinaryLayersLossOptions = {}): LayersLoss {
  const fn = 'binaryCrossEntropyWithLogitsLoss';
  const schema = {
    posWeight: LAYERS_OPTION.posWeight,
    labelSmoothing: LAYERS_OPTION.labelSmoothing,
    ignoreIndex: LAYERS_OPTION.ignoreIndex,
  } satisfies Schema<BinaryLayersLossOptions>;
  return oneUnitLoss(fn, perSample(parseOptions(schema, options, fn)));
}

/**
 * Focal loss for a one-unit logit head, one loss per sample, exactly torchvision's
 * `sigmoid_focal_loss(reduction='none')` (see `sigmoidFocalLoss`): binary cross-entropy with logits scaled
 * by `α_t·(1 - p_t)^γ`, which trains on the hard, often rare, samples. Labels are the `[batch, 1]` floats
 * `fit` passes, in [0, 1]. Keras' `BinaryFocalCrossentropy(fromLogits: true, applyClassBalancing: true)`.
 *
 * ```js
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4] })] });
 * model.compile({ optimizer: 'adam', loss: binaryFocalLoss({ alpha: 0.25, gamma: 2 }) });
 * const perSample = binaryFocalLoss()(tf.tensor2d([[1], [0]]), tf.tensor2d([[2], [0.5]]));
 * console.log(Array.from(perSample.dataSync(), (v) => v.toFixed(4)).join(', ')); // => 0.0005, 0.2831
 * ```
 */
export function binaryFocalLoss(options: BinaryFocalLayersLossOptions = {}): LayersLoss {
  const fn = 'binaryFocalLoss';
  const schema = {
    alpha: LAYERS_OPTION.alpha,
    gamma: LAYERS_OPTION.gamma,
    labelSmoothing: LAYERS_OPTION.labelSmoothing,
    ignoreIndex: LAYERS_OPTION.ignoreIndex,
  } satisfies Schema<BinaryFocalLayersLossOptions>;
  const { alpha, gamma, labelSmoothing, ignoreIndex } = parseOptions(schema, options, fn);
  return oneUnitLoss(fn, perSample({ focalAlpha: alpha, focalGamma: gamma, labelSmoothing, ignoreIndex }));
}

/**
 * Cross-entropy for a multiclass logit head (`dense({units: C})` with no softmax) and class-index labels,
 * one loss per sample, exactly PyTorch's `CrossEntropyLoss(reduction='none')`. Channels-last: logits
 * `[batch, C]` or `[batch, d1, ..., C]`; labels `[batch]` or `[batch, 1]` floats (with dense logits,
 * `[batch, d1, ...]` or `[batch, d1, ..., 1]`). An out-of-range label is an error, not a loss of 0 as
 * with tfjs-layers' `sparseCategoricalCrossentropy`, which also clips the logits.
 *
 * tfjs-layers' `fit`, `evaluate` and `trainOnBatch` refuse labels whose shape differs from the output's
 * for every loss but their own sparse one (they compare the loss function by identity), so with this
 * loss feed class indices through `fitDataset` / `evaluateDataset` or a custom training loop; with `fit`,
 * pass one-hot labels to `categoricalCrossEntropyLoss` (the same loss, value and gradient).
 *
 * ```js
 * const perSample = sparseCategoricalCrossEntropyLoss()(tf.tensor2d([[0], [1]]), tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]));
 * console.log(Array.from(perSample.dataSync(), (v) => v.toFixed(4)).join(', ')); // => 0.1698, 0.4644
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], kernelInitializer: 'zeros' })] });
 * model.compile({ optimizer: 'sgd', loss: sparseCategoricalCrossEntropyLoss() });
 * const data = tf.data.zip({ xs: tf.data.array([[1, 2, 3, 4], [4, 3, 2, 1]]), ys: tf.data.array([[0], [2]]) }).batch(2);
 * // Logits 0 at the start: ln 3.
 * console.log((await model.fitDataset(data, { epochs: 1, verbose: 0 })).history.loss[0].toFixed(4)); // => 1.0986
 * ```
 */
export function sparseCategoricalCrossEntropyLoss(options: SparseLayersLossOptions = {}): LayersLoss {
  const fn = 'sparseCategoricalCrossEntropyLoss';
  return sparseLoss(fn, perSample(parseOptions(SPARSE_SCHEMA, options, fn)));
}

/**
 * Focal loss for a multiclass logit head and class-index labels, one loss per sample: `softmaxFocalLoss`
 * with `reduction: 'none'`, channels-last, labels as `sparseCategoricalCrossEntropyLoss` takes them (and
 * with the same caveat about `fit`). The per-class α of the paper is `fit`'s `classWeight`, which
 * multiplies each sample's loss by its class's weight. With `gamma: 0` it is the sparse cross-entropy.
 *
 * ```js
 * const perSample = sparseCategoricalFocalLoss()(tf.tensor2d([[0], [1]]), tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]));
 * console.log(Array.from(perSample.dataSync(), (v) => v.toFixed(4)).join(', ')); // => 0.0041, 0.0641
 * ```
 */
export function sparseCategoricalFocalLoss(options: SparseFocalLayersLossOptions = {}): LayersLoss {
  return focalVariant(SPARSE_SCHEMA, options, 'sparseCategoricalFocalLoss', sparseLoss);
}

/** The loss of a multiclass logit head with class-index labels (see `indexLabels`). */
function sparseLoss(functionName: string, settings: ClassificationSettings): LayersLoss {
  return (yTrue, yPred) =>
    asLayersErrors(functionName, () =>
      tf.tidy(() => {
        const axis = multiclassAxis(yPred, settings.classAxis, functionName);
        return classificationLossWith(yPred, indexLabels(yTrue, yPred, axis, functionName), { ...settings, classAxis: axis });
      }),
    );
}

/**
 * Cross-entropy for a multiclass logit head and one-hot (or probability) labels of the logits' shape,
 * one loss per sample: `-Σ_c t'_c·logSoftmax(z)_c` with `t' = (1-ε)·t + ε/C`. Channels-last by default.
 *
 * ```js
 * const perSample = categoricalCrossEntropyLoss()(tf.tensor2d([[1, 0, 0], [0, 1, 0]]), tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]));
 * console.log(Array.from(perSample.dataSync(), (v) => v.toFixed(4)).join(', ')); // => 0.1698, 0.4644
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [4], kernelInitializer: 'zeros' })] });
 * model.compile({ optimizer: 'sgd', loss: categoricalCrossEntropyLoss({ labelSmoothing: 0.1 }) });
 * console.log(model.evaluate(tf.ones([2, 4]), tf.tensor2d([[1, 0, 0], [0, 1, 0]])).dataSync()[0].toFixed(4)); // => 1.0986
 * ```
 */
export function categoricalCrossEntropyLoss(options: CategoricalLayersLossOptions = {}): LayersLoss {
  const fn = 'categoricalCrossEntropyLoss';
  return categoricalLoss(fn, perSample(parseOptions(CATEGORICAL_SCHEMA, options, fn)));
}

/**
 * Focal loss for a multiclass logit head and one-hot (or probability) labels of the logits' shape, one
 * loss per sample: `-Σ_c t'_c·(1 - p_c)^γ·logSoftmax(z)_c`, `softmaxFocalLoss` with `reduction: 'none'`;
 * Keras' `CategoricalFocalCrossentropy(fromLogits: true)` with its α given as `fit`'s `classWeight`.
 *
 * ```js
 * const perSample = categoricalFocalLoss()(tf.tensor2d([[1, 0, 0], [0, 1, 0]]), tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]));
 * console.log(Array.from(perSample.dataSync(), (v) => v.toFixed(4)).join(', ')); // => 0.0041, 0.0641
 * ```
 */
export function categoricalFocalLoss(options: CategoricalFocalLayersLossOptions = {}): LayersLoss {
  return focalVariant(CATEGORICAL_SCHEMA, options, 'categoricalFocalLoss', categoricalLoss);
}

/**
 * One-hot labels as probabilities: `tf.oneHot` makes int32 labels, which tfjs-layers' own categorical
 * loss accepts, so integer and boolean labels of the logits' shape are read as float32.
 */
function oneHotAsProbabilities(yTrue: tf.Tensor): tf.Tensor {
  return yTrue.dtype === 'int32' || yTrue.dtype === 'bool' ? tf.cast(yTrue, 'float32') : yTrue;
}

/** The loss of a multiclass logit head with one-hot or probability labels of its shape. */
function categoricalLoss(functionName: string, settings: ClassificationSettings): LayersLoss {
  return (yTrue, yPred) =>
    asLayersErrors(functionName, () =>
      tf.tidy(() => {
        const axis = multiclassAxis(yPred, settings.classAxis, functionName);
        if (!sameShape(yTrue.shape, yPred.shape) || yTrue.dtype === 'string' || yTrue.dtype === 'complex64') {
          throw new LossInputError(
            functionName,
            'yTrue',
            `one-hot or probability labels of the logits' shape ${formatShape(yPred.shape)} (for class indices use sparseCategoricalCrossEntropyLoss)`,
            `${yTrue.dtype === 'int32' ? 'an' : 'a'} ${yTrue.dtype} tensor of shape ${formatShape(yTrue.shape)}${classIndexHint(yTrue, yPred, axis)}`,
          );
        }
        return classificationLossWith(yPred, oneHotAsProbabilities(yTrue), { ...settings, classAxis: axis });
      }),
    );
}

/**
 * One loss function for binary and multiclass models, chosen by the model's output at each call: a
 * one-unit head (`[batch, 1]`, labels `[batch, 1]` in [0, 1]) gets binary cross-entropy with logits
 * (or, with `binaryAsTwoClass: true`, crossEntropy on `[0, z]`: the same value and gradient); a C-unit
 * head gets cross-entropy, channels-last, with class-index labels (`[batch]` or `[batch, 1]`) or
 * one-hot / probability labels of the output's shape (what `fit` accepts, see the sparse loss).
 *
 * ```js
 * const loss = classificationLossFn();
 * const show = (perSample) => console.log(Array.from(perSample.dataSync(), (v) => v.toFixed(4)).join(', '));
 * const logits = tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]);
 * show(loss(tf.tensor2d([[1], [0]]), tf.tensor2d([[2], [0.5]])));  // => 0.1269, 0.9741
 * show(loss(tf.tensor2d([[0], [1]]), logits));                      // => 0.1698, 0.4644
 * show(loss(tf.tensor2d([[1, 0, 0], [0, 1, 0]]), logits));          // => 0.1698, 0.4644
 * ```
 */
export function classificationLossFn(options: ClassificationLayersLossOptions = {}): LayersLoss {
  const fn = 'classificationLossFn';
  const schema = {
    binaryAsTwoClass: booleanOption(false),
    posWeight: LAYERS_OPTION.posWeight,
    labelSmoothing: LAYERS_OPTION.labelSmoothing,
    ignoreIndex: LAYERS_OPTION.ignoreIndex,
    focalGamma: withDefault(LAYERS_OPTION.gamma, 0),
    focalAlpha: withDefault(LAYERS_OPTION.alpha, -1),
  } satisfies Schema<ClassificationLayersLossOptions>;
  const settings = perSample(parseOptions(schema, options, fn));
  return (yTrue, yPred) =>
    asLayersErrors(fn, () =>
      tf.tidy(() => {
        const oneUnit = yPred.rank === 2 && yPred.shape[1] === 1;
        if (oneUnit) return classificationLossWith(yPred, yTrue, settings);
        for (const [name, given] of [
          ['posWeight', settings.posWeight !== undefined],
          ['focalAlpha', settings.focalAlpha >= 0],
        ] as const) {
          if (given) {
            throw new LossInputError(
              fn,
              `options.${name}`,
              `absent for a model with more than one output unit (${name} weights the positive label of a one-unit head)`,
              `yPred of shape ${formatShape(yPred.shape)}`,
            );
          }
        }
        const axis = multiclassAxis(yPred, -1, fn);
        const labels = sameShape(yTrue.shape, yPred.shape) ? oneHotAsProbabilities(yTrue) : indexLabels(yTrue, yPred, axis, fn);
        return classificationLossWith(yPred, labels, { ...settings, classAxis: axis });
      }),
    );
}
