import * as tf from '@tensorflow/tfjs-core';
import type { Reduction } from '../core/options';
import { reduceLoss, reductionScale, softplusPair } from './composite';
import type { CompositeResult, FusedResult } from './fusedLoss';
import { softplusOfNegative } from './fastMath';
import { SimdKernels, simdKernels } from './simdKernels';
import { finish } from './fusedLoss';

/** Inputs of the binary cross-entropy kernels, already validated and read to the host, all of one shape. */
export interface BinaryCrossEntropyArgs {
  input: Float32Array;
  target: Float32Array;
  /** One weight per element (already broadcast), or null for all ones. */
  weight: Float32Array | null;
  reduction: Reduction;
  /** Shape of the input: the shape of the per-element loss ('none'). */
  shape: number[];
}

/** PyTorch clamps each log of BCE at -100 so that a probability of exactly 0 or 1 gives a finite loss. */
const LOG_FLOOR = -100;
/** PyTorch's floor on `x(1-x)` in the input gradient of BCE. */
const VARIANCE_FLOOR = 1e-12;

/** What a kernel fills: the per-element loss for 'none', both gradients when asked; `scale` is 1/size for 'mean'. */
function outputs(size: number, reduction: Reduction, withGradients: boolean) {
  return {
    scale: reduction === 'mean' ? 1 / size : 1,
    perElement: reduction === 'none' ? new Float32Array(size) : null,
    inputGradient: withGradients ? new Float32Array(size) : null,
    targetGradient: withGradients ? new Float32Array(size) : null,
  };
}

/**
 * Binary cross-entropy of probabilities `x` in one pass: loss `-w·(y·max(log x, -100) + (1-y)·max(log(1-x), -100))`
 * and, when asked, PyTorch's gradients `w·(x-y)/max(x(1-x), 1e-12)` for the input and `-w·logit(x)` for
 * the target (not clamped: ±Infinity at x = 0 or 1, as PyTorch), scaled by 1/size for 'mean'.
 * Accumulates in float64. Probabilities must already be checked to lie in [0, 1].
 */
export function binaryCrossEntropyFromProbabilities(args: BinaryCrossEntropyArgs, withGradients: boolean): FusedResult {
  const { input, target, weight, reduction } = args;
  const { scale, perElement, inputGradient, targetGradient } = outputs(input.length, reduction, withGradients);
  let total = 0;
  for (let e = 0; e < input.length; e++) {
    const x = input[e];
    const y = target[e];
    const w = weight === null ? 1 : weight[e];
    const logX = Math.log(x);
    const logOneMinusX = Math.log1p(-x);
    const loss = -w * (y * Math.max(logX, LOG_FLOOR) + (1 - y) * Math.max(logOneMinusX, LOG_FLOOR));
    total += loss;
    if (perElement !== null) perElement[e] = loss;
    if (inputGradient !== null && targetGradient !== null) {
      inputGradient[e] = ((w * (x - y)) / Math.max(x * (1 - x), VARIANCE_FLOOR)) * scale;
      targetGradient[e] = w * (logOneMinusX - logX) * scale;
    }
  }
  return finish(
    total,
    scale,
    perElement,
    args.shape,
    reduction,
    inputGradient !== null && targetGradient !== null ? [inputGradient, targetGradient] : undefined,
  );
}

/**
 * Binary cross-entropy of logits `x` in one pass, in the form `w·((1-y)·softplus(x) + pw·y·softplus(-x))`
 * (algebraically PyTorch's `(1-y)·x + (1+(pw-1)·y)·softplus(-x)`, with no cancellation between large
 * terms), where both softplus share `log1p(exp(-|x|))`, so any finite logit gives a finite loss.
 * When asked, the gradients `w·((1-y)·σ(x) - pw·y·σ(-x))` for the input and `w·(pw·softplus(-x) - softplus(x))`
 * for the target, scaled by 1/size for 'mean'. Accumulates in float64; `softplusOfNegative` gives
 * softplus and sigmoid from one table lookup per element.
 */
