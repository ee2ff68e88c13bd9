import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import type { Reduction } from '../../src/core/options';
import { seededRandom, SeededRandom } from '../../src/check/random';
import {
  referenceBinaryCrossEntropy,
  referenceBinaryCrossEntropyWithLogits,
  referenceCrossEntropy,
  referenceNllLoss,
  ReferenceResult,
  ReferenceTensor,
} from '../../src/check/reference';
import { binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, nllLoss } from '../../src/index';

/**
 * Random loss cases for the property tests. fast-check draws a small *recipe* (shapes, options, a
 * magnitude, a data seed), which is what it prints and shrinks; the numbers are expanded from the data
 * seed by the library's seeded generator, so a recipe alone reproduces a case on any backend.
 */

export type LossName = 'binaryCrossEntropy' | 'binaryCrossEntropyWithLogits' | 'crossEntropy' | 'nllLoss';

/** Most elements in one case: enough for every layout, small enough for thousands of cases a minute. */
const MAX_ELEMENTS = 1024;

export interface Recipe {
  loss: LossName;
  /** The input's shape. */
  shape: number[];
  /** crossEntropy, nllLoss: 1 (channels-first, PyTorch) or -1 (channels-last). */
  classAxis: 1 | -1;
  reduction: Reduction;
  /** Logits are `magnitude·N(0, 1)` (BCE: the probabilities are their sigmoid); from 1e-6 to 1e4. */
  magnitude: number;
  /** crossEntropy: class indices (int32 or float32 holding integers) or class probabilities (three kinds). */
  target: 'int32' | 'float32' | 'softmax' | 'oneHot' | 'unnormalised' | 'hard' | 'soft';
  /** crossEntropy, nllLoss: -100 (default), -1, or a class index in [0, C] (C itself: outside the classes). */
  ignoreIndex: number;
  /** Share of class-index targets set to ignoreIndex. */
  ignoredShare: number;
  /** CE, NLL: per-class weight [C]; BCE: the weight's shape, broadcast against the input (null: none). */
  weightShape: number[] | null;
  /** binaryCrossEntropyWithLogits: posWeight's shape (null: none). */
  posWeightShape: number[] | null;
  labelSmoothing: number;
  dataSeed: number;
}

const reductionArb = fc.constantFrom<Reduction>('mean', 'sum', 'none');
/** Log-uniform from 1e-6 to 1e4 (fast-check's doubles crowd near 0 and at the edges; these are spread evenly). */
const magnitudeArb = fc.integer({ min: -600, max: 400 }).map((e) => Math.fround(10 ** (e / 100)));
/** In [0, 1] in steps of 1/1000, with 0 and 1 themselves more often. */
const shareArb = fc.oneof(
  fc.constant(0),
  fc.constant(1),
  fc.integer({ min: 0, max: 1000 }).map((k) => k / 1000),
);
/** A batch dimension: 0 now and then (PyTorch's empty batch), else 1 to 6. */
const batchArb = fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 24, arbitrary: fc.integer({ min: 1, max: 6 }) });
const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** A shape that broadcasts to `shape` (trailing axes, each the full size or 1), or null. */
function broadcastShapeArb(shape: number[]): fc.Arbitrary<number[] | null> {
  const some = fc
    .integer({ min: 0, max: shape.length })
    .chain((rank) => fc.tuple(...shape.slice(shape.length - rank).map((d) => fc.constantFrom(d, 1))))
    .map((dims) => dims as number[]);
  return fc.oneof(fc.constant(null), some);
}

