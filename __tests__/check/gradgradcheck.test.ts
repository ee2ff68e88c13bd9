import * as tf from '@tensorflow/tfjs';
import { GradcheckError, TensorFunction } from '../../src/check/gradcheck';
import { assertGradgradcheck, assertGradgradcheckAsync, gradgradcheck, gradgradcheckAsync } from '../../src/check/gradgradcheck';
import { binaryCrossEntropy } from '../../src/losses/binaryCrossEntropy';
import { binaryCrossEntropyWithLogits } from '../../src/losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { nllLoss } from '../../src/losses/nllLoss';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

/** `f` with the value `value(x)` and the gradient `gradient(x)·dy`, the gradient's own backward pass being `gradient`'s. */
function withGradient(value: (x: tf.Tensor) => tf.Tensor, gradient: (x: tf.Tensor, dy: tf.Tensor) => tf.Tensor): TensorFunction {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([x]);
    return { value: value(x), gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => gradient(saved, dy) };
  });
  return (x) => op(x);
}

/**
 * Softmax cross-entropy (summed) with target class 0, its first derivative `p - e0` right, and its
 * second derivative (the first derivative's backward pass) planted: `diag(p) - p·pᵀ` scaled, without
 * its `p·pᵀ` term, or missing (the first derivative computed on the host).
 */
function plantedSecondDerivative(kind: 'scaled' | 'missingTerm' | 'constant'): TensorFunction {
  const value = (x: tf.Tensor) => tf.sum(tf.sub(tf.logSumExp(x, 1), tf.slice(x, [0, 0], [-1, 1])));
  const first = (x: tf.Tensor) => tf.sub(tf.softmax(x), tf.oneHot(tf.zeros([x.shape[0]], 'int32'), x.shape[1] as number));
  const firstDerivative =
    kind === 'constant'
      ? (x: tf.Tensor) => tf.tensor(first(x).dataSync(), x.shape)
      : withGradient(first, (x, u) => {
          const p = tf.softmax(x);
          const diagonal = tf.mul(p, u);
          return kind === 'missingTerm' ? diagonal : tf.mul(tf.sub(diagonal, tf.mul(p, tf.sum(diagonal, 1, true))), 1.01);
        });
  return withGradient(value, (x, dy) => tf.mul(firstDerivative(x), dy));
}

describeEachBackend('gradgradcheck', () => {
  const z = () =>
    tf.tensor2d([
      [2, 0, -1],
      [0.5, 1.5, 0],
      [-1, 0.25, 3],
    ]);

  it('passes the second derivatives of every loss, leaving no tensor behind', () => {
    const logits = z();
    const y = tf.tensor1d([0, 1, 2], 'int32');
    const soft = tf.softmax(
      tf.tensor2d([
        [1, 0, 0],
        [0, 2, 0],
        [0, 0, -1],
      ]),
    );
    const p = tf.sigmoid(logits);
    const weight = tf.tensor1d([0.5, 2, 1]);
    const cases: Array<[string, TensorFunction, tf.Tensor[]]> = [
      ['crossEntropy', (x, t) => crossEntropy(x, t, { weight, labelSmoothing: 0.1 }), [logits, y]],
      ['crossEntropy, probabilities', (x, t) => crossEntropy(x, t, { reduction: 'sum' }), [logits, soft]],
      ['nllLoss of log', (q, t) => nllLoss(tf.log(q), t, { weight }), [p, y]],
      ['binaryCrossEntropy', (q, t) => binaryCrossEntropy(q, t, { reduction: 'none' }), [p, soft]],
      ['binaryCrossEntropyWithLogits', (x, t) => binaryCrossEntropyWithLogits(x, t, { posWeight: [2, 1, 0.5] }), [logits, soft]],
    ];
    for (const [name, f, inputs] of cases) {
      const result = expectNoLeak(() => gradgradcheck(f, inputs));
      expect(`${name}: ${result.summary}`).toMatch(/: gradgradcheck passed/);
    }
    tf.dispose([logits, y, soft, p, weight]);
  });

  it('flags a second derivative that is scaled by 1.01, misses a term, or is missing, naming gradgradcheck', () => {
    const logits = z();
    const scaled = gradgradcheck(plantedSecondDerivative('scaled'), [logits]);
    expect(scaled.passed).toBe(false);
    expect(scaled.failures[0]).toMatch(/^gradgradcheck failed: Jacobian mismatch for output 0 with respect to input 0/);
    expect(gradgradcheck(plantedSecondDerivative('missingTerm'), [logits]).passed).toBe(false);
    const constant = gradgradcheck(plantedSecondDerivative('constant'), [logits]);
    expect(constant.failures[0]).toMatch(/^gradgradcheck failed \(differentiable\): tf.grads cannot differentiate/);
    logits.dispose();
  });

  it("flags tfjs's own softmax cross-entropy, whose gradient an outer tape does not reach", () => {
    const [logits, labels] = [z(), tf.oneHot(tf.tensor1d([0, 1, 2], 'int32'), 3)];
    expect(gradgradcheck((x) => tf.losses.softmaxCrossEntropy(labels, x), [logits]).passed).toBe(false);
    tf.dispose([logits, labels]);
  });

  it('reads asynchronously to the same result, and the assert forms throw a GradcheckError', async () => {
    const logits = z();
    const f = plantedSecondDerivative('scaled');
    expect(JSON.stringify(await gradgradcheckAsync(f, [logits]))).toBe(JSON.stringify(gradgradcheck(f, [logits])));
    expect(() => assertGradgradcheck(f, [logits])).toThrow(GradcheckError);
    await expect(assertGradgradcheckAsync(f, [logits])).rejects.toThrow(/gradgradcheck failed/);
    expect(assertGradgradcheck((x) => tf.sum(tf.pow(x, 3)), [logits]).passed).toBe(true);
    expect(() => gradgradcheck((x) => x, [logits], { step: 2 })).toThrow(/^gradgradcheck: argument 'options.step'/);
    logits.dispose();
  });
});