export function binaryCrossEntropyFromLogits(
  args: BinaryCrossEntropyArgs & { posWeight: Float32Array | null },
  withGradients: boolean,
): FusedResult {
  const { input, target, weight, posWeight, reduction } = args;
  const size = input.length;
  const scale = reduction === 'mean' ? 1 / size : 1;
  const perElement = reduction === 'none' ? new Float32Array(size) : null;
  const inputGradient = withGradients ? new Float32Array(size) : null;
  const targetGradient = withGradients ? new Float32Array(size) : null;
  const simd = size >= SIMD_MIN_ELEMENTS ? simdKernels() : null;
  // The SIMD loops take whole vectors of 4; the last 0 to 3 elements stay here.
  const simdCount = simd === null ? 0 : size & ~3;
  let total = simd === null ? 0 : binaryCrossEntropyFromLogitsSimd(simd, args, simdCount, scale, perElement, inputGradient, targetGradient);
  const sigmoid = new Float64Array(1);
  for (let e = simdCount; e < size; e++) {
    const x = input[e];
    const y = target[e];
    const w = weight === null ? 1 : weight[e];
    const pw = posWeight === null ? 1 : posWeight[e];
    const magnitude = Math.abs(x);
    const log1pExp = softplusOfNegative(magnitude, sigmoid); // log1p(exp(-|x|)), and σ(-|x|) in sigmoid[0]
    // No branch on the sign of x (it would mispredict half the time): max(±x, 0) = (|x| ± x)/2 exactly,
    // but for x = ±Infinity, where (|x| ∓ x)/2 is NaN and not 0.
    const infinite = magnitude === Infinity;
    const softplusX = (infinite ? Math.max(x, 0) : 0.5 * (magnitude + x)) + log1pExp; // -log σ(-x)
    const softplusNegX = (infinite ? Math.max(-x, 0) : 0.5 * (magnitude - x)) + log1pExp; // -log σ(x)
    const loss = w * ((1 - y) * softplusX + pw * y * softplusNegX);
    total += loss;
    if (perElement !== null) perElement[e] = loss;
    if (inputGradient !== null && targetGradient !== null) {
      const small = sigmoid[0];
      const sigmoidX = small + (1 - 2 * small) * +(x >= 0);
      const sigmoidNegX = small + (1 - 2 * small) * +(x < 0);
      inputGradient[e] = w * ((1 - y) * sigmoidX - pw * y * sigmoidNegX) * scale;
      targetGradient[e] = w * (pw * softplusNegX - softplusX) * scale;
    }
  }
  const gradients = inputGradient !== null && targetGradient !== null ? [inputGradient, targetGradient] : undefined;
  return finish(total, scale, perElement, args.shape, reduction, gradients);
}

/** Inputs shorter than this stay in JavaScript: copies and calls would cost more than SIMD saves. */
const SIMD_MIN_ELEMENTS = 64;
/** Elements per block in WebAssembly memory: seven float32 arrays of 1 MB at most. */
const SIMD_BLOCK_ELEMENTS = 1 << 18;

/**
 * The first `count` elements (a multiple of 4) of `binaryCrossEntropyFromLogits` through the SIMD loop
 * (float32 arithmetic, float64 sum), in blocks copied in and out of WebAssembly memory; returns the
 * sum of their losses and writes the per-element losses and gradients where those arrays are given.
 */
function binaryCrossEntropyFromLogitsSimd(
  simd: SimdKernels,
  args: BinaryCrossEntropyArgs & { posWeight: Float32Array | null },
  count: number,
  scale: number,
  perElement: Float32Array | null,
  inputGradient: Float32Array | null,
  targetGradient: Float32Array | null,
): number {
  const { input, target, weight, posWeight } = args;
  const arrayBytes = Math.min(count, SIMD_BLOCK_ELEMENTS) * 4;
  // Memory: x, y, weight, posWeight, losses, input gradient, target gradient, one array each.
  const at = (slot: number) => slot * arrayBytes;
  const memory = simd.memory(at(7)).f32;
  let total = 0;
  for (let first = 0; first < count; first += SIMD_BLOCK_ELEMENTS) {
    const n = Math.min(SIMD_BLOCK_ELEMENTS, count - first);
    const block = (values: Float32Array) => values.subarray(first, first + n);
    memory.set(block(input), at(0) / 4);
    memory.set(block(target), at(1) / 4);
    if (weight !== null) memory.set(block(weight), at(2) / 4);
    if (posWeight !== null) memory.set(block(posWeight), at(3) / 4);
    total += simd.bceLogits(
      at(0),
      at(1),
      weight === null ? 0 : at(2),
      posWeight === null ? 0 : at(3),
      n,
      scale,
      perElement === null ? 0 : at(4),
      inputGradient === null ? 0 : at(5),
      targetGradient === null ? 0 : at(6),
    );
    const out = (slot: number) => memory.subarray(at(slot) / 4, at(slot) / 4 + n);
    if (perElement !== null) perElement.set(out(4), first);
    if (inputGradient !== null && targetGradient !== null) {
      inputGradient.set(out(5), first);
      targetGradient.set(out(6), first);
    }
  }
  return total;
}