/** crossEntropy and nllLoss: rank 1 to 4, 1 to 64 classes. */
function classRecipeArb(loss: 'crossEntropy' | 'nllLoss'): fc.Arbitrary<Recipe> {
  const targets: Recipe['target'][] =
    loss === 'crossEntropy' ? ['int32', 'float32', 'softmax', 'oneHot', 'unnormalised'] : ['int32', 'float32'];
  return fc
    .record({
      rank: fc.integer({ min: 1, max: 4 }),
      classes: fc.integer({ min: 1, max: 64 }),
      batch: batchArb,
      spatial: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 2, maxLength: 2 }),
      classAxis: fc.constantFrom<1 | -1>(1, -1),
      reduction: reductionArb,
      magnitude: magnitudeArb,
      target: fc.constantFrom(...targets),
      ignoreChoice: fc.constantFrom('default', 'minusOne', 'class', 'outside'),
      ignoredShare: shareArb,
      weighted: fc.boolean(),
      labelSmoothing: loss === 'crossEntropy' ? shareArb : fc.constant(0),
      dataSeed: fc.integer({ min: 0, max: 0x7fffffff }),
    })
    .map((r): Recipe => {
      const others = r.rank === 1 ? [] : [r.batch, ...r.spatial.slice(0, r.rank - 2)];
      // Fewer classes where the other axes are large, to stay within MAX_ELEMENTS.
      const classes = Math.max(1, Math.min(r.classes, Math.floor(MAX_ELEMENTS / Math.max(1, product(others)))));
      const shape = r.rank === 1 ? [classes] : r.classAxis === 1 ? [others[0], classes, ...others.slice(1)] : [...others, classes];
      const probabilities = r.target === 'softmax' || r.target === 'oneHot' || r.target === 'unnormalised';
      const ignoreIndex = { default: -100, minusOne: -1, class: r.dataSeed % classes, outside: classes }[r.ignoreChoice];
      return {
        loss,
        shape,
        classAxis: r.classAxis,
        reduction: r.reduction,
        magnitude: r.magnitude,
        target: r.target,
        // PyTorch refuses ignoreIndex >= 0 with class probabilities.
        ignoreIndex: probabilities && ignoreIndex >= 0 ? -100 : ignoreIndex,
        ignoredShare: probabilities ? 0 : r.ignoredShare,
        weightShape: r.weighted ? [classes] : null,
        posWeightShape: null,
        labelSmoothing: r.labelSmoothing,
        dataSeed: r.dataSeed,
      };
    });
}

/** The binary losses: rank 1 to 4, any broadcastable weight (and posWeight). */
function binaryRecipeArb(loss: 'binaryCrossEntropy' | 'binaryCrossEntropyWithLogits'): fc.Arbitrary<Recipe> {
  const shapeArb = fc.tuple(batchArb, fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 0, maxLength: 3 })).map(([batch, rest]) => {
    const shape = [batch, ...rest];
    while (product(shape) > MAX_ELEMENTS) shape[shape.length - 1] = Math.max(1, Math.floor(shape[shape.length - 1] / 2));
    return shape;
  });
  return shapeArb.chain((shape) =>
    fc.record({
      loss: fc.constant(loss),
      shape: fc.constant(shape),
      classAxis: fc.constant<1 | -1>(1),
      reduction: reductionArb,
      magnitude: magnitudeArb,
      target: fc.constantFrom<Recipe['target']>('hard', 'soft'),
      ignoreIndex: fc.constant(-100),
      ignoredShare: fc.constant(0),
      weightShape: broadcastShapeArb(shape),
      posWeightShape: loss === 'binaryCrossEntropyWithLogits' ? broadcastShapeArb(shape) : fc.constant(null),
      labelSmoothing: fc.constant(0),
      dataSeed: fc.integer({ min: 0, max: 0x7fffffff }),
    }),
  );
}

export function recipeArb(loss: LossName): fc.Arbitrary<Recipe> {
  return loss === 'crossEntropy' || loss === 'nllLoss' ? classRecipeArb(loss) : binaryRecipeArb(loss);
}

/** The numbers of a case, all float32 (or int32 class indices), ready for tfjs and for the float64 reference. */
export interface CaseData {
  input: ReferenceTensor & { values: Float32Array };
  target: ReferenceTensor & { values: Float32Array | Int32Array; dtype: 'float32' | 'int32' };
  weight: (ReferenceTensor & { values: Float32Array }) | null;
  posWeight: (ReferenceTensor & { values: Float32Array }) | null;
  /** The upstream gradient: one value per value of the loss, of the loss's shape. */
  upstream: Float32Array;
  valueShape: number[];
  /** The loss's options as the library takes them (weights as arrays of float32 numbers). */
  options: Record<string, unknown>;
}

/** Log-uniform in [0.01, 10], 0 one time in ten: weights, including the zero weights PyTorch allows. */
function weightValue(random: SeededRandom): number {
  return random.uniform() < 0.1 ? 0 : 10 ** (random.uniform() * 3 - 2);
}

function classAxisOf(recipe: Recipe): number {
  return recipe.shape.length === 1 ? 0 : recipe.classAxis === 1 ? 1 : recipe.shape.length - 1;
}

