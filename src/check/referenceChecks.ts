import * as tf from '@tensorflow/tfjs-core';
import type { Reduction } from '../core/options';
import { binaryCrossEntropy } from '../losses/binaryCrossEntropy';
import { binaryCrossEntropyWithLogits } from '../losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../losses/crossEntropy';
import { klDivergence } from '../losses/klDivergence';
import { nllLoss } from '../losses/nllLoss';
import { CheckAccumulator, CheckResult, compareCase, describeTolerance } from './checkResult';
import { readInTidy, Reads } from './reads';
import { SeededRandom, seededRandom, streamSeed } from './random';
import {
  referenceBinaryCrossEntropy,
  referenceBinaryCrossEntropyWithLogits,
  referenceCrossEntropy,
  referenceNllLoss,
  ReferenceResult,
  ReferenceTensor,
} from './reference';
import { referenceKlDivergence } from './referenceFocal';

/** One case: tensors as shape and float32-exact values, options whose tensors are given the same way. */
interface LossCase {
  name: string;
  input: ReferenceTensor;
  target: ReferenceTensor & { dtype: 'int32' | 'float32' };
  options: Record<string, unknown>;
}

interface LossUnderTest {
  name: string;
  loss: (input: tf.Tensor, target: tf.Tensor, options: Record<string, unknown>) => tf.Tensor;
  reference: (
    input: ReferenceTensor,
    target: ReferenceTensor,
    options: Record<string, unknown>,
    upstream: ArrayLike<number>,
  ) => ReferenceResult;
  /** Whether PyTorch differentiates the target (soft BCE targets, CE probabilities). */
  differentiableTarget: (c: LossCase) => boolean;
  cases: (random: SeededRandom) => LossCase[];
}

const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];

/** The library's tolerance against float64: 1e-5 relative, 1e-6 absolute (what the test suite asks on cpu). */
const TOLERANCE = { rtol: 1e-5, atol: 1e-6 };

const tensorOf = (shape: number[], draw: () => number): ReferenceTensor => ({
  shape,
  values: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.fround(draw())),
});

const moveClassAxisLast = (shape: number[]): number[] => [shape[0], ...shape.slice(2), shape[1]];

/**
 * Class-axis layouts: unbatched [C], [N, C], [N, C, d], [N, C, d1, d2], and the last three channels-last.
 * A single class makes cross-entropy identically 0: the unbatched layout keeps that edge, the batched
 * ones have two classes at least, so that a row never compares only zeros.
 */
function classShapes(random: SeededRandom): Array<{ shape: number[]; classAxis: number }> {
  const classes = 1 + random.integer(5);
  const batch = 1 + random.integer(4);
  const batchedClasses = Math.max(2, classes);
  const channelsFirst = [
    [batch, batchedClasses],
    [batch, batchedClasses, 1 + random.integer(3)],
    [batch, batchedClasses, 2, 1 + random.integer(3)],
  ];
  return [
    { shape: [classes], classAxis: 1 },
    ...channelsFirst.map((shape) => ({ shape, classAxis: 1 })),
    ...channelsFirst.map((shape) => ({ shape: moveClassAxisLast(shape), classAxis: -1 })),
  ];
}

function sampleShapeOf(shape: number[], classAxis: number): number[] {
  const axis = shape.length === 1 ? 0 : classAxis < 0 ? shape.length + classAxis : classAxis;
  return shape.filter((_, k) => k !== axis);
}

function classIndexTarget(
  random: SeededRandom,
  shape: number[],
  classAxis: number,
  classes: number,
  ignoreIndex: number,
): LossCase['target'] {
  const target = tensorOf(sampleShapeOf(shape, classAxis), () => (random.uniform() < 0.15 ? ignoreIndex : random.integer(classes)));
  return { ...target, dtype: 'int32' };
}

const classesOf = (shape: number[], classAxis: number) =>
  shape[shape.length === 1 ? 0 : classAxis < 0 ? shape.length + classAxis : classAxis];

