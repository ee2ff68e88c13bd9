import * as tf from '@tensorflow/tfjs-core';
import type { BinaryCrossEntropyArgs, DeviceForward, DeviceKernel } from '../args';
import { elementwiseBackward, elementwiseForward, withRecordedForward } from './programs';

/**
 * Binary cross-entropy of probabilities `x` against targets `y`, element by element, with weight `w`
 * (broadcast to the input's shape), PyTorch's clamp of each log at -100 and its floor on `x(1-x)`:
 *
 *     loss = -w·(y·max(log x, -100) + (1-y)·max(log(1-x), -100))          'mean' = Σ loss / size
 *     ∂/∂x = w·(x - y)/max(x(1-x), 1e-12)          ∂/∂y = w·(log(1-x) - log x)   (±Infinity at 0 and 1)
 *
 * Under `poison`, a probability outside [0, 1] (or NaN) makes its element's loss and gradients NaN
 * ('none'), or the whole loss and gradients ('mean', 'sum'). One pass (which, when recording, also
 * writes both gradients) and its reduction forward; backward, one program per gradient that scales
 * what the pass wrote.
 */
export const binaryCrossEntropyWebGPU: DeviceKernel<BinaryCrossEntropyArgs> = {
  differentiable: ['input', 'target'],

  forward(args: BinaryCrossEntropyArgs, recording: boolean): DeviceForward {
    // log(0) is -Infinity here whatever the shader's log gives at 0 (SwiftShader's is finite at 1 - 1).
    const code = `let logX = select(-infinity(), log(x), x > 0.0);
      let log1mX = select(-infinity(), log1pAccurate(-x), x < 1.0);
      loss = -w * (y * max(logX, -100.0) + (1.0 - y) * max(log1mX, -100.0));
      inputGradient = w * (x - y) / max(x * (1.0 - x), 1e-12);
      targetGradient = w * (log1mX - logX);
      ${args.poison ? 'let invalid = !(x >= 0.0 && x <= 1.0);' : ''}`;
    return elementwiseForward(`bce${args.poison ? 'Checked' : ''}`, args, { code, checksInput: args.poison }, recording);
  },

  backward(dy: tf.Tensor, args: BinaryCrossEntropyArgs, saved: tf.Tensor[]): tf.Tensor[] {
    if (saved.length === 0) return withRecordedForward(binaryCrossEntropyWebGPU, dy, args);
    return elementwiseBackward(args, dy, saved);
  },
};
