import * as tf from '@tensorflow/tfjs';
import { LossInputError } from '../../src/core/errors';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { nllLoss } from '../../src/losses/nllLoss';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

describeEachBackend('nllLoss', () => {
  const logits = () =>
    tf.tensor3d([
      [
        [2, 0],
        [0, -1],
        [-1, 3],
      ],
      [
        [0.5, 1],
        [1.5, 0],
        [0, 2],
      ],
    ]); // [N=2, C=3, d=2]
  const labels = () =>
    tf.tensor2d(
      [
        [0, 2],
        [1, -100],
      ],
      [2, 2],
      'int32',
    );

  it('of logSoftmax equals crossEntropy in value and gradient, for every reduction and with weights', () => {
    tf.tidy(() => {
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        for (const weight of [undefined, [0.2, 3, 1]]) {
          const options = { reduction, weight };
          const viaNll = (z: tf.Tensor) => nllLoss(tf.logSoftmax(z.transpose([0, 2, 1])).transpose([0, 2, 1]), labels(), options);
          const expected = values(crossEntropy(logits(), labels(), options));
          values(viaNll(logits())).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
          const sum = (f: (z: tf.Tensor) => tf.Tensor) => (z: tf.Tensor) => f(z).sum();
          const g = values(tf.grad(sum(viaNll))(logits()));
          const expectedGrad = values(tf.grad(sum((z) => crossEntropy(z, labels(), options)))(logits()));
          g.forEach((v, i) => expect(v).toBeCloseTo(expectedGrad[i], 5));
        }
      }
    });
  });

  it('has the gradient -w[y]/Σw[y] at each target and 0 elsewhere', () => {
    tf.tidy(() => {
      const x = tf.tensor2d([
        [-1, -2, -3],
        [-0.5, -0.25, -4],
      ]);
      const g = values(tf.grad((t: tf.Tensor) => nllLoss(t, [2, 0], { weight: [1, 2, 3] }))(x));
      expect(g).toEqual([0, 0, -3 / 4, -1 / 4, 0, 0].map((v) => Math.fround(v)));
    });
  });

  it('leaves no tensor behind for the value, the gradient, or an error', () => {
    const x = logits();
    const y = labels();
    expectNoLeak(() => nllLoss(x, y).dispose());
    expectNoLeak(() =>
      tf
        .grad((t: tf.Tensor) => nllLoss(t, y, { reduction: 'sum' }))(x)
        .dispose(),
    );
    expectNoLeak(() =>
      expect(() =>
        nllLoss(x, [
          [0, 3],
          [0, 0],
        ]),
      ).toThrow(LossInputError),
    );
    tf.dispose([x, y]);
  });

  it('rejects out-of-range classes and targets of the wrong shape with messages that say what was expected', () => {
    tf.tidy(() => {
      expect(() =>
        nllLoss(logits(), [
          [0, 3],
          [0, 0],
        ]),
      ).toThrow(/'target'.*\[0, 3\).*got 3 \(out of range\) at position \[0, 1\]/);
      expect(() => nllLoss(logits(), [0, 1])).toThrow(/'target'.*shape \[2, 2\].*got shape \[2\]/);
      expect(() => nllLoss(logits(), labels(), { weight: [1] })).toThrow(/'options.weight'.*\[3\]/);
    });
  });
});
