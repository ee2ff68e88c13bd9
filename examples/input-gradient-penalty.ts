/**
 * Training with an input-gradient penalty (double backpropagation): `npx tsx examples/input-gradient-penalty.ts`.
 *
 * A two-layer classifier of 2-D points into three classes is trained with Adam on
 * `crossEntropy(f(x), y) + λ·mean‖∂crossEntropy/∂x‖²`: the penalty's gradient with respect to the
 * weights is a second derivative through the loss, which the library builds from differentiable ops.
 */
import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from '../src';

tf.enableProdMode();
const random = (shape: number[], seed: number) => tf.randomNormal(shape, 0, 0.5, 'float32', seed);
const x = random([64, 2], 1);
const y = tf.tidy(() => tf.cast(tf.add(tf.greater(tf.sum(x, 1), 0), tf.greater(tf.slice(x, [0, 0], [-1, 1]).reshape([64]), 0.3)), 'int32'));
const [w1, b1, w2, b2] = [random([2, 16], 2), tf.zeros([16]), random([16, 3], 3), tf.zeros([3])].map((t) => tf.variable(t));

// relu: tfjs differentiates it from its input, so a second derivative through the network is right.
const logits = (input: tf.Tensor) => tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(input, w1), b1)), w2), b2);
const loss = (input: tf.Tensor) => crossEntropy(logits(input), y);
const penalty = () => tf.mean(tf.sum(tf.square(tf.grad(loss)(x)), 1));

const lambda = 10;
const optimizer = tf.train.adam(0.05);
for (let step = 0; step <= 100; step++) {
  const total = optimizer.minimize(() => tf.add(loss(x), tf.mul(lambda, penalty())), true) as tf.Scalar;
  if (step % 25 === 0) {
    const [ce, p] = tf.tidy(() => [loss(x).dataSync()[0], penalty().dataSync()[0]]);
    console.log(
      `step ${step}: objective ${total.dataSync()[0].toFixed(4)}; after the step: crossEntropy ${ce.toFixed(4)}, penalty ${p.toExponential(3)}`,
    );
  }
  total.dispose();
}
