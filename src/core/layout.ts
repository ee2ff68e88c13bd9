import { LossInputError } from './errors';
import { formatShape } from './tensors';

/**
 * A tensor seen as `[outer, classes, inner]` around its class axis: element `(o, c, i)` sits at
 * `(o * classes + c) * inner + i` and belongs to sample `o * inner + i`. PyTorch's `[N, C, d1..dk]`
 * is `[N, C, d1*..*dk]`; channels-last `[N, d1..dk, C]` is `[N*d1*..*dk, C, 1]`; a binary loss,
 * which has no class axis, is `[size, 1, 1]`.
 */
export interface ClassLayout {
  outer: number;
  classes: number;
  inner: number;
}

/** The layout of `shape` around `classAxis` (1 as in PyTorch, 0 for unbatched `[C]`, negative counts from the end), which must hold at least one class. */
export function classLayout(shape: readonly number[], classAxis: number, functionName: string): { layout: ClassLayout; axis: number } {
  const rank = shape.length;
  if (rank === 0) {
    throw new LossInputError(functionName, 'input', 'a tensor with a class axis: [C], [N, C] or [N, C, d1, ..., dk]', 'a scalar');
  }
  // PyTorch reads a rank-1 input as unbatched [C]: its class axis is 0, which the default 1 (PyTorch's
  // class axis of batched input), 0 and -1 all name. Any other classAxis is a mistake.
  const axis = rank === 1 ? 0 : classAxis < 0 ? rank + classAxis : classAxis;
  const unbatchedMismatch = rank === 1 && !(classAxis >= -1 && classAxis <= 1);
  if (!Number.isInteger(classAxis) || axis < 0 || axis >= rank || unbatchedMismatch) {
    const expected =
      rank === 1
        ? `-1, 0 or 1 for an unbatched input [C] of shape ${formatShape(shape)}`
        : `an axis of the input of shape ${formatShape(shape)} (from ${-rank} to ${rank - 1})`;
    throw new LossInputError(functionName, 'options.classAxis', expected, String(classAxis));
  }
  if (shape[axis] === 0) {
    throw new LossInputError(
      functionName,
      'input',
      `a tensor with at least one class along its class axis (axis ${axis})`,
      `shape ${formatShape(shape)}`,
    );
  }
  const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);
  return {
    axis,
    layout: { outer: product(shape.slice(0, axis)), classes: shape[axis], inner: product(shape.slice(axis + 1)) },
  };
}

export function elementwiseLayout(size: number): ClassLayout {
  return { outer: size, classes: 1, inner: 1 };
}