export function expand(recipe: Recipe): CaseData {
  const random = seededRandom(recipe.dataSeed);
  const { shape, magnitude } = recipe;
  const size = product(shape);
  const logits = Float32Array.from({ length: size }, () => magnitude * random.normal());
  const classification = recipe.loss === 'crossEntropy' || recipe.loss === 'nllLoss';
  const axis = classAxisOf(recipe);
  const classes = classification ? shape[axis] : 1;
  const sampleShape = classification ? shape.filter((_, k) => k !== axis) : shape;
  const samples = product(sampleShape);

  let input: Float32Array = logits;
  if (recipe.loss === 'binaryCrossEntropy') input = logits.map((z) => 1 / (1 + Math.exp(-z)));

  let target: CaseData['target'];
  if (recipe.target === 'int32' || recipe.target === 'float32') {
    const values = Array.from({ length: samples }, () =>
      random.uniform() < recipe.ignoredShare ? recipe.ignoreIndex : random.integer(classes),
    );
    target = {
      shape: sampleShape,
      dtype: recipe.target,
      values: recipe.target === 'int32' ? Int32Array.from(values) : Float32Array.from(values),
    };
  } else if (recipe.target === 'hard' || recipe.target === 'soft') {
    target = {
      shape,
      dtype: 'float32',
      values: Float32Array.from({ length: size }, () => (recipe.target === 'hard' ? random.integer(2) : random.uniform())),
    };
  } else {
    // Class probabilities along the class axis: element (o, c, i) sits at (o·C + c)·inner + i.
    const inner = product(shape.slice(axis + 1));
    const values = new Float32Array(size);
    for (let s = 0; s < samples; s++) {
      const o = Math.floor(s / inner);
      const i = s % inner;
      const at = (c: number) => (o * classes + c) * inner + i;
      if (recipe.target === 'oneHot') values[at(random.integer(classes))] = 1;
      else if (recipe.target === 'unnormalised') for (let c = 0; c < classes; c++) values[at(c)] = random.uniform();
      else {
        const e = Array.from({ length: classes }, () => Math.exp(2 * random.normal()));
        const total = e.reduce((a, b) => a + b, 0);
        for (let c = 0; c < classes; c++) values[at(c)] = e[c] / total;
      }
    }
    target = { shape, dtype: 'float32', values };
  }

  const tensorOf = (s: number[] | null, draw: () => number) =>
    s === null ? null : { shape: s, values: Float32Array.from({ length: product(s) }, draw) };
  const weight = tensorOf(recipe.weightShape, () => weightValue(random));
  const posWeight = tensorOf(recipe.posWeightShape, () => 10 ** (random.uniform() * 3 - 1.5));
  const valueShape = recipe.reduction === 'none' ? sampleShape : [];
  const upstream = Float32Array.from({ length: product(valueShape) }, () => random.normal());

  const options: Record<string, unknown> = { reduction: recipe.reduction };
  if (weight !== null) options.weight = tf.tensor(weight.values, weight.shape);
  if (posWeight !== null) options.posWeight = tf.tensor(posWeight.values, posWeight.shape);
  if (classification) {
    options.ignoreIndex = recipe.ignoreIndex;
    options.classAxis = recipe.classAxis;
  }
  if (recipe.loss === 'crossEntropy') options.labelSmoothing = recipe.labelSmoothing;
  return { input: { shape, values: input }, target, weight, posWeight, upstream, valueShape, options };
}

/** The float64 reference's value and gradients (of `Σ value·upstream`) for a case. */
export function reference(recipe: Recipe, data: CaseData): ReferenceResult {
  const weight = data.weight ?? undefined;
  const posWeight = data.posWeight ?? undefined;
  const { reduction, ignoreIndex, classAxis, labelSmoothing } = recipe;
  switch (recipe.loss) {
    case 'binaryCrossEntropy':
      return referenceBinaryCrossEntropy(data.input, data.target, { weight, reduction }, data.upstream);
    case 'binaryCrossEntropyWithLogits':
      return referenceBinaryCrossEntropyWithLogits(data.input, data.target, { weight, posWeight, reduction }, data.upstream);
    case 'crossEntropy':
      return referenceCrossEntropy(data.input, data.target, { weight, reduction, ignoreIndex, classAxis, labelSmoothing }, data.upstream);
    case 'nllLoss':
      return referenceNllLoss(data.input, data.target, { weight, reduction, ignoreIndex, classAxis }, data.upstream);
  }
}

