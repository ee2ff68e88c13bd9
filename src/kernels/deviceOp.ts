import * as tf from '@tensorflow/tfjs-core';
import { engineState, isRecordingBackward, isRecordingGradient, mayRecordBackward } from '../core/tfjsInternals';
import type { DeviceKernel } from './args';
import { DifferentiableGradient, keepArguments } from './secondOrder';

/**
 * Runs a device kernel as one `tf.customGrad` op over its differentiable arguments. Every tensor of
 * `args`, and what the forward pass saves, is kept (as clones sharing the data: no copy, no GPU
 * program) until the backward pass, which may run after the loss's `tf.tidy` has ended. The backward
 * pass is the kernel's own, or `differentiableGradient` when it is itself being recorded.
 */
export function runDeviceKernel<A extends object>(
  kernel: DeviceKernel<A>,
  args: A,
  differentiableGradient: DifferentiableGradient<A>,
): tf.Tensor {
  const entries = args as Record<string, unknown>;
  const differentiable = kernel.differentiable as readonly string[];
  const op = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = inputs[differentiable.length] as tf.GradSaveFunc;
    const live: Record<string, unknown> = { ...entries };
    differentiable.forEach((key, k) => (live[key] = inputs[k]));
    // Without the engine's state (a renamed internal), assume a tape: saving is free when there is none.
    const recording = isRecordingGradient() || engineState() === null;
    const { value, saved } = kernel.forward(live as A, recording);
    const kept = keepArguments(live as A, mayRecordBackward() ? differentiable : null);
    if (recording) save([...kept.tensors(), ...saved]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, keptTensors: tf.Tensor[]) => {
        const restored = kept.restore(keptTensors);
        if (isRecordingBackward()) return differentiableGradient(restored, dy);
        return kernel.backward(dy, restored, keptTensors.slice(kept.count));
      },
    };
  });
  return op(...differentiable.map((key) => entries[key] as tf.Tensor));
}
