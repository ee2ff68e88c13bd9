import * as tf from '@tensorflow/tfjs-core';

/**
 * Runs `read` inside `tf.tidy` and returns what it read to the host (numbers, typed arrays, strings):
 * every tensor made meanwhile, the function's own included, is disposed; an error propagates after
 * the same clean-up.
 */
export function readInTidy<T>(read: () => T): T {
  let result: { value: T } | undefined;
  tf.tidy(() => {
    result = { value: read() };
  });
  return (result as { value: T }).value;
}
