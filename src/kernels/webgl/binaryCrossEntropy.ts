import { webglUnpacked } from '../../core/tfjsInternals';
import type { BinaryCrossEntropyArgs, DeviceKernel } from '../args';
import {
  broadcastAccess,
  combine,
  elementwiseBackward,
  elementwiseForward,
  upstreamAccess,
  upstreamScale,
  viewAs,
  unpackedTensors,
} from './programs';

/**
 * Reads the probabilities and targets element by element, flattened, with their weight (`weightAt(e)`),
 * and defines the logs BCE needs: `log x` and `log(1-x)` (-Infinity at 0), and `log((1-x)/x)`, which
 * near x = 1/2 is `log1p((1-2x)/x)`: the difference of the two logs would cancel there.
 */
function elementAccess(args: BinaryCrossEntropyArgs) {
  return combine(broadcastAccess('weight', args.weight, args.input.shape), {
    inputs: [
      ['probabilities', viewAs(args.input, [args.input.size])],
      ['targets', viewAs(args.target, [args.target.size])],
    ],
    uniforms: [],
    glsl: `
bool invalidProbability(float x) { return !(x >= 0.0 && x <= 1.0); }
float logOrMinusInfinity(float x) { return x > 0.0 ? logAccurate(x) : -infinity(); }
float log1mOrMinusInfinity(float x) { return x < 1.0 ? log1pAccurate(-x) : -infinity(); }
float logOneMinusOverX(float x) {
  if (x > 0.25 && x < 0.75) return log1pAccurate((1.0 - 2.0 * x) / x);
  return log1mOrMinusInfinity(x) - logOrMinusInfinity(x);
}`,
  });
}

/**
 * Binary cross-entropy of probabilities `x` against targets `y` on webgl, PyTorch's formula (each log
 * clamped at -100, so that x = 0 or 1 gives a finite loss; PyTorch's floor 1e-12 on `x(1-x)`):
 *
 *     loss_e = -w·(y·max(log x, -100) + (1-y)·max(log(1-x), -100))       'mean' = Σ_e loss_e / N
 *     ∂loss_e/∂x = w·(x - y) / max(x·(1-x), 1e-12)        ∂loss_e/∂y = w·(log(1-x) - log x)   (not clamped)
 *
 * with `log x` and `log(1-x)` accurate near 1 and 0. The weight broadcasts against the input. A
 * probability outside [0, 1] (or NaN) makes its element's loss and gradients NaN, and the whole loss
 * and gradients for 'mean' and 'sum'.
 *
 * Programs: the per-element loss ('none') or two reduction levels; backward: the upstream scale
 * ('mean', 'sum' when the probabilities were not checked on the host) and the two gradients.
 */
export const binaryCrossEntropyWebGL: DeviceKernel<BinaryCrossEntropyArgs> = {
  differentiable: ['input', 'target'],
  forward(received, recording) {
    const args = unpackedTensors(received);
    const { value, partials } = elementwiseForward(
      args.input,
      elementAccess(args),
      `
float sampleLoss(int e) {
  float x = getProbabilities(e);
  if (invalidProbability(x)) return NAN;
  float y = getTargets(e);
  return -weightAt(e) * (y * max(logOrMinusInfinity(x), -100.0) + (1.0 - y) * max(log1mOrMinusInfinity(x), -100.0));
}
float sampleDenominator(int e) { return invalidProbability(getProbabilities(e)) ? NAN : 1.0; }`,
      args.reduction,
    );
    return { value, saved: recording && args.poison && partials !== null ? [partials] : [] };
  },
  backward(upstreamGradient, received, saved) {
    const args = unpackedTensors(received);
    const dy = webglUnpacked(upstreamGradient);
    const { reduction } = args;
    const samples = args.input.size;
    const scale =
      reduction === 'none' ? 1 : args.poison ? upstreamScale(saved[0], samples, dy, reduction) : reduction === 'mean' ? 1 / samples : 1;
    const part = combine(elementAccess(args), upstreamAccess(dy, reduction, scale));
    return elementwiseBackward(
      args,
      part,
      (formula) => `float x = getProbabilities(e);
  float y = getTargets(e);
  float u = upstream(e);
  setOutput(isnan(u) || invalidProbability(x) ? NAN : weightAt(e) * (${formula}) * u);`,
      '(x - y) / max(x * (1.0 - x), 1e-12)',
      'logOneMinusOverX(x)',
    );
  },
};