const LOSSES: Record<LossName, (input: tf.Tensor, target: tf.Tensor, options: object) => tf.Tensor> = {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  nllLoss,
};

/** Whether the loss differentiates the target of this case (float targets of the binary losses, class probabilities). */
export function differentiatesTarget(recipe: Recipe): boolean {
  return !(recipe.target === 'int32' || recipe.target === 'float32');
}

export interface LibraryResult {
  value: Float32Array;
  valueShape: number[];
  input: Float32Array;
  target: Float32Array | null;
}

/**
 * The library's value and gradients of `Σ value·upstream` for a case, on the current backend, with
 * `upstream` scaled by `upstreamScale`. Leaves no tensor behind (the caller checks `tf.memory()`).
 */
export function runLibrary(recipe: Recipe, data: CaseData, upstreamScale = 1): LibraryResult {
  const loss = LOSSES[recipe.loss];
  const input = tf.tensor(data.input.values, data.input.shape, 'float32');
  const target = tf.tensor(data.target.values, data.target.shape, data.target.dtype);
  const dy = tf.tensor(
    data.upstream.map((u) => u * upstreamScale),
    data.valueShape,
    'float32',
  );
  try {
    const withTarget = differentiatesTarget(recipe);
    const f = (x: tf.Tensor, y: tf.Tensor) => loss(x, y, data.options);
    const { value, grads } = withTarget
      ? tf.valueAndGrads(f)([input, target], dy)
      : (() => {
          const r = tf.valueAndGrad((x: tf.Tensor) => f(x, target))(input, dy);
          return { value: r.value, grads: [r.grad] };
        })();
    const result: LibraryResult = {
      value: value.dataSync() as Float32Array,
      valueShape: value.shape,
      input: grads[0].dataSync() as Float32Array,
      target: withTarget ? (grads[1].dataSync() as Float32Array) : null,
    };
    tf.dispose([value, ...grads]);
    return result;
  } finally {
    tf.dispose([input, target, dy]);
  }
}

/** Disposes the tensors a case's options hold. */
export function disposeCase(data: CaseData): void {
  tf.dispose([data.options.weight, data.options.posWeight].filter((t): t is tf.Tensor => t instanceof tf.Tensor));
}

/**
 * The size of the terms each gradient element is a difference of, times its upstream and reduction
 * factor: the scale that float32 rounding errors are relative to where the terms cancel (e.g. CE's
 * `p_c·A - w_c·t'_c` with uniform smoothed targets and tiny logits, or BCE-with-logits' `σ(x) - 1` at
 * large x), or CE's `lse - z_c` (a loss or log-probability near 0 from logits of any size). Elements
 * whose terms never cancel (the binary losses' values, NLL, the BCE input gradient) need no such
 * scale: it is 0 (or null) and only the relative tolerance applies.
 */
export interface ErrorScales {
  value: Float64Array | null;
  input: Float64Array;
  target: Float64Array | null;
}