/** The composites' arguments: as the fused kernels', with input and target as tensors that stay on their backend. */
export interface BinaryCrossEntropyCompositeArgs extends Omit<BinaryCrossEntropyArgs, 'input' | 'target'> {
  input: tf.Tensor;
  target: tf.Tensor;
}

/** A materialised per-element weight as a tensor of `shape`, or null for all ones. */
function weightTensor(weight: Float32Array | null, shape: number[]): tf.Tensor | null {
  return weight === null ? null : tf.tensor(weight, shape, 'float32');
}

function weighted(t: tf.Tensor, weight: tf.Tensor | null): tf.Tensor {
  return weight === null ? t : tf.mul(t, weight);
}

/** `binaryCrossEntropyFromProbabilities` as a composite of tfjs ops (see `KernelPath`). */
export function binaryCrossEntropyFromProbabilitiesComposite(
  args: BinaryCrossEntropyCompositeArgs,
  withGradients: boolean,
): CompositeResult {
  const { input: x, target: y, reduction, shape } = args;
  const weight = weightTensor(args.weight, shape);
  const logX = tf.log(x);
  const logOneMinusX = tf.log1p(tf.neg(x));
  const oneMinusY = tf.sub(1, y);
  const loss = tf.neg(
    weighted(tf.add(tf.mul(y, tf.maximum(logX, LOG_FLOOR)), tf.mul(oneMinusY, tf.maximum(logOneMinusX, LOG_FLOOR))), weight),
  );
  const scale = reductionScale(reduction, x.size);
  const value = reduceLoss(loss, reduction, scale, shape);
  if (!withGradients) return { value };
  const variance = tf.maximum(tf.mul(x, tf.sub(1, x)), VARIANCE_FLOOR);
  const inputGradient = tf.mul(weighted(tf.div(tf.sub(x, y), variance), weight), scale);
  const targetGradient = tf.mul(weighted(tf.sub(logOneMinusX, logX), weight), scale);
  return { value, gradients: [inputGradient, targetGradient] };
}

/** `binaryCrossEntropyFromLogits` as a composite of tfjs ops (see `KernelPath`). */
export function binaryCrossEntropyFromLogitsComposite(
  args: BinaryCrossEntropyCompositeArgs & { posWeight: Float32Array | null },
  withGradients: boolean,
): CompositeResult {
  const { input: x, target: y, reduction, shape } = args;
  const weight = weightTensor(args.weight, shape);
  const posWeight = weightTensor(args.posWeight, shape);
  const negX = tf.neg(x);
  const [softplusX, softplusNegX] = softplusPair(x);
  const oneMinusY = tf.sub(1, y);
  const positiveY = weighted(y, posWeight); // pw·y
  const loss = weighted(tf.add(tf.mul(oneMinusY, softplusX), tf.mul(positiveY, softplusNegX)), weight);
  const scale = reductionScale(reduction, x.size);
  const value = reduceLoss(loss, reduction, scale, shape);
  if (!withGradients) return { value };
  const inputGradient = tf.mul(weighted(tf.sub(tf.mul(oneMinusY, tf.sigmoid(x)), tf.mul(positiveY, tf.sigmoid(negX))), weight), scale);
  const targetGradient = tf.mul(weighted(tf.sub(weighted(softplusNegX, posWeight), softplusX), weight), scale);
  return { value, gradients: [inputGradient, targetGradient] };
}
