/// <reference types="expect" preserve="true" />
/**
 * `tfjs-loss-adapter/jest`: Jest matchers for tensors, gradients, equivalent losses and tensor leaks.
 *
 * ```ts jest
 * import * as tf from '@tensorflow/tfjs';
 * import { crossEntropy, randomCase, type SeededRandom } from 'tfjs-loss-adapter';
 * import 'tfjs-loss-adapter/jest';   // in a test file; or list 'tfjs-loss-adapter/jest/setup' in Jest's setupFilesAfterEnv
 *
 * const myCrossEntropy = (z: tf.Tensor, y: tf.Tensor) => tf.losses.softmaxCrossEntropy(tf.oneHot(y, 3), z);
 * const cases = (random: SeededRandom) => randomCase(random, { kind: 'multiclass', classes: 3 });
 *
 * test('crossEntropy', async () => {
 *   const z = tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]);
 *   const y = tf.tensor1d([0, 1], 'int32');
 *   expect(crossEntropy(z, y)).toBeCloseToTensor(0.3171, { atol: 1e-4 });
 *   expect((z: tf.Tensor) => crossEntropy(z, y)).toPassGradcheck([z]);
 *   expect((z: tf.Tensor) => crossEntropy(z, y)).toPassGradgradcheck([z]);
 *   expect(crossEntropy).toBeEquivalentLoss(myCrossEntropy, cases);
 *   expect(crossEntropy).toMatchTorchFixture('examples/fixtures/cross-entropy.json');   // recorded with python/record_fixture.py
 *   expect(() => crossEntropy(z, y)).not.toLeakTensors();
 *   await expect(async () => {
 *     const loss = crossEntropy(z, y);
 *     await loss.data();
 *     return loss; // a returned tensor is the caller's: disposed, not counted
 *   }).not.toLeakTensors();
 * });
 * ```
 *
 * Importing the module registers the matchers with the global `expect`; `matchers` is exported too,
 * for `expect.extend(matchers)` with `@jest/globals`. Their types extend both the global `expect` of
 * `@types/jest` and the `expect` of `@jest/globals`. No runtime dependency on Jest.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { LossCase } from '../check/cases';
import { compareArrays, DEFAULT_TOLERANCE, describeElement, formatNumber, Tolerance } from '../check/compare';
import { CaseGenerator, checkEquivalence, EquivalenceOptions, LossFunction, LossSide } from '../check/equivalence';
import { gradcheck, GradcheckOptions, TensorFunction } from '../check/gradcheck';
import { formatShape, isTensor } from '../core/tensors';
import { asyncMatchers } from './asyncMatchers';
import type { TorchFixture, TorchFixtureOptions } from '../check/torchFixture';
import { torchFixtureMatchers } from './torchFixtureMatchers';
import { gradgradMatchers } from './gradgradMatchers';

export { asyncMatchers } from './asyncMatchers';
export { gradgradMatchers } from './gradgradMatchers';

/**
 * The matchers' signatures: `R` is what a matcher returns (`void`, or a promise after `.resolves` or
 * `.rejects`), `T` the type of the received value.
 */
export interface TensorMatchers<R, T> {
  /**
   * The received tensor (or nested array) has the expected shape and every element is within
   * `atol + rtol·|expected|`; NaN matches only NaN, ±Infinity only itself. Default tolerance:
   * rtol 1.3e-6, atol 1e-5 (torch.testing.assert_close for float32).
   */
  toBeCloseToTensor(expected: tf.Tensor | tf.TensorLike, tolerance?: Tolerance): R;
  /** The received function passes `gradcheck(fn, inputs, options)`. */
  toPassGradcheck(inputs: readonly tf.Tensor[], options?: GradcheckOptions): R;
  /** The received loss agrees with `other` in value and gradient: `checkEquivalence(received, other, cases, options)`. */
  toBeEquivalentLoss(other: LossFunction | LossSide, cases: readonly LossCase[] | CaseGenerator, options?: EquivalenceOptions): R;
  /** The received function passes `gradgradcheck(fn, inputs, options)`: its second derivatives agree with finite differences of its first. */
  toPassGradgradcheck(inputs: readonly tf.Tensor[], options?: GradcheckOptions): R;
  /** `toPassGradgradcheck`, reading only with `await data()` (webgpu): `await` it. */
  toPassGradgradcheckAsync(inputs: readonly tf.Tensor[], options?: GradcheckOptions): Promise<R>;
  /** `toPassGradcheck`, reading only with `await data()` (webgpu): `await` it. */
  toPassGradcheckAsync(inputs: readonly tf.Tensor[], options?: GradcheckOptions): Promise<R>;
  /** `toBeEquivalentLoss`, reading only with `await data()` (webgpu): `await` it. */
  toBeEquivalentLossAsync(
    other: LossFunction | LossSide,
    cases: readonly LossCase[] | CaseGenerator,
    options?: EquivalenceOptions,
  ): Promise<R>;
  /**
   * The received loss matches a PyTorch fixture (a path, relative to the working directory, or the parsed
   * file) in value and gradients: `checkTorchFixture(received, fixture, options)`.
   */
  toMatchTorchFixture(fixture: string | TorchFixture, options?: TorchFixtureOptions): R;
  /** `toMatchTorchFixture`, reading only with `await data()` (webgpu): `await` it. */
  toMatchTorchFixtureAsync(fixture: string | TorchFixture, options?: TorchFixtureOptions): Promise<R>;
  /**
   * Calling the received function (awaited if it returns a promise) changes `tf.memory().numTensors`,
   * once the tensors it returns are disposed; an error it throws is caught. Use with `.not`, and
   * `await` it when the function is async.
   */
  toLeakTensors(): T extends (...args: never[]) => PromiseLike<unknown> ? Promise<R> : R;
}