export function errorScales(recipe: Recipe, data: CaseData): ErrorScales {
  const { shape } = recipe;
  const size = product(shape);
  const x = data.input.values;
  const t = data.target.values;
  const none = recipe.reduction === 'none';
  const broadcastAt = (w: CaseData['weight']) => {
    if (w === null) return () => 1;
    const offset = shape.length - w.shape.length;
    return (e: number) => {
      let source = 0;
      let rest = e;
      const position = shape.map(() => 0);
      for (let k = shape.length - 1; k >= 0; k--) {
        position[k] = rest % shape[k];
        rest = Math.floor(rest / shape[k]);
      }
      for (let k = 0; k < w.shape.length; k++) source = source * w.shape[k] + (w.shape[k] === 1 ? 0 : position[k + offset]);
      return w.values[source];
    };
  };
  if (recipe.loss === 'binaryCrossEntropy' || recipe.loss === 'binaryCrossEntropyWithLogits') {
    const weight = broadcastAt(data.weight);
    const posWeight = broadcastAt(data.posWeight);
    const factor = (e: number) =>
      Math.abs(none ? data.upstream[e] : data.upstream[0] / (recipe.reduction === 'mean' ? size : 1)) * Math.abs(weight(e));
    const input = new Float64Array(size);
    const target = new Float64Array(size);
    for (let e = 0; e < size; e++) {
      if (recipe.loss === 'binaryCrossEntropy') {
        target[e] = factor(e) * (Math.abs(Math.log(x[e])) + Math.abs(Math.log1p(-x[e])));
      } else {
        const pw = posWeight(e);
        const softplus = (z: number) => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));
        input[e] = factor(e) * (Math.abs(1 + (pw - 1) * t[e]) + Math.abs(pw * t[e]));
        target[e] = factor(e) * (Math.abs(pw) * softplus(-x[e]) + softplus(x[e]));
      }
    }
    return { value: null, input, target };
  }
  if (recipe.loss === 'nllLoss') return { value: null, input: new Float64Array(size), target: null };
  // crossEntropy: per sample, A = Σ_k w_k·t'_k (class probabilities) or (1-ε)·w_y + (ε/C)·Σ_k w_k (indices).
  const axis = shape.length === 1 ? 0 : recipe.classAxis === 1 ? 1 : shape.length - 1;
  const classes = shape[axis];
  const inner = product(shape.slice(axis + 1));
  const samples = size / Math.max(1, classes);
  const eps = recipe.labelSmoothing;
  const w = (c: number) => (data.weight === null ? 1 : data.weight.values[c]);
  const indices = !differentiatesTarget(recipe);
  let denominator = 0;
  for (let s = 0; s < samples; s++) {
    if (!indices) denominator += 1;
    else if (t[s] !== recipe.ignoreIndex) denominator += w(t[s]);
  }
  const reductionFactor = recipe.reduction === 'mean' ? 1 / denominator : 1;
  const value = new Float64Array(none ? samples : 1);
  const input = new Float64Array(size);
  const target = indices ? null : new Float64Array(size);
  const weightSum = Array.from({ length: classes }, (_, c) => w(c)).reduce((a, b) => a + b, 0);
  for (let s = 0; s < samples; s++) {
    const o = Math.floor(s / inner);
    const at = (c: number) => (o * classes + c) * inner + (s % inner);
    if (indices && t[s] === recipe.ignoreIndex) continue;
    const smoothed = (c: number) => (indices ? (1 - eps) * (c === t[s] ? 1 : 0) + eps / classes : (1 - eps) * t[at(c)] + eps / classes);
    const total = indices
      ? (1 - eps) * w(t[s]) + (eps / classes) * weightSum
      : Array.from({ length: classes }, (_, c) => w(c) * smoothed(c)).reduce((a, b) => a + b, 0);
    // |log-probability terms|: |z_c| and |lse| <= max|z| + log C.
    let largest = 0;
    for (let c = 0; c < classes; c++) largest = Math.max(largest, Math.abs(x[at(c)]));
    const logTerms = 2 * largest + Math.log(classes);
    value[none ? s : 0] += Math.abs(total) * logTerms * (none ? 1 : reductionFactor);
    const factor = Math.abs(none ? data.upstream[s] : data.upstream[0] * reductionFactor);
    for (let c = 0; c < classes; c++) {
      input[at(c)] = factor * (Math.abs(total) + Math.abs(w(c) * smoothed(c)));
      if (target !== null) target[at(c)] = factor * (1 - eps) * Math.abs(w(c)) * logTerms;
    }
  }
  return { value, input, target };
}

/**
 * Below this, differences are not float32 arithmetic errors but underflow: float32 kernels may flush an
 * intermediate below the smallest normal float32 (2^-126, 1.2e-38) to 0, as GPUs and SIMD code do, and
 * weights (up to 10 here, posWeight up to 31.6) scale that by at most ~300. 2^-100 (7.9e-31) covers it
 * with a wide margin and is far below any loss or gradient that matters.
 */
export const UNDERFLOW = 2 ** -100;

/**
 * The first element where `actual` (float32, from the library) is not within tolerance of `expected`
 * (float64, the reference), as a message; null when all are. Within tolerance: equal, both NaN, or
 * `|a - e| <= rtol·max(|e|, scale) + UNDERFLOW`.
 */
export function firstMismatch(
  name: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  scale: ArrayLike<number> | null,
  rtol: number,
): string | null {
  if (actual.length !== expected.length) return `${name}: ${actual.length} values, the reference has ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (Object.is(a, e) || a === e || (Number.isNaN(a) && Number.isNaN(e))) continue;
    const allowed = rtol * Math.max(Math.abs(e), scale === null ? 0 : scale[i]) + UNDERFLOW;
    if (!(Math.abs(a - e) <= allowed))
      return `${name}[${i}]: library ${a}, reference ${e}, |difference| ${Math.abs(a - e)} > allowed ${allowed}`;
  }
  return null;
}