const LOSSES: LossUnderTest[] = [
  {
    name: 'crossEntropy',
    loss: crossEntropy,
    reference: referenceCrossEntropy,
    differentiableTarget: (c) => c.target.dtype === 'float32',
    cases: (random) => {
      const cases: LossCase[] = [];
      for (const { shape, classAxis } of classShapes(random)) {
        const classes = classesOf(shape, classAxis);
        for (const targetKind of ['indices', 'probabilities'] as const) {
          for (const weighted of [false, true]) {
            for (const labelSmoothing of [0, 0.15]) {
              const scale = [1, 30, 1e4][random.integer(3)];
              const input = tensorOf(shape, () => scale * random.normal());
              const target =
                targetKind === 'indices'
                  ? classIndexTarget(random, shape, classAxis, classes, -100)
                  : { ...tensorOf(shape, () => random.uniform()), dtype: 'float32' as const };
              const weight = weighted ? tensorOf([classes], () => 0.1 + 2 * random.uniform()) : undefined;
              for (const reduction of REDUCTIONS) {
                cases.push({
                  name: `${targetKind} input ${JSON.stringify(shape)} classAxis ${classAxis} |z|~${scale}${weighted ? ' weight' : ''} ε=${labelSmoothing} ${reduction}`,
                  input,
                  target,
                  options: { weight, labelSmoothing, reduction, classAxis },
                });
              }
            }
          }
        }
      }
      return cases;
    },
  },
  {
    name: 'nllLoss',
    loss: nllLoss,
    reference: referenceNllLoss,
    differentiableTarget: () => false,
    cases: (random) => {
      const cases: LossCase[] = [];
      for (const { shape, classAxis } of classShapes(random)) {
        const classes = classesOf(shape, classAxis);
        for (const weighted of [false, true]) {
          const ignoreIndex = weighted ? random.integer(classes) : -100;
          const input = tensorOf(shape, () => -5 * random.uniform());
          const target = classIndexTarget(random, shape, classAxis, classes, ignoreIndex);
          const weight = weighted ? tensorOf([classes], () => 0.1 + 2 * random.uniform()) : undefined;
          for (const reduction of REDUCTIONS) {
            cases.push({
              name: `input ${JSON.stringify(shape)} classAxis ${classAxis}${weighted ? ' weight' : ''} ignoreIndex ${ignoreIndex} ${reduction}`,
              input,
              target,
              options: { weight, ignoreIndex, reduction, classAxis },
            });
          }
        }
      }
      return cases;
    },
  },
  {
    name: 'binaryCrossEntropy',
    loss: binaryCrossEntropy,
    reference: referenceBinaryCrossEntropy,
    differentiableTarget: () => true,
    cases: (random) => elementwiseCases(random, () => random.uniform(), false),
  },
  {
    name: 'binaryCrossEntropyWithLogits',
    loss: binaryCrossEntropyWithLogits,
    reference: referenceBinaryCrossEntropyWithLogits,
    differentiableTarget: () => true,
    cases: (random) => elementwiseCases(random, () => [1, 30, 1e4][random.integer(3)] * random.normal(), true),
  },
  {
    name: 'klDivergence',
    loss: klDivergence,
    reference: referenceKlDivergence,
    differentiableTarget: () => true,
    cases: (random) => {
      const cases: LossCase[] = [];
      for (const shape of [[], [1 + random.integer(6)], [1 + random.integer(4), 3], [2, 3, 1 + random.integer(3)]]) {
        for (const logTarget of [false, true]) {
          // Log-probabilities as input; targets away from 0, where PyTorch's target gradient log t + 1 - x is -∞.
          const input = tensorOf(shape, () => -6 * random.uniform());
          const target = {
            ...tensorOf(shape, () => (logTarget ? -6 * random.uniform() : 0.01 + random.uniform())),
            dtype: 'float32' as const,
          };
          for (const reduction of [...REDUCTIONS, 'batchmean']) {
            cases.push({
              name: `input ${JSON.stringify(shape)}${logTarget ? ' logTarget' : ''} ${reduction}`,
              input,
              target,
              options: { reduction, logTarget },
            });
          }
        }
      }
      return cases;
    },
  },
];