// Each declaration merges with Jest's interface of the same name (so it repeats its type parameters)
// and adds the matchers to it.
/* eslint-disable @typescript-eslint/no-empty-object-type */
declare global {
  // The global `expect` of @types/jest: `jest.Matchers`.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    interface Matchers<R, T = {}> extends TensorMatchers<R, T> {}
  }
}

// The `expect` of `@jest/globals` (and of the `expect` package): its `Matchers`. The reference at the
// top of this file brings that package into the program, which an augmentation alone does not.
declare module 'expect' {
  interface Matchers<R extends void | Promise<void>, T = unknown> extends TensorMatchers<R, T> {}
}
/* eslint-enable @typescript-eslint/no-empty-object-type */

/**
 * What Jest passes as `this` to a matcher (only what these matchers read). `isNot` is optional, as in
 * the `MatcherContext` of Jest's `expect` package, so that `expect.extend(matchers)` type-checks.
 */
export interface MatcherContext {
  readonly isNot?: boolean;
}

/** What a matcher returns to Jest: whether it passed, and the message for the failure. */
export interface MatcherResult {
  pass: boolean;
  message: () => string;
}

function usage(matcher: string, problem: string): Error {
  return new Error(`${matcher}: ${problem}`);
}

/** Shape and values of a tensor or nested array, read without leaving a tensor behind. */
function readTensorLike(x: unknown, matcher: string, what: string): { shape: number[]; values: Float32Array | Int32Array | Uint8Array } {
  if (isTensor(x)) {
    if (x.isDisposed) throw usage(matcher, `the ${what} tensor is disposed`);
    return { shape: x.shape.slice(), values: x.dataSync() as Float32Array };
  }
  if (typeof x === 'number' || Array.isArray(x) || ArrayBuffer.isView(x)) {
    const t = tf.tensor(x as tf.TensorLike);
    try {
      return { shape: t.shape.slice(), values: t.dataSync() as Float32Array };
    } finally {
      t.dispose();
    }
  }
  throw usage(matcher, `the ${what} value must be a tf.Tensor or a (nested) array of numbers, got ${x === null ? 'null' : typeof x}`);
}

function toBeCloseToTensor(this: MatcherContext, received: unknown, expected: unknown, tolerance: Tolerance = {}): MatcherResult {
  const name = 'toBeCloseToTensor';
  const actual = readTensorLike(received, name, 'received');
  const wanted = readTensorLike(expected, name, 'expected');
  const rtol = tolerance.rtol ?? DEFAULT_TOLERANCE.rtol;
  const atol = tolerance.atol ?? DEFAULT_TOLERANCE.atol;
  const head = `expect(received)${this.isNot ? '.not' : ''}.${name}(expected, { rtol: ${rtol}, atol: ${atol} })\n\n`;
  const sameShape = actual.shape.length === wanted.shape.length && actual.shape.every((d, a) => d === wanted.shape[a]);
  if (!sameShape) {
    return {
      pass: false,
      message: () => `${head}received shape ${formatShape(actual.shape)}, expected shape ${formatShape(wanted.shape)}`,
    };
  }
  const comparison = compareArrays(actual.values, wanted.values, actual.shape, { rtol, atol });
  const worst = comparison.worst === null ? 'no elements' : describeElement(comparison.worst, { rtol, atol }, 'received', 'expected');
  return {
    pass: comparison.passed,
    message: () =>
      comparison.passed
        ? `${head}all ${comparison.size} elements are within tolerance (max |difference| ${formatNumber(comparison.maxError)}); closest to failing ${worst}`
        : `${head}${comparison.mismatches} of ${comparison.size} elements differ; worst ${worst}; max |difference| ${formatNumber(comparison.maxError)}`,
  };
}

function toPassGradcheck(
  this: MatcherContext,
  received: unknown,
  inputs: readonly tf.Tensor[],
  options: GradcheckOptions = {},
): MatcherResult {
  if (typeof received !== 'function')
    throw usage('toPassGradcheck', `the received value must be a function of tensors, got ${typeof received}`);
  const result = gradcheck(received as TensorFunction, inputs, options);
  return {
    pass: result.passed,
    message: () =>
      `expect(f)${this.isNot ? '.not' : ''}.toPassGradcheck(inputs)\n\n${result.passed ? result.summary : result.failures.join('\n\n')}`,
  };
}

