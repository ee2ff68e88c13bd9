import * as tf from '@tensorflow/tfjs-core';
import { engineState, isRecordingGradient } from '../core/tfjsInternals';
import type { DeviceKernel } from './args';

/**
 * Runs a device kernel as one `tf.customGrad` op over its differentiable arguments. Every tensor of
 * `args`, and what the forward pass saves, is kept (as clones sharing the data: no copy, no GPU
 * program) until the backward pass, which may run after the loss's `tf.tidy` has ended.
 */
export function runDeviceKernel<A extends object>(kernel: DeviceKernel<A>, args: A): tf.Tensor {
  const entries = args as Record<string, unknown>;
  const tensorKeys = Object.keys(entries).filter((key) => entries[key] instanceof tf.Tensor);
  const differentiable = kernel.differentiable as readonly string[];
  const op = tf.customGrad((...inputs: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = inputs[differentiable.length] as tf.GradSaveFunc;
    const live: Record<string, unknown> = { ...entries };
    differentiable.forEach((key, k) => (live[key] = inputs[k]));
    // Without the engine's state (a renamed internal), assume a tape: saving is free when there is none.
    const recording = isRecordingGradient() || engineState() === null;
    const { value, saved } = kernel.forward(live as A, recording);
    if (recording) save([...tensorKeys.map((key) => live[key] as tf.Tensor), ...saved]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, kept: tf.Tensor[]) => {
        const restored: Record<string, unknown> = { ...entries };
        tensorKeys.forEach((key, k) => (restored[key] = kept[k]));
        return kernel.backward(dy, restored as A, kept.slice(tensorKeys.length));
      },
    };
  });
  return op(...differentiable.map((key) => entries[key] as tf.Tensor));
}
