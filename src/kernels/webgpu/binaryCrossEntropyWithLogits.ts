import * as tf from '@tensorflow/tfjs-core';
import type { BinaryCrossEntropyWithLogitsArgs, DeviceForward, DeviceKernel } from '../args';
import { elementwiseBackward, elementwiseForward, withRecordedForward } from './programs';

/**
 * Binary cross-entropy of logits `x` against targets `y`, element by element, with weight `w` and
 * positive weight `pw` (each broadcast to the input's shape):
 *
 *     loss = w·((1-y)·softplus(x) + pw·y·softplus(-x))          'mean' = Σ loss / size
 *     ∂/∂x = w·((1-y)·σ(x) - pw·y·σ(-x))          ∂/∂y = w·(pw·softplus(-x) - softplus(x))
 *
 * PyTorch's `(1-y)·x + (1+(pw-1)·y)·softplus(-x)`, without its cancellation between large terms: both
 * softplus share `log1p(exp(-|x|))`, and `σ(±x)` follow from `exp(-|x|)` too, so every finite logit
 * gives a finite loss and gradient. One pass (which, when recording, also writes both gradients) and its
 * reduction forward; backward, one program per gradient that scales what the pass wrote.
 */
export const binaryCrossEntropyWithLogitsWebGPU: DeviceKernel<BinaryCrossEntropyWithLogitsArgs> = {
  differentiable: ['input', 'target'],

  forward(args: BinaryCrossEntropyWithLogitsArgs, recording: boolean): DeviceForward {
    const code = `let small = exp(-abs(x));
      let log1pSmall = log1pAccurate(small);
      let softplusX = max(x, 0.0) + log1pSmall;
      let softplusNegX = max(-x, 0.0) + log1pSmall;
      let sigmoidLarge = 1.0 / (1.0 + small);
      let sigmoidX = select(small * sigmoidLarge, sigmoidLarge, x >= 0.0);
      let sigmoidNegX = select(sigmoidLarge, small * sigmoidLarge, x >= 0.0);
      loss = w * ((1.0 - y) * softplusX + pw * y * softplusNegX);
      inputGradient = w * ((1.0 - y) * sigmoidX - pw * y * sigmoidNegX);
      targetGradient = w * (pw * softplusNegX - softplusX);`;
    return elementwiseForward('bceLogits', args, { code, checksInput: false }, recording);
  },

  backward(dy: tf.Tensor, args: BinaryCrossEntropyWithLogitsArgs, saved: tf.Tensor[]): tf.Tensor[] {
    if (saved.length === 0) return withRecordedForward(binaryCrossEntropyWithLogitsWebGPU, dy, args);
    return elementwiseBackward(args, dy, saved);
  },
};
