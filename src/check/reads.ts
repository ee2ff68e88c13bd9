import * as tf from '@tensorflow/tfjs-core';

/** The values of a numeric tensor on the host. */
export type HostValues = Float32Array | Int32Array | Uint8Array;

/**
 * A check written once for both ways of reading tensors back: a generator that yields the tensors it
 * needs on the host and is resumed with their values. `runSync` reads them with `dataSync()`,
 * `runAsync` with `await data()` (the only way on webgpu); everything else is the same code, so the
 * two give the same report.
 */
export type Reads<T> = Generator<readonly tf.Tensor[], T, HostValues[]>;

/** The values of `tensors`, which stay the caller's. */
export function* read(tensors: readonly tf.Tensor[]): Reads<HostValues[]> {
  return yield tensors;
}

/**
 * Runs `compute` inside `tf.tidy`, then reads the tensors it lists in `read` and returns its result
 * with their `values`: every tensor made meanwhile is disposed, those read once they are read (a
 * listed tensor that `compute` did not make, such as an input, stays alive). An error propagates
 * after the same clean-up.
 */
export function* readInTidy<T extends { read: readonly tf.Tensor[] }>(compute: () => T): Reads<T & { values: HostValues[] }> {
  let result: { value: T; kept: tf.Tensor[] } | undefined;
  tf.tidy(() => {
    const value = compute();
    result = { value, kept: value.read.map((t) => tf.keep(tf.clone(t))) };
  });
  const { value, kept } = result as { value: T; kept: tf.Tensor[] };
  try {
    return { ...value, values: yield kept };
  } finally {
    tf.dispose(kept);
  }
}

/** Runs `steps` to the end, reading with `dataSync()`; an error while reading is thrown into the steps. */
export function runSync<T>(steps: Reads<T>): T {
  let next = steps.next();
  while (!next.done) {
    let values: HostValues[];
    try {
      values = next.value.map((t) => t.dataSync() as HostValues);
    } catch (error) {
      next = steps.throw(error);
      continue;
    }
    next = steps.next(values);
  }
  return next.value;
}

/** Runs `steps` to the end, reading with `await data()` and never synchronously. */
export async function runAsync<T>(steps: Reads<T>): Promise<T> {
  let next = steps.next();
  while (!next.done) {
    const outcome = await Promise.all(next.value.map((t) => t.data() as Promise<HostValues>)).then(
      (values) => ({ values }),
      (error: unknown) => ({ error }),
    );
    next = 'values' in outcome ? steps.next(outcome.values) : steps.throw(outcome.error);
  }
  return next.value;
}
