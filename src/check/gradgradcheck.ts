import * as tf from '@tensorflow/tfjs-core';
import {
  GRADCHECK_DEFAULTS,
  GradcheckOptions,
  GradcheckResult,
  gradcheckSteps,
  randomUnitVector,
  resolveSettings,
  TensorFunction,
  throwUnlessPassed,
} from './gradcheck';
import { streamSeed } from './random';
import { Reads, runAsync, runSync } from './reads';

const FN = 'gradgradcheck';

/** Options of `gradgradcheck`: those of `gradcheck`, applied to the first derivative; defaults `GRADGRADCHECK_DEFAULTS`. */
export type GradgradcheckOptions = GradcheckOptions;

/**
 * The defaults of `gradgradcheck`: `gradcheck`'s, measured again for second derivatives (see `gradgradcheck`).
 *
 * ```js
 * console.log(GRADGRADCHECK_DEFAULTS.step, GRADGRADCHECK_DEFAULTS.rtol, GRADGRADCHECK_DEFAULTS === GRADCHECK_DEFAULTS); // => 0.01 0.001 true
 * ```
 */
export const GRADGRADCHECK_DEFAULTS = GRADCHECK_DEFAULTS;

/**
 * Checks the second derivatives `tf.grads` gives for `f` against finite differences of its first
 * derivatives: the tfjs counterpart of `torch.autograd.gradgradcheck`. As there, it is `gradcheck` of
 * the first derivative: with a seeded random unit cotangent `v` of f's output,
 *
 *     f'(x) = the gradients of φ = Σ v·f(x) for the checked inputs, flattened and concatenated
 *
 * and `gradcheck(f', inputs, options)` then compares `tf.grads` of `Σ w·f'` (a gradient of a
 * gradient: Hessian-vector products with gradcheck's own seeded cotangent w) with Richardson-
 * extrapolated central differences of f' along the seeded directions, with the same float32-aware
 * tolerance, side checks and report (`GradcheckResult`, its messages naming gradgradcheck). A first
 * derivative that is a constant to the tape (computed on the host, or from values an outer tape does
 * not connect) fails the `differentiable` side check; one whose second derivative is identically 0
 * everywhere makes the check vacuous, which fails too (f is linear in the checked inputs: nothing to
 * compare). An error computing the first derivative at the given inputs propagates: run `gradcheck`
 * first.
 *
 * The defaults are `gradcheck`'s (step 1e-2, rtol 1e-3, atol 1e-5, 4 directions, axes up to 64
 * elements), measured for second derivatives with `tools/gradcheck-calibration/gradgrad.ts`: on 1500
 * seeded random correct cases each of cpu and wasm (this library's four losses with random options on
 * both kernel paths, and `sin(x·W)²`), no false alarm, the worst at 0.11 of its tolerance; of 100
 * planted bugs of each kind (softmax cross-entropy), a Hessian scaled by 1.01: 99 flagged, a missing
 * `-p·pᵀ` term: 100, a first derivative that is a constant to the tape: 100.
 *
 * ```js
 * const z = tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]);
 * const y = tf.tensor1d([0, 1], 'int32');
 * console.log(gradgradcheck((z, y) => crossEntropy(z, y), [z, y]).passed); // => true
 * ```
 */
export function gradgradcheck(f: TensorFunction, inputs: readonly tf.Tensor[], options: GradgradcheckOptions = {}): GradcheckResult {
  return runSync(gradgradcheckSteps(f, inputs, options));
}

/**
 * `gradgradcheck`, reading tensors only with `await data()` (webgpu), with the same result wherever both run.
 *
 * ```js
 * const x = tf.tensor1d([0.5, -1, 2]);
 * const t = tf.tensor1d([1, 0, 1]);
 * const result = await gradgradcheckAsync((x, t) => binaryCrossEntropyWithLogits(x, t), [x, t], { wrt: [0] });
 * console.log(result.passed); // => true
 * ```
 */
export function gradgradcheckAsync(
  f: TensorFunction,
  inputs: readonly tf.Tensor[],
  options: GradgradcheckOptions = {},
): Promise<GradcheckResult> {
  return runAsync(gradgradcheckSteps(f, inputs, options));
}

/**
 * Runs `gradgradcheck` and throws a `GradcheckError` (carrying the result) when any check fails.
 *
 * ```js
 * console.log(assertGradgradcheck((x) => tf.sum(tf.pow(x, 3)), [tf.tensor1d([1, -2, 3])]).passed); // => true
 * // x·2 is linear: its first derivative is a constant the tape cannot differentiate.
 * try { assertGradgradcheck((x) => tf.sum(tf.mul(x, 2)), [tf.tensor1d([1, -2, 3])]); } catch (e) {
 *   console.log(e.name, e.result.sideChecks.find((c) => !c.passed).name); // => GradcheckError differentiable
 * }
 * ```
 */
export function assertGradgradcheck(f: TensorFunction, inputs: readonly tf.Tensor[], options: GradgradcheckOptions = {}): GradcheckResult {
  return throwUnlessPassed(gradgradcheck(f, inputs, options));
}

/**
 * Runs `gradgradcheckAsync` and rejects with a `GradcheckError` (carrying the result) when any check fails.
 *
 * ```js
 * const result = await assertGradgradcheckAsync((x) => tf.sum(tf.pow(x, 3)), [tf.tensor1d([1, -2, 3])]);
 * console.log(result.passed); // => true
 * ```
 */
export async function assertGradgradcheckAsync(
  f: TensorFunction,
  inputs: readonly tf.Tensor[],
  options: GradgradcheckOptions = {},
): Promise<GradcheckResult> {
  return throwUnlessPassed(await gradgradcheckAsync(f, inputs, options));
}

/** The steps of `gradgradcheck`, whichever way its tensors are read. */
export function* gradgradcheckSteps(
  f: TensorFunction,
  inputs: readonly tf.Tensor[],
  options: GradgradcheckOptions,
): Reads<GradcheckResult> {
  const { wrt, seed } = resolveSettings(f, inputs, { ...GRADGRADCHECK_DEFAULTS, ...options }, FN);
  return yield* gradcheckSteps(firstDerivative(f, wrt, seed), inputs, { ...GRADGRADCHECK_DEFAULTS, ...options, wrt }, FN);
}

/** f' of `gradgradcheck`: the gradients of `Σ v·f` for the inputs `wrt`, flattened and concatenated; v seeded, drawn once f's output shape is known. */
function firstDerivative(f: TensorFunction, wrt: readonly number[], seed: number): TensorFunction {
  let cotangent: { values: Float32Array; shape: number[] } | null = null;
  return (...args) => {
    if (cotangent === null) {
      const shape = tf.tidy(() => f(...args).shape.slice());
      cotangent = { values: randomUnitVector(tf.util.sizeFromShape(shape), streamSeed(seed, 0x64647976)), shape }; // 'ddyv'
    }
    const withChecked = (...checked: tf.Tensor[]) => {
      const all = args.slice();
      wrt.forEach((i, k) => (all[i] = checked[k]));
      return f(...all);
    };
    const gradients = tf.grads(withChecked)(
      wrt.map((i) => args[i]),
      tf.tensor(cotangent.values, cotangent.shape, 'float32'),
    );
    return tf.concat(gradients.map((g) => tf.reshape(g, [-1])));
  };
}
