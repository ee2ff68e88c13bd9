/**
 * The second-order matchers of `tfjs-loss-adapter/jest`: the received function passes `gradgradcheck`
 * (its second derivatives agree with finite differences of its first), synchronously or reading only
 * with `await data()` (webgpu; `await` it).
 *
 * ```ts jest
 * import * as tf from '@tensorflow/tfjs';
 * import { crossEntropy } from 'tfjs-loss-adapter';
 * import 'tfjs-loss-adapter/jest';
 *
 * test('second derivatives of crossEntropy', async () => {
 *   const z = tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]);
 *   const y = tf.tensor1d([0, 1], 'int32');
 *   expect((z: tf.Tensor) => crossEntropy(z, y)).toPassGradgradcheck([z]);
 *   await expect((z: tf.Tensor) => crossEntropy(z, y)).toPassGradgradcheckAsync([z]);
 * });
 * ```
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { GradcheckResult, TensorFunction } from '../check/gradcheck';
import { gradgradcheck, gradgradcheckAsync, GradgradcheckOptions } from '../check/gradgradcheck';
import type { MatcherContext, MatcherResult } from './index';

/** The received function, checked to be one. */
function receivedFunction(matcher: string, received: unknown): TensorFunction {
  if (typeof received !== 'function')
    throw new Error(`${matcher}: the received value must be a function of tensors, got ${typeof received}`);
  return received as TensorFunction;
}

function resultOf(context: MatcherContext, matcher: string, result: GradcheckResult): MatcherResult {
  const details = result.passed ? result.summary : result.failures.join('\n\n');
  return { pass: result.passed, message: () => `expect(f)${context.isNot ? '.not' : ''}.${matcher}(inputs)\n\n${details}` };
}

function toPassGradgradcheck(
  this: MatcherContext,
  received: unknown,
  inputs: readonly tf.Tensor[],
  options: GradgradcheckOptions = {},
): MatcherResult {
  const name = 'toPassGradgradcheck';
  return resultOf(this, name, gradgradcheck(receivedFunction(name, received), inputs, options));
}

async function toPassGradgradcheckAsync(
  this: MatcherContext,
  received: unknown,
  inputs: readonly tf.Tensor[],
  options: GradgradcheckOptions = {},
): Promise<MatcherResult> {
  const name = 'toPassGradgradcheckAsync';
  return resultOf(this, name, await gradgradcheckAsync(receivedFunction(name, received), inputs, options));
}

/**
 * The second-order matchers, for `expect.extend({ ...matchers, ...asyncMatchers, ...gradgradMatchers })` where there is no global `expect`.
 *
 * ```ts jest
 * import { expect, test } from '@jest/globals';
 * import * as tf from '@tensorflow/tfjs';
 * import { gradgradMatchers } from 'tfjs-loss-adapter/jest';
 *
 * expect.extend(gradgradMatchers);
 *
 * test('x³ is twice differentiable', () => {
 *   expect((x: tf.Tensor) => tf.sum(tf.pow(x, 3))).toPassGradgradcheck([tf.tensor1d([1, -2, 3])]);
 * });
 * ```
 */
export const gradgradMatchers = { toPassGradgradcheck, toPassGradgradcheckAsync };