function toBeEquivalentLoss(
  this: MatcherContext,
  received: unknown,
  other: LossFunction | LossSide,
  cases: readonly LossCase[] | CaseGenerator,
  options: EquivalenceOptions = {},
): MatcherResult {
  const report = checkEquivalence(received as LossFunction | LossSide, other, cases, options);
  return {
    pass: report.passed,
    message: () =>
      `expect(loss)${this.isNot ? '.not' : ''}.toBeEquivalentLoss(other, cases)\n\n${report.passed ? report.summary : [report.summary, ...report.failures.slice(1)].join('\n')}`,
  };
}

/** The tensors in a returned value (a tensor, or arrays and plain objects holding tensors). */
function tensorsIn(value: unknown, found: tf.Tensor[] = [], depth = 0): tf.Tensor[] {
  if (isTensor(value)) found.push(value);
  else if (depth < 8 && Array.isArray(value)) value.forEach((item) => tensorsIn(item, found, depth + 1));
  else if (depth < 8 && typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    Object.values(value).forEach((item) => tensorsIn(item, found, depth + 1));
  }
  return found;
}

/** The id the next tensor will get: tensors with an id at least this large were made after this call. */
function nextTensorId(): number {
  const marker = tf.scalar(0);
  marker.dispose();
  return marker.id + 1;
}

function leakResult(isNot: boolean, before: number, firstId: number, returned: unknown, thrown: unknown): MatcherResult {
  // Only tensors made by the call are the caller's to dispose; a returned input stays alive.
  const returnedTensors = new Set(tensorsIn(returned).filter((t) => t.id >= firstId && !t.isDisposed));
  returnedTensors.forEach((t) => t.dispose());
  const count = returnedTensors.size;
  const after = tf.memory().numTensors;
  const leaked = after - before;
  const threw = thrown === undefined ? '' : ` (it threw: ${thrown instanceof Error ? thrown.message.split('\n')[0] : String(thrown)})`;
  const disposed = count > 0 ? `, after disposing the ${count} tensor${count > 1 ? 's' : ''} it returned` : '';
  return {
    pass: leaked > 0,
    message: () =>
      `expect(fn)${isNot ? '.not' : ''}.toLeakTensors()\n\n` +
      (leaked > 0
        ? `fn left ${leaked} tensor${leaked > 1 ? 's' : ''} behind: tf.memory().numTensors went from ${before} to ${after}${disposed}${threw}`
        : `fn left no tensor behind (tf.memory().numTensors ${before} before and after${disposed})${threw}`),
  };
}

function toLeakTensors(this: MatcherContext, received: unknown): MatcherResult | Promise<MatcherResult> {
  if (typeof received !== 'function') throw usage('toLeakTensors', `the received value must be a function, got ${typeof received}`);
  const firstId = nextTensorId();
  const before = tf.memory().numTensors;
  let returned: unknown;
  try {
    returned = (received as () => unknown)();
  } catch (e) {
    return leakResult(this.isNot === true, before, firstId, undefined, e);
  }
  if (returned instanceof Promise) {
    return returned.then(
      (value) => leakResult(this.isNot === true, before, firstId, value, undefined),
      (e) => leakResult(this.isNot === true, before, firstId, undefined, e ?? 'a rejected promise'),
    );
  }
  return leakResult(this.isNot === true, before, firstId, returned, undefined);
}

/**
 * The matchers, for `expect.extend(matchers)` where there is no global `expect` (e.g. `@jest/globals`).
 *
 * ```ts jest
 * import { expect, test } from '@jest/globals';
 * import * as tf from '@tensorflow/tfjs';
 * import { matchers } from 'tfjs-loss-adapter/jest';
 *
 * expect.extend(matchers);
 *
 * test('the matchers with the expect of @jest/globals', () => {
 *   expect(tf.tensor1d([1, 2])).toBeCloseToTensor([1, 2.000001]);
 *   expect(tf.tensor1d([1, 2])).not.toBeCloseToTensor([1, 2.001]);
 * });
 * ```
 */
export const matchers = { toBeCloseToTensor, toPassGradcheck, toBeEquivalentLoss, toLeakTensors, ...torchFixtureMatchers };

interface ExpectWithExtend {
  extend(
    matchers: Record<string, (this: MatcherContext, received: unknown, ...args: never[]) => MatcherResult | Promise<MatcherResult>>,
  ): void;
}

const globalExpect = (globalThis as { expect?: ExpectWithExtend }).expect;
if (globalExpect !== undefined && typeof globalExpect.extend === 'function')
  globalExpect.extend({ ...matchers, ...asyncMatchers, ...gradgradMatchers });
