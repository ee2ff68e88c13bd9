import * as tf from '@tensorflow/tfjs-core';
import { elementwiseLayout } from '../../core/layout';
import type { Reduction } from '../../core/options';
import type { BinaryCrossEntropyArgs } from '../args';
import { LOG_FLOOR, VARIANCE_FLOOR } from '../pytorchConstants';
import { broadcastWeightValues } from './broadcastWeight';
import { elementwiseOutputs, finishElementwise, FusedResult, hostOp } from './hostOp';

/** Inputs of the binary cross-entropy kernels, already validated and read to the host, all of one shape. */
export interface HostBinaryCrossEntropyArgs {
  input: Float32Array;
  target: Float32Array;
  /** One weight per element (already broadcast), or null for all ones. */
  weight: Float32Array | null;
  reduction: Reduction;
  /** Shape of the input: the shape of the per-element loss ('none'). */
  shape: number[];
}

/**
 * Binary cross-entropy of probabilities `x` in one pass: loss `-w·(y·max(log x, -100) + (1-y)·max(log(1-x), -100))`
 * and, when asked, PyTorch's gradients `w·(x-y)/max(x(1-x), 1e-12)` for the input and `-w·logit(x)` for
 * the target (not clamped: ±Infinity at x = 0 or 1, as PyTorch), scaled by 1/size for 'mean'.
 * Accumulates in float64. Probabilities must already be checked to lie in [0, 1].
 */
export function binaryCrossEntropyFromProbabilities(args: HostBinaryCrossEntropyArgs, withGradients: boolean): FusedResult {
  const { input, target, weight, reduction } = args;
  const out = elementwiseOutputs(input.length, reduction, withGradients);
  const { scale, perElement, inputGradient, targetGradient } = out;
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
  return finishElementwise(total, out, args.shape, reduction);
}

/** Binary cross-entropy of probabilities on the host: the weight read and broadcast once, then one fused pass. */
export function binaryCrossEntropyHost(args: BinaryCrossEntropyArgs): tf.Tensor {
  const { input, reduction } = args;
  const weight = broadcastWeightValues(args.weight, input.shape);
  return hostOp([input, args.target], elementwiseLayout(input.size), (withGradients, [x, y]) =>
    binaryCrossEntropyFromProbabilities({ input: x, target: y, weight, reduction, shape: input.shape }, withGradients),
  );
}
