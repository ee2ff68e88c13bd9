/**
 * The asynchronous matchers of `tfjs-loss-adapter/jest`: the checks of `toPassGradcheck` and
 * `toBeEquivalentLoss`, reading tensors only with `await data()`, for backends that must not be read
 * synchronously (webgpu). Jest returns a promise for them: `await` it.
 *
 * ```ts jest
 * import * as tf from '@tensorflow/tfjs';
 * import { crossEntropy, nllLoss } from 'tfjs-loss-adapter';
 * import 'tfjs-loss-adapter/jest';
 *
 * test('crossEntropy, read with await data()', async () => {
 *   const z = tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]);
 *   const y = tf.tensor1d([0, 1], 'int32');
 *   await expect((z: tf.Tensor) => crossEntropy(z, y)).toPassGradcheckAsync([z]);
 *   await expect(crossEntropy).toBeEquivalentLossAsync((z, y) => nllLoss(tf.logSoftmax(z), y), [{ input: z, target: y }]);
 *   await expect(crossEntropy).toMatchTorchFixtureAsync('examples/fixtures/cross-entropy.json');
 * });
 * ```
 */
import type * as tf from '@tensorflow/tfjs-core';
import type { LossCase } from '../check/cases';
import { CaseGenerator, checkEquivalenceAsync, EquivalenceOptions, LossFunction, LossSide } from '../check/equivalence';
import { gradcheckAsync, GradcheckOptions, TensorFunction } from '../check/gradcheck';
import type { MatcherContext, MatcherResult } from './index';
import { torchFixtureAsyncMatchers } from './torchFixtureMatchers';

async function toPassGradcheckAsync(
  this: MatcherContext,
  received: unknown,
  inputs: readonly tf.Tensor[],
  options: GradcheckOptions = {},
): Promise<MatcherResult> {
  if (typeof received !== 'function')
    throw new Error(`toPassGradcheckAsync: the received value must be a function of tensors, got ${typeof received}`);
  const result = await gradcheckAsync(received as TensorFunction, inputs, options);
  const details = result.passed ? result.summary : result.failures.join('\n\n');
  return { pass: result.passed, message: () => `expect(f)${this.isNot ? '.not' : ''}.toPassGradcheckAsync(inputs)\n\n${details}` };
}

async function toBeEquivalentLossAsync(
  this: MatcherContext,
  received: unknown,
  other: LossFunction | LossSide,
  cases: readonly LossCase[] | CaseGenerator,
  options: EquivalenceOptions = {},
): Promise<MatcherResult> {
  const report = await checkEquivalenceAsync(received as LossFunction | LossSide, other, cases, options);
  const details = report.passed ? report.summary : [report.summary, ...report.failures.slice(1)].join('\n');
  return {
    pass: report.passed,
    message: () => `expect(loss)${this.isNot ? '.not' : ''}.toBeEquivalentLossAsync(other, cases)\n\n${details}`,
  };
}

/**
 * The asynchronous matchers, for `expect.extend({ ...matchers, ...asyncMatchers })` where there is no global `expect`.
 *
 * ```ts jest
 * import { expect, test } from '@jest/globals';
 * import * as tf from '@tensorflow/tfjs';
 * import { binaryCrossEntropyWithLogits } from 'tfjs-loss-adapter';
 * import { asyncMatchers, matchers } from 'tfjs-loss-adapter/jest';
 *
 * expect.extend({ ...matchers, ...asyncMatchers });
 *
 * test('a gradient read with await data()', async () => {
 *   const t = tf.tensor1d([1, 0, 1]);
 *   await expect((x: tf.Tensor) => binaryCrossEntropyWithLogits(x, t)).toPassGradcheckAsync([tf.tensor1d([0.5, -1, 2])]);
 * });
 * ```
 */
export const asyncMatchers = { toPassGradcheckAsync, toBeEquivalentLossAsync, ...torchFixtureAsyncMatchers };