/** Elementwise cases of rank 0 to 3, soft and hard targets, a weight broadcast over the last axis, and a posWeight. */
function elementwiseCases(random: SeededRandom, drawInput: () => number, withPosWeight: boolean): LossCase[] {
  const cases: LossCase[] = [];
  for (const shape of [[], [1 + random.integer(6)], [1 + random.integer(4), 3], [2, 3, 1 + random.integer(3)]]) {
    for (const weighted of [false, true]) {
      const input = tensorOf(shape, drawInput);
      const soft = random.uniform() < 0.5;
      const target = { ...tensorOf(shape, () => (soft ? random.uniform() : random.integer(2))), dtype: 'float32' as const };
      const lastAxis = shape.length === 0 ? [] : [shape[shape.length - 1]];
      const weight = weighted ? tensorOf(lastAxis, () => 2 * random.uniform()) : undefined;
      const posWeight = withPosWeight && weighted ? tensorOf(lastAxis, () => 0.5 + 3 * random.uniform()) : undefined;
      for (const reduction of REDUCTIONS) {
        const options = withPosWeight ? { weight, posWeight, reduction } : { weight, reduction };
        cases.push({
          name: `input ${JSON.stringify(shape)}${soft ? ' soft' : ''}${weighted ? ' weighted' : ''} ${reduction}`,
          input,
          target,
          options,
        });
      }
    }
  }
  return cases;
}

function toTensorOptions(options: Record<string, unknown>): Record<string, unknown> {
  const converted: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const t = value as ReferenceTensor;
    converted[key] =
      typeof value === 'object' && value !== null && 'shape' in value ? tf.tensor(Array.from(t.values), t.shape, 'float32') : value;
  }
  return converted;
}

/** Runs one case: value and gradients of `Σ loss·upstream` from the library against the float64 reference. */
function* runCase(under: LossUnderTest, c: LossCase, random: SeededRandom, accumulator: CheckAccumulator): Reads<void> {
  const { expected, withTarget, values } = yield* readInTidy(() => {
    const input = tf.tensor(Array.from(c.input.values), c.input.shape, 'float32');
    const target = tf.tensor(Array.from(c.target.values), c.target.shape, c.target.dtype);
    const options = toTensorOptions(c.options);
    const value = under.loss(input, target, options);
    const upstreamValues = Array.from({ length: value.size }, () => Math.fround(0.5 + random.uniform()));
    const upstream = tf.tensor(upstreamValues, value.shape);
    const expected = under.reference(c.input, c.target, c.options, upstreamValues);
    const weighted = (x: tf.Tensor, t: tf.Tensor) => tf.sum(tf.mul(under.loss(x, t, options), upstream));
    const withTarget = under.differentiableTarget(c) && expected.grad.target !== null;
    const gradients = withTarget ? tf.grads(weighted)([input, target]) : [tf.grad((x: tf.Tensor) => weighted(x, target))(input)];
    return { expected, withTarget, read: [value, ...gradients] };
  });
  const [value, dInput, dTarget] = values;
  const gradients: Record<string, [ArrayLike<number>, ArrayLike<number>]> = { input: [dInput, expected.grad.input] };
  if (withTarget) gradients.target = [dTarget, expected.grad.target as ArrayLike<number>];
  accumulator.add(compareCase(c.name, [value, expected.value.values], gradients, TOLERANCE));
}

/**
 * Each loss against the float64 reference over a seeded grid: every class-axis layout (unbatched,
 * K-dimensional, channels-last), index and probability targets, weights, ignored targets, label
 * smoothing, every reduction, logits up to |z| ~ 1e4; KL divergence of every rank, with probability
 * and log-probability targets and 'batchmean'; values and gradients of every float argument.
 */
export function* referenceChecks(seed: number): Reads<CheckResult[]> {
  const rows: CheckResult[] = [];
  for (const [k, under] of LOSSES.entries()) {
    const random = seededRandom(streamSeed(seed, 2, k));
    const accumulator = new CheckAccumulator(`${under.name} vs float64 reference`, describeTolerance(TOLERANCE), true);
    for (const c of under.cases(random)) {
      try {
        yield* runCase(under, c, random, accumulator);
      } catch (error) {
        accumulator.addError(c.name, error);
      }
    }
    rows.push(accumulator.done());
  }
  return rows;
}
