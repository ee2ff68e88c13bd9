import * as tf from '@tensorflow/tfjs-core';
import { elementwiseLayout } from '../../core/layout';
import type { BinaryCrossEntropyWithLogitsArgs } from '../args';
import { HostBinaryCrossEntropyArgs } from './binaryCrossEntropy';
import { broadcastWeightValues } from './broadcastWeight';
import { softplusOfNegative } from './fastMath';
import { elementwiseOutputs, finishElementwise, FusedResult, hostOp } from './hostOp';
import { SimdKernels, simdKernels } from './simd/simdKernels';

/**
 * Binary cross-entropy of logits `x` in one pass, in the form `w·((1-y)·softplus(x) + pw·y·softplus(-x))`
 * (algebraically PyTorch's `(1-y)·x + (1+(pw-1)·y)·softplus(-x)`, with no cancellation between large
 * terms), where both softplus share `log1p(exp(-|x|))`, so any finite logit gives a finite loss.
 * When asked, the gradients `w·((1-y)·σ(x) - pw·y·σ(-x))` for the input and `w·(pw·softplus(-x) - softplus(x))`
 * for the target, scaled by 1/size for 'mean'. Accumulates in float64; `softplusOfNegative` gives
 * softplus and sigmoid from one table lookup per element.
 */
export function binaryCrossEntropyFromLogits(
  args: HostBinaryCrossEntropyArgs & { posWeight: Float32Array | null },
  withGradients: boolean,
): FusedResult {
  const { input, target, weight, posWeight, reduction } = args;
  const size = input.length;
  const out = elementwiseOutputs(size, reduction, withGradients);
  const { scale, perElement, inputGradient, targetGradient } = out;
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
  return finishElementwise(total, out, args.shape, reduction);
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
  args: HostBinaryCrossEntropyArgs & { posWeight: Float32Array | null },
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

/** Binary cross-entropy of logits on the host: weights read and broadcast once, then one fused pass. */
export function binaryCrossEntropyWithLogitsHost(args: BinaryCrossEntropyWithLogitsArgs): tf.Tensor {
  const { input, reduction } = args;
  const weight = broadcastWeightValues(args.weight, input.shape);
  const posWeight = broadcastWeightValues(args.posWeight, input.shape);
  return hostOp([input, args.target], elementwiseLayout(input.size), (withGradients, [x, y]) =>
    binaryCrossEntropyFromLogits({ input: x, target: y, weight, posWeight, reduction, shape: input.shape }, withGradients),
  );
}
