import * as tf from '@tensorflow/tfjs-core';

/**
 * A loss kernel's gradient built from differentiable tfjs ops on its arguments: what the backward
 * pass returns when it is itself being recorded (a gradient of a gradient), so that the tape connects
 * every term. It recomputes what it needs (softmax, sigmoid) from the inputs, never from what the
 * forward pass saved (made inside a kernel, those are constants to the tape), and returns the gradient
 * of each differentiable argument, in the order of the kernel's `differentiable`, for the upstream
 * gradient `dy` (the loss's shape), linear in `dy` through tfjs ops.
 */
export type DifferentiableGradient<A> = (args: A, dy: tf.Tensor) => tf.Tensor[];

/** A kernel call's arguments as kept for its backward pass, and how to get them back from what was saved. */
export interface KeptArguments<A> {
  /** How many tensors `tensors()` gives. */
  count: number;
  /** What to save (`tf.GradSaveFunc`), in this order; call it inside the op's forward pass, only when saving. */
  tensors(): tf.Tensor[];
  /** The arguments, with each tensor replaced by its saved clone (`saved` may hold more tensors after these). */
  restore(saved: tf.Tensor[]): A;
}

/**
 * The tensors of `args` to keep for the backward pass of a custom-gradient op, which may run after the
 * loss's `tf.tidy` has ended: those named in `connected` as they are (the tape links their saved clones
 * to them, so a differentiable gradient reaches the inputs), every other one (weights, targets) as a
 * copy made by `tensors()`, or all as they are when `connected` is null (a first-order backward pass
 * only reads them). Call `tensors()` inside the op's forward pass: ops there are not recorded, so those
 * copies, and what is built from them, are constants to every tape. (A copy shares its data.)
 */
export function keepArguments<A extends object>(args: A, connected: readonly string[] | null): KeptArguments<A> {
  const entries = args as Record<string, unknown>;
  const keys = Object.keys(entries).filter((key) => entries[key] instanceof tf.Tensor);
  const constant = (key: string) => connected !== null && !connected.includes(key);
  return {
    count: keys.length,
    tensors: () => keys.map((key) => (constant(key) ? tf.clone(entries[key] as tf.Tensor) : (entries[key] as tf.Tensor))),
    restore(saved) {
      const restored: Record<string, unknown> = { ...entries };
      keys.forEach((key, k) => (restored[key] = saved[k]));
      return restored as A;
    },
  };
}
