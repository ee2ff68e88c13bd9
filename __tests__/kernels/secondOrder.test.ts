import * as tf from '@tensorflow/tfjs';
import { classificationLoss } from '../../src/adapter/classificationLoss';
import { setValidation } from '../../src/core/validation';
import { setKernelPath } from '../../src/kernels/dispatch';
import { binaryCrossEntropyWithLogits } from '../../src/losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

/** `∂/∂x ⟨∂f/∂x, v⟩`: a Hessian-vector product through tf.grad of tf.grad. */
function hessianTimes(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, v: tf.Tensor): Float32Array {
  return tf.tidy(
    () =>
      tf
        .grad((z: tf.Tensor) => tf.sum(tf.mul(tf.grad(f)(z), v)))(x)
        .dataSync() as Float32Array,
  );
}

describeEachBackend('second order through the kernels', () => {
  for (const kernelPath of ['auto', 'composite'] as const) {
    describe(`kernel path '${kernelPath}'`, () => {
      beforeAll(() => setKernelPath(kernelPath));
      afterAll(() => setKernelPath('auto'));

      it('the binary-as-two-class adapter has the Hessian of BCE-with-logits (values and second derivatives are an identity)', () => {
        const s = tf.tensor1d([0.5, -1, 2, 4]);
        const y = tf.tensor1d([1, 0, 1, 0]);
        const v = tf.tensor1d([0.3, -1, 0.7, 2]);
        const viaAdapter = expectNoLeak(() =>
          hessianTimes((x) => classificationLoss(x, y, { binaryAsTwoClass: true, reduction: 'sum' }), s, v),
        );
        const direct = hessianTimes((x) => binaryCrossEntropyWithLogits(x, y, { reduction: 'sum' }), s, v);
        // d²/dx² = σ(x)σ(-x), times v.
        const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
        const expected = [0.5, -1, 2, 4].map((x, k) => sigmoid(x) * sigmoid(-x) * [0.3, -1, 0.7, 2][k]);
        for (const h of [viaAdapter, direct]) h.forEach((value, k) => expect(value).toBeCloseTo(expected[k], 6));
        tf.dispose([s, y, v]);
      });

      it("in 'device' validation, a bad class index poisons the second derivative as it does the loss", () => {
        setValidation('device');
        try {
          const z = tf.tensor2d([
            [2, 0, -1],
            [0.5, 1.5, 0],
          ]);
          const y = tf.tensor1d([0, 7], 'int32');
          const v = tf.onesLike(z);
          const h = expectNoLeak(() => hessianTimes((x) => crossEntropy(x, y), z, v));
          expect(Array.from(h).every(Number.isNaN)).toBe(true);
          tf.dispose([z, y, v]);
        } finally {
          setValidation('auto');
        }
      });

      it('weights and class indices are constants of the second derivative: nothing reaches the weight', () => {
        const z = tf.tensor2d([
          [2, 0, -1],
          [0.5, 1.5, 0],
        ]);
        const y = tf.tensor1d([0, 1], 'int32');
        const w = tf.tensor1d([1, 2, 0.5]);
        const penalty = (weight: tf.Tensor) => tf.sum(tf.square(tf.grad((x: tf.Tensor) => crossEntropy(x, y, { weight }))(z)));
        expect(() => tf.grad(penalty)(w)).toThrow(/Cannot compute gradient/);
        tf.dispose([z, y, w]);
      });
    });
  }
});
