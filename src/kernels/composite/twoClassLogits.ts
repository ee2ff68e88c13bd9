import * as tf from '@tensorflow/tfjs-core';

/** The two-class logits `[N, 2]` with rows `[0, z_n]` of binary logits `z`, as a `concat` that stays on the device. */
export function twoClassLogitsComposite(z: tf.Tensor, samples: number): tf.Tensor2D {
  return tf.tidy(() => {
    const column = tf.reshape(z, [samples, 1]);
    return tf.concat([tf.zerosLike(column), column], 1) as tf.Tensor2D;
  });
}
