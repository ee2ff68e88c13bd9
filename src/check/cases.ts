import * as tf from '@tensorflow/tfjs-core';
import { LossInputError } from '../core/errors';
import { SeededRandom } from './random';

/** One test case of a loss: an input (logits) and a target. */
export interface LossCase {
  input: tf.Tensor;
  target: tf.Tensor;
  /** Shown in reports, e.g. `binary [8]`. */
  name?: string;
}

/**
 * `binary`: logits `[N]` and float32 targets in {0, 1} (binaryCrossEntropyWithLogits' shape);
 * `multiclass`: logits `[N, C]` and int32 class indices `[N]` (crossEntropy's shape).
 */
export type CaseKind = 'binary' | 'multiclass';

/** What `randomCase` draws: the kind of head, and optionally its batch size, classes and logit scale. */
export interface CaseSpec {
  kind: CaseKind;
  /** N; default: drawn from [1, 16]. */
  batch?: number;
  /** C for `multiclass`; default: drawn from [2, 6]. */
  classes?: number;
  /** Standard deviation of the logits; default: drawn log-uniformly from [0.5, 4]. */
  logitScale?: number;
}

function positiveInteger(value: number | undefined, fallback: () => number, argument: string): number {
  if (value === undefined) return fallback();
  if (!Number.isInteger(value) || value < 1) throw new LossInputError('randomCase', argument, 'a positive integer', String(value));
  return value;
}

/**
 * A seeded random classification case: normal logits and uniformly drawn labels. Tensors are
 * created here; the caller disposes them (`checkEquivalence` does for the cases it generates).
 *
 * ```js
 * const c = randomCase(seededRandom(1), { kind: 'multiclass', classes: 2 });
 * console.log(c.name, JSON.stringify(c.input.shape), JSON.stringify(c.target.shape), c.target.dtype); // => multiclass [11, 2] [11,2] [11] int32
 * ```
 */
export function randomCase(random: SeededRandom, spec: CaseSpec): LossCase {
  const batch = positiveInteger(spec.batch, () => 1 + random.integer(16), 'spec.batch');
  const scale = spec.logitScale ?? Math.exp(Math.log(0.5) + random.uniform() * Math.log(8));
  if (!(scale > 0 && Number.isFinite(scale)))
    throw new LossInputError('randomCase', 'spec.logitScale', 'a positive number', String(spec.logitScale));
  const normals = (count: number) => Float32Array.from({ length: count }, () => scale * random.normal());
  if (spec.kind === 'binary') {
    return {
      input: tf.tensor1d(normals(batch)),
      target: tf.tensor1d(Float32Array.from({ length: batch }, () => random.integer(2))),
      name: `binary [${batch}]`,
    };
  }
  if (spec.kind !== 'multiclass')
    throw new LossInputError('randomCase', 'spec.kind', "'binary' or 'multiclass'", JSON.stringify(spec.kind) ?? String(spec.kind));
  const classes = positiveInteger(spec.classes, () => 2 + random.integer(5), 'spec.classes');
  return {
    input: tf.tensor2d(normals(batch * classes), [batch, classes]),
    target: tf.tensor1d(
      Int32Array.from({ length: batch }, () => random.integer(classes)),
      'int32',
    ),
    name: `multiclass [${batch}, ${classes}]`,
  };
}
