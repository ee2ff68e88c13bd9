import * as tf from '@tensorflow/tfjs-core';
import { isRecordingBackward } from '../../core/tfjsInternals';
import { hostValues } from './hostOp';

/**
 * The two-class logits `[N, 2]` with rows `[0, z_n]` of binary logits `z` (`[N]` or `[N, 1]`), and
 * their gradient: column 1 of the upstream gradient, in `z`'s shape (a tfjs slice when the backward
 * pass is itself recorded). Exact (values are copied). Each
 * direction is one JavaScript pass: tfjs' `concat` of two `[N, 1]` columns and its gradient (a slice
 * of the upstream gradient, then a pad) cost tens of milliseconds at N = 65,536 and hundreds at
 * N = 1,048,576 on cpu and wasm, more than the cross-entropy after them.
 */
export function twoClassLogitsHost(z: tf.Tensor, samples: number): tf.Tensor2D {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor;
    const values = hostValues(x);
    const rows = new Float32Array(2 * samples);
    for (let n = 0; n < samples; n++) rows[2 * n + 1] = values[n];
    return {
      value: tf.tensor2d(rows, [samples, 2], 'float32'),
      gradFunc: (dy: tf.Tensor) => {
        // A recorded backward pass (a gradient of a gradient) must stay differentiable in dy.
        if (isRecordingBackward()) return tf.reshape(tf.slice(dy, [0, 1], [samples, 1]), x.shape);
        const upstream = hostValues(dy);
        const gradient = new Float32Array(samples);
        for (let n = 0; n < samples; n++) gradient[n] = upstream[2 * n + 1];
        return tf.tensor(gradient, x.shape, 'float32');
      },
    };
  });
  return op(z) as tf.Tensor2D;
}
