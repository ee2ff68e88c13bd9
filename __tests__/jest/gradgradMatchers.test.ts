import * as tf from '@tensorflow/tfjs';
import { gradgradMatchers } from '../../src/jest';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { describeEachBackend } from '../helpers/backends';

describeEachBackend('toPassGradgradcheck', () => {
  const z = () =>
    tf.tensor2d([
      [2, 0, -1],
      [0.5, 1.5, 0],
    ]);
  const y = () => tf.tensor1d([0, 1], 'int32');

  it('is registered, synchronous and asynchronous', () => {
    expect(Object.keys(gradgradMatchers)).toEqual(['toPassGradgradcheck', 'toPassGradgradcheckAsync']);
  });

  it('passes the loss, and not tf.losses.softmaxCrossEntropy, whose second derivative tfjs cannot take', async () => {
    const [logits, labels] = [z(), y()];
    const oneHot = tf.oneHot(labels, 3);
    expect((x: tf.Tensor) => crossEntropy(x, labels)).toPassGradgradcheck([logits]);
    await expect((x: tf.Tensor) => crossEntropy(x, labels)).toPassGradgradcheckAsync([logits]);
    expect((x: tf.Tensor) => tf.losses.softmaxCrossEntropy(oneHot, x)).not.toPassGradgradcheck([logits]);
    expect(() => expect(42).toPassGradgradcheck([logits])).toThrow(/toPassGradgradcheck: the received value must be a function/);
    tf.dispose([logits, labels, oneHot]);
  });
});
