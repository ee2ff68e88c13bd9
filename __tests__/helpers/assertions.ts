import * as tf from '@tensorflow/tfjs';
import { LossInputError } from '../../src/core/errors';
import { expectNoLeak } from './backends';

/**
 * Each value within `atol + rtol·|expected|` of its expectation (equal when infinite, both NaN when
 * NaN); on failure the assertion lists every miss with its index.
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-5, atol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  const misses: Array<{ index: number; actual: number; expected: number }> = [];
  for (let index = 0; index < expected.length; index++) {
    const a = actual[index];
    const e = expected[index];
    const close = a === e || (Number.isNaN(a) && Number.isNaN(e)) || Math.abs(a - e) <= atol + rtol * Math.abs(e);
    if (!close) misses.push({ index, actual: a, expected: e });
  }
  expect(misses).toEqual([]);
}

/** What `call` threw, or undefined. */
export function thrownBy(call: () => unknown): unknown {
  try {
    call();
  } catch (e) {
    return e;
  }
  return undefined;
}

/**
 * Calls `call` expecting a `LossInputError` whose message contains (or matches) each fragment, and
 * that the throw left `tf.memory()` as it was: no tensor made before the error was left behind.
 * Returns the error for further checks.
 */
export function expectInputError(call: () => unknown, ...fragments: Array<string | RegExp>): LossInputError {
  const before = tf.memory();
  const error = thrownBy(call);
  const after = tf.memory();
  expect(error).toBeInstanceOf(LossInputError);
  const message = (error as Error).message;
  for (const fragment of fragments) {
    if (typeof fragment === 'string') expect(message).toContain(fragment);
    else expect(message).toMatch(fragment);
  }
  expect({ numTensors: after.numTensors, numBytes: after.numBytes }).toEqual({ numTensors: before.numTensors, numBytes: before.numBytes });
  return error as LossInputError;
}

/**
 * Runs `fn` (which must dispose what it makes) and fails if `tf.memory()` changed: tensors or bytes.
 * Returns what `fn` returned.
 */
export function expectMemoryUnchanged<T>(fn: () => T): T {
  const before = tf.memory();
  const result = fn();
  const after = tf.memory();
  expect({ numTensors: after.numTensors, numBytes: after.numBytes }).toEqual({ numTensors: before.numTensors, numBytes: before.numBytes });
  return result;
}

type LossUnderTest<Options> = (input: tf.TensorLike | tf.Tensor, target: tf.TensorLike | tf.Tensor, options?: Options) => tf.Tensor;

/** A loss's shape and values, failing if the call leaves a tensor behind. */
export function evaluateLoss<Options>(
  loss: LossUnderTest<Options>,
  input: tf.TensorLike | tf.Tensor,
  target: tf.TensorLike | tf.Tensor,
  options?: Options,
): { shape: number[]; values: number[] } {
  return expectNoLeak(() => {
    const result = loss(input, target, options);
    const out = { shape: result.shape, values: Array.from(result.dataSync()) };
    result.dispose();
    return out;
  });
}

/** A loss's gradients for its input and its target, with upstream gradient `dy` (default 1), failing if a tensor is left behind. */
export function lossGradients<Options>(
  loss: LossUnderTest<Options>,
  input: tf.Tensor,
  target: tf.Tensor,
  options?: Options,
  dy?: tf.Tensor,
): [number[], number[]] {
  return expectNoLeak(() => {
    const [dx, dt] = tf.grads((x: tf.Tensor, t: tf.Tensor) => loss(x, t, options))([input, target], dy);
    const out: [number[], number[]] = [Array.from(dx.dataSync()), Array.from(dt.dataSync())];
    tf.dispose([dx, dt]);
    return out;
  });
}

/** A call that must throw, the argument its LossInputError names, what it says was expected and what was given. */
export type ErrorCase = [call: () => unknown, argument: string, expected: string, actual: string];

/** Each call throws a LossInputError of `functionName` with exactly the argument, expected and actual of its case, leaking nothing. */
export function expectInputErrors(functionName: string, cases: ErrorCase[]): void {
  for (const [call, argument, expected, actual] of cases) {
    const e = expectInputError(() => tf.tidy(() => void call()));
    expect({ functionName: e.functionName, argument: e.argument, expected: e.expected, actual: e.actual }).toEqual({
      functionName,
      argument,
      expected,
      actual,
    });
  }
}
