import { webglUnpacked } from '../../core/tfjsInternals';
import type { BinaryCrossEntropyWithLogitsArgs, DeviceKernel } from '../args';
import { broadcastAccess, combine, elementwiseBackward, elementwiseForward, upstreamAccess, viewAs, unpackedTensors } from './programs';

/**
 * Reads the logits and targets element by element, flattened, with their weights (`weightAt(e)`,
 * `posWeightAt(e)`), and defines `softplusPair(x)`: `(softplus(x), softplus(-x))` sharing `log1p(exp(-|x|))`.
 */
function elementAccess(args: BinaryCrossEntropyWithLogitsArgs) {
  return combine(broadcastAccess('weight', args.weight, args.input.shape), broadcastAccess('posWeight', args.posWeight, args.input.shape), {
    inputs: [
      ['logits', viewAs(args.input, [args.input.size])],
      ['targets', viewAs(args.target, [args.target.size])],
    ],
    uniforms: [],
    glsl: `
vec2 softplusPair(float x) {
  float shared = log1pAccurate(expAccurate(-abs(x)));
  return vec2(max(x, 0.0) + shared, max(-x, 0.0) + shared);
}`,
  });
}

/**
 * Binary cross-entropy of logits `x` against targets `y` on webgl, PyTorch's `(1-y)·x - (1+(pw-1)·y)·log σ(x)`
 * written without cancellation between large terms:
 *
 *     loss_e = w·((1-y)·softplus(x) + pw·y·softplus(-x))                 'mean' = Σ_e loss_e / N
 *     ∂loss_e/∂x = w·((1+(pw-1)·y)·σ(x) - pw·y)          ∂loss_e/∂y = w·((pw-1)·softplus(-x) - x)
 *
 * finite for any finite logit; `weight` and `posWeight` broadcast against the input. The gradients are
 * written so that they keep float32 accuracy where they are small: the input's, `L·σ(x) - pw·y` with
 * `L = 1+(pw-1)·y`, as `(1-y) - L·σ(-x)` for x ≥ 0 (exact for a confident hard target, and σ(x) - y
 * does not cancel when σ(x) is near y); the target's is exactly -x for pw = 1 (`softplus(-x) - softplus(x) = -x`).
 *
 * Programs: the per-element loss ('none') or two reduction levels; backward: the two gradients (the
 * mean's denominator is the element count, known on the host).
 */
export const binaryCrossEntropyWithLogitsWebGL: DeviceKernel<BinaryCrossEntropyWithLogitsArgs> = {
  differentiable: ['input', 'target'],
  forward(received) {
    const args = unpackedTensors(received);
    return {
      value: elementwiseForward(
        args.input,
        elementAccess(args),
        `
float sampleLoss(int e) {
  float y = getTargets(e);
  vec2 softplus = softplusPair(getLogits(e));
  return weightAt(e) * ((1.0 - y) * softplus.x + posWeightAt(e) * y * softplus.y);
}
float sampleDenominator(int e) { return 1.0; }`,
        args.reduction,
      ).value,
      saved: [],
    };
  },
  backward(upstreamGradient, received) {
    const args = unpackedTensors(received);
    const dy = webglUnpacked(upstreamGradient);
    const samples = args.input.size;
    const part = combine(elementAccess(args), upstreamAccess(dy, args.reduction, args.reduction === 'mean' ? 1 / samples : 1));
    return elementwiseBackward(
      args,
      part,
      (formula) => `float x = getLogits(e);
  float y = getTargets(e);
  float pw = posWeightAt(e);
  setOutput(weightAt(e) * (${formula}) * upstream(e));`,
      'x >= 0.0 ? (1.0 - y) - (1.0 + (pw - 1.0) * y) * sigmoid(-x) : (1.0 + (pw - 1.0) * y) * sigmoid(x) - pw * y',
      '(pw - 1.0) * softplusPair(x).y - x',
    );
  },
};
