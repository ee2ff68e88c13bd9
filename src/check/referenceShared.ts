/**
 * What the float64 references (`reference.ts`, `referenceFocal.ts`) share, in plain TypeScript with no
 * tfjs: shapes, the upstream gradient and the reductions, log σ, the class axis and class indices.
 * Each piece throws the messages of the reference that calls it (the function name `fn` is the caller's).
 */
import { LossInputError } from '../core/errors';
import type { Reduction } from '../core/options';

export function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The upstream gradient (one per value), all ones by default. */
function readUpstream(fn: string, upstream: ArrayLike<number> | undefined, count: number): ArrayLike<number> {
  if (upstream === undefined) return new Float64Array(count).fill(1);
  if (upstream.length !== count) {
    throw new LossInputError(fn, 'upstream', `${count} values (one per value of the loss)`, `${upstream.length} values`);
  }
  return upstream;
}

/**
 * Applies the reduction to per-item losses and returns the factor each item's gradient is scaled by:
 * `upstream/denominator` for 'mean', `upstream` for 'sum', the item's own upstream for 'none'.
 */
export function reduce(
  fn: string,
  losses: Float64Array,
  itemShape: number[],
  reduction: Reduction,
  denominator: number,
  upstream: ArrayLike<number> | undefined,
): { value: { shape: number[]; values: Float64Array }; scales: Float64Array } {
  if (reduction === 'none') {
    const u = readUpstream(fn, upstream, losses.length);
    return { value: { shape: itemShape, values: losses }, scales: Float64Array.from(u) };
  }
  const u = readUpstream(fn, upstream, 1)[0];
  let total = 0;
  for (let k = 0; k < losses.length; k++) total += losses[k];
  const value = reduction === 'mean' ? total / denominator : total;
  const scale = reduction === 'mean' ? u / denominator : u;
  return { value: { shape: [], values: Float64Array.of(value) }, scales: new Float64Array(losses.length).fill(scale) };
}

/** log σ(x) = -log(1 + e^-x), without overflow for any finite x. */
export function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * The input seen around its class axis: element `(o, c, i)` is at `(o·C + c)·inner + i` and belongs to
 * sample `o·inner + i`.
 */
export interface ClassView {
  classes: number;
  outer: number;
  inner: number;
  sampleShape: number[];
  at(sample: number, c: number): number;
}

/** The class view of an input of `shape` whose class axis is `axis` (resolved and checked by the caller). */
export function classLayout(shape: readonly number[], axis: number): ClassView {
  const classes = shape[axis];
  const outer = size(shape.slice(0, axis));
  const inner = size(shape.slice(axis + 1));
  return {
    classes,
    outer,
    inner,
    sampleShape: shape.filter((_, k) => k !== axis),
    at: (sample, c) => (Math.floor(sample / inner) * classes + c) * inner + (sample % inner),
  };
}

/** Checks class indices (flat): each an integer in `[0, classes)` or `ignoreIndex`. */
export function checkClassIndices(fn: string, indices: ArrayLike<number>, classes: number, ignoreIndex: number): void {
  for (let s = 0; s < indices.length; s++) {
    const y = indices[s];
    if (y !== ignoreIndex && !(Number.isInteger(y) && y >= 0 && y < classes)) {
      throw new LossInputError(
        fn,
        'target',
        `class indices in [0, ${classes}) or ignoreIndex ${ignoreIndex}`,
        `${y} at flat position ${s}`,
      );
    }
  }
}
