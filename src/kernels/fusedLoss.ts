import * as tf from '@tensorflow/tfjs-core';
import type { ClassLayout } from '../core/layout';

/** What a fused kernel returns: the loss, and when asked, its gradients computed in the same pass. */
export interface FusedResult {
  /** The loss: one value for 'mean' and 'sum', one per sample for 'none'. */
  value: Float32Array;
  valueShape: number[];
  /**
   * For each differentiable input, the gradient of `value` (of each sample's own loss for 'none').
   * The arrays belong to the caller, which scales them in place.
   */
  gradients?: Float32Array[];
}

interface EngineState {
  gradientDepth: number;
  kernelDepth: number;
}

/**
 * True when the engine is recording a gradient tape for the op about to run (inside `tf.grad`,
 * `optimizer.minimize`, `model.fit`). The forward of a custom-gradient op runs at kernel depth 1;
 * deeper, the engine does not tape it. If a future tfjs renames this state, the answer is `false`
 * and the gradient is computed when asked for instead: slower, never wrong.
 */
function isRecordingGradient(): boolean {
  const state = (tf.engine() as unknown as { state?: EngineState }).state;
  return state !== undefined && state.gradientDepth > 0 && state.kernelDepth <= 1;
}

/** Multiplies each element's gradient by the upstream gradient of the sample it belongs to. */
function scaleByUpstream(gradient: Float32Array, layout: ClassLayout, dy: Float32Array): void {
  if (dy.length === 1) {
    const scale = dy[0];
    if (scale !== 1) for (let e = 0; e < gradient.length; e++) gradient[e] *= scale;
    return;
  }
  const { outer, classes, inner } = layout;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < classes; c++) {
      const base = (o * classes + c) * inner;
      const sampleBase = o * inner;
      for (let i = 0; i < inner; i++) gradient[base + i] *= dy[sampleBase + i];
    }
  }
}

/**
 * Wraps a fused host kernel as a tfjs op with a closed-form gradient. `run(withGradients)` computes
 * the loss from values already read to the host; when a gradient tape is recording it also returns
 * the gradients from the same pass, and the backward pass only scales them by the upstream gradient.
 * `layout` maps each element of the differentiable inputs (all of one shape) to its sample.
 */
export function fusedLoss(differentiable: tf.Tensor[], layout: ClassLayout, run: (withGradients: boolean) => FusedResult): tf.Tensor {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const result = run(isRecordingGradient());
    const shapes = args.slice(0, differentiable.length).map((t) => (t as tf.Tensor).shape);
    return {
      value: tf.tensor(result.value, result.valueShape, 'float32'),
      gradFunc: (dy: tf.Tensor) => {
        const gradients = result.gradients ?? run(true).gradients;
        result.gradients = undefined; // scaled in place below: a second backward pass recomputes them
        if (gradients === undefined) throw new Error('fusedLoss: kernel returned no gradients when asked for them');
        const upstream = dy.dataSync() as Float32Array;
        return gradients.map((gradient, k) => {
          scaleByUpstream(gradient, layout, upstream);
          return tf.tensor(gradient, shapes[k], 'float32');
        });
      },
    };
  });
  return op(...differentiable);
}
