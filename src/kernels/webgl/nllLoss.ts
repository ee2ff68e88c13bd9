import * as tf from '@tensorflow/tfjs-core';
import { webglUnpacked } from '../../core/tfjsInternals';
import type { DeviceKernel, NllArgs } from '../args';
import {
  classAxisAccess,
  classAxisOutputCoords,
  classAxisShape,
  combine,
  partialMeans,
  perSampleLosses,
  reducePartialMeans,
  runProgram,
  targetClassAccess,
  upstreamAccess,
  upstreamScale,
  viewAs,
  unpackedTensors,
} from './programs';

/**
 * Negative log-likelihood of log-probabilities `x` against class indices `y` on webgl, PyTorch's formula:
 *
 *     loss_n = -w_y·x[n, y]            (0 where y = ignoreIndex)
 *     'mean' = Σ_n loss_n / Σ_{n not ignored} w_{y_n}
 *     ∂loss_n/∂x[n, c] = -w_y·[c = y]
 *
 * For a 'mean' over a zero denominator the loss is NaN, and so is the gradient at each kept sample's
 * target (0 elsewhere). A target that is neither an integer in [0, C) nor ignoreIndex is never used as
 * an index: its sample's loss and gradient row are NaN, and the whole loss and gradient for 'mean' and 'sum'.
 *
 * Programs: the per-sample loss ('none') or two reduction levels; backward: the upstream scale
 * ('mean', 'sum') and the gradient.
 */
export const nllLossWebGL: DeviceKernel<NllArgs> = {
  differentiable: ['logProbabilities'],
  forward(received, recording) {
    const args = unpackedTensors(received);
    const { layout, reduction } = args;
    const samples = layout.outer * layout.inner;
    const terms = {
      samples,
      ...combine(
        classAxisAccess('logProbabilities', args.logProbabilities, layout),
        targetClassAccess(args.target, args.weight, layout.classes, args.ignoreIndex),
        {
          inputs: [],
          uniforms: [],
          glsl: `
float sampleLoss(int s) {
  int y = targetClass(s);
  if (y == IGNORED) return 0.0;
  if (y == INVALID) return NAN;
  return -classWeight(y) * logProbabilitiesAt(logProbabilitiesSite(s), y);
}
float sampleDenominator(int s) {
  int y = targetClass(s);
  return y == IGNORED ? 0.0 : y == INVALID ? NAN : classWeight(y);
}`,
        },
      ),
    };
    if (reduction === 'none') return { value: tf.reshape(perSampleLosses(terms), args.sampleShape), saved: [] };
    const partials = partialMeans(terms);
    return { value: reducePartialMeans(partials, samples, reduction), saved: recording ? [partials] : [] };
  },
  backward(upstreamGradient, received, saved) {
    const args = unpackedTensors(received);
    const dy = webglUnpacked(upstreamGradient);
    const { layout, reduction } = args;
    const samples = layout.outer * layout.inner;
    const scale = reduction === 'none' ? 1 : upstreamScale(saved[0], samples, dy, reduction);
    const gradient = runProgram(
      classAxisShape(layout),
      combine(targetClassAccess(args.target, args.weight, layout.classes, args.ignoreIndex), upstreamAccess(dy, reduction, scale)),
      `void main() {
  ${classAxisOutputCoords(layout)}
  float u = upstream(s);
  int y = targetClass(s);
  if (isnan(u) || y == INVALID) { setOutput(NAN); return; }
  if (c != y) { setOutput(0.0); return; }
  setOutput(isinf(u) ? NAN : -classWeight(y) * u);
}`,
    );
    return [viewAs(gradient, args.logProbabilities.shape)];
  },
};
