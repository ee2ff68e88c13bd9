import * as tf from '@tensorflow/tfjs';
import { LossInputError } from '../../src/core/errors';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { expectClose } from '../helpers/assertions';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

/** Cross-entropy written with tfjs' own differentiable ops: an independent composite to compare with. */
function compositeCrossEntropy(logits: tf.Tensor2D, labels: number[], weight?: number[]): tf.Scalar {
  const classes = logits.shape[1];
  const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat();
  const w = weight === undefined ? tf.onesLike(oneHot) : oneHot.mul(tf.tensor1d(weight));
  const perSample = tf.logSoftmax(logits).mul(oneHot).mul(w).sum(1).neg();
  const denominator = weight === undefined ? labels.length : labels.reduce((s, y) => s + weight[y], 0);
  return perSample.sum().div(denominator) as tf.Scalar;
}

function values(t: tf.Tensor): number[] {
  return Array.from(t.dataSync());
}

/** Same shape, and every element within 1e-5·(1 + |expected|). */
function expectCloseTensor(actual: tf.Tensor, expected: tf.Tensor): void {
  expect(actual.shape).toEqual(expected.shape);
  expectClose(values(actual), values(expected), 1e-5, 1e-5);
}

describeEachBackend('crossEntropy', () => {
  const logits = () =>
    tf.tensor2d([
      [2, 0, -1, 0.5],
      [0.5, 1.5, 0, -3],
      [-1, -1, 4, 0.25],
    ]);
  const labels = [0, 1, 3];

  it('equals the composite of tfjs ops in value and gradient, with and without class weights', () => {
    for (const weight of [undefined, [0.5, 2, 1, 3]]) {
      tf.tidy(() => {
        const z = logits();
        expectCloseTensor(crossEntropy(z, labels, { weight }), compositeCrossEntropy(z, labels, weight));
        const ours = tf.grad((x: tf.Tensor) => crossEntropy(x, labels, { weight }))(z);
        const theirs = tf.grad((x: tf.Tensor) => compositeCrossEntropy(x as tf.Tensor2D, labels, weight))(z);
        expectCloseTensor(ours, theirs);
      });
    }
  });

  it('leaves no tensor behind for the value, the gradient, or an error', () => {
    const z = logits();
    expectNoLeak(() => crossEntropy(z, labels).dispose());
    expectNoLeak(() =>
      tf
        .grad((x: tf.Tensor) => crossEntropy(x, labels, { labelSmoothing: 0.2, reduction: 'sum' }))(z)
        .dispose(),
    );
    expectNoLeak(() => expect(() => crossEntropy(z, [0, 1, 9])).toThrow(LossInputError));
    z.dispose();
  });

  it('gives one-hot probability targets the same value and gradient as the class indices', () => {
    tf.tidy(() => {
      const z = logits();
      const oneHot = tf.oneHot(tf.tensor1d(labels, 'int32'), 4).toFloat();
      for (const labelSmoothing of [0, 0.3]) {
        expectCloseTensor(crossEntropy(z, oneHot, { labelSmoothing }), crossEntropy(z, labels, { labelSmoothing }));
        expectCloseTensor(
          tf.grad((x: tf.Tensor) => crossEntropy(x, oneHot, { labelSmoothing }))(z),
          tf.grad((x: tf.Tensor) => crossEntropy(x, labels, { labelSmoothing }))(z),
        );
      }
    });
  });

  it('differentiates probability targets: d/dt = -(1-ε)·logSoftmax(z)/N', () => {
    tf.tidy(() => {
      const z = logits();
      const t = tf.softmax(
        tf.tensor2d([
          [1, 2, 3, 4],
          [0, 0, 0, 0],
          [4, 3, 2, 1],
        ]),
      );
      const eps = 0.2;
      const [, dt] = tf.grads((x: tf.Tensor, y: tf.Tensor) => crossEntropy(x, y, { labelSmoothing: eps }))([z, t]);
      expectCloseTensor(dt, tf.logSoftmax(z).mul(-(1 - eps) / 3));
    });
  });

  it('reads channels-last input with classAxis -1 and K-dimensional input as flattened samples', () => {
    tf.tidy(() => {
      const z = tf.randomNormal([2, 3, 5], 0, 3, 'float32', 7); // [N, C, d1]
      const y = tf.tensor2d(
        [
          [0, 1, 2, 2, 1],
          [1, 1, 0, 2, 0],
        ],
        [2, 5],
        'int32',
      );
      const flatZ = z.transpose([0, 2, 1]).reshape([10, 3]);
      const flatY = y.reshape([10]);
      for (const reduction of ['mean', 'sum', 'none'] as const) {
        const expected = crossEntropy(flatZ, flatY, { reduction });
        expectCloseTensor(crossEntropy(z, y, { reduction }).reshape(expected.shape), expected);
        expectCloseTensor(crossEntropy(z.transpose([0, 2, 1]), y, { reduction, classAxis: -1 }).reshape(expected.shape), expected);
      }
      expect(crossEntropy(z, y, { reduction: 'none' }).shape).toEqual([2, 5]);
    });
  });

  it('reads a rank-1 input as one unbatched sample', () => {
    tf.tidy(() => {
      const z = tf.tensor1d([1, 2, 0.5]);
      expectCloseTensor(crossEntropy(z, tf.scalar(1, 'int32')), crossEntropy(z.expandDims(0), [1]));
      expect(crossEntropy(z, 1, { reduction: 'none' }).shape).toEqual([]);
    });
  });

  it('leaves ignored targets out of the loss, the mean and the gradient; all ignored gives NaN mean, 0 sum', () => {
    tf.tidy(() => {
      const z = logits();
      expectCloseTensor(crossEntropy(z, [0, -100, 3]), crossEntropy(z.gather([0, 2]), [0, 3]));
      expectCloseTensor(crossEntropy(z, [0, 2, 3], { ignoreIndex: 2 }), crossEntropy(z.gather([0, 2]), [0, 3]));
      const g = tf.grad((x: tf.Tensor) => crossEntropy(x, [0, -100, 3], { labelSmoothing: 0.1 }))(z);
      expect(values(g.gather([1]))).toEqual([0, 0, 0, 0]);
      expect(values(crossEntropy(z, [-100, -100, -100]))[0]).toBeNaN();
      expect(values(crossEntropy(z, [-100, -100, -100], { reduction: 'sum' }))[0]).toBe(0);
      expect(values(tf.grad((x: tf.Tensor) => crossEntropy(x, [-100, -100, -100]))(z)).every((v) => v === 0)).toBe(true);
    });
  });

  it('is finite in value and gradient for logits of magnitude 1e4', () => {
    tf.tidy(() => {
      const z = tf.tensor2d([
        [1e4, -1e4],
        [-1e4, 1e4],
      ]);
      expect(values(crossEntropy(z, [1, 0], { reduction: 'none' }))).toEqual([2e4, 2e4]);
      expect(values(tf.grad((x: tf.Tensor) => crossEntropy(x, [1, 0]))(z))).toEqual([0.5, -0.5, -0.5, 0.5]);
    });
  });

  it("keeps the relative accuracy of a confident sample's gradient at its target (no 1 - p_y cancellation)", () => {
    // Classes 3 (the JavaScript loop) and 50 (the SIMD rows); float64: d/dz_y = -Σ_{c≠y} p_c, p_c = e^(z_c - lse).
    for (const classes of [3, 50]) {
      tf.tidy(() => {
        const logits = Array.from({ length: classes }, (_, c) => (c === 0 ? 18 : 0.5 * Math.sin(c)));
        const others = logits.slice(1).reduce((sum, z) => sum + Math.exp(Math.fround(z) - 18), 0);
        const expected = -others / (1 + others);
        for (const labelSmoothing of [0, 0.1]) {
          const g = values(tf.grad((x: tf.Tensor) => crossEntropy(x, [0], { labelSmoothing }))(tf.tensor2d([logits])));
          const smoothingTerm = (labelSmoothing / classes) * (classes * (1 / (1 + others)) - 1);
          expect(Math.abs(g[0] - ((1 - labelSmoothing) * expected + smoothingTerm))).toBeLessThan(1e-6 * Math.abs(g[0]) + 1e-12);
        }
      });
    }
  });

  it('gives an empty batch a NaN mean, a zero sum and an empty per-sample loss, as PyTorch', () => {
    tf.tidy(() => {
      const z = tf.zeros([0, 3]);
      expect(values(crossEntropy(z, tf.zeros([0], 'int32')))[0]).toBeNaN();
      expect(values(crossEntropy(z, tf.zeros([0], 'int32'), { reduction: 'sum' }))).toEqual([0]);
      expect(crossEntropy(z, tf.zeros([0], 'int32'), { reduction: 'none' }).shape).toEqual([0]);
    });
  });

  it.each([
    ['a class index out of range', () => crossEntropy(logits(), [0, 4, 1]), /'target'.*\[0, 4\).*got 4 \(out of range\) at position \[1\]/],
    ['a non-integer class index', () => crossEntropy(logits(), [0, 1.5, 1]), /'target'.*got 1.5 \(not an integer\)/],
    ['a target of the wrong shape', () => crossEntropy(logits(), [[0], [1], [2]]), /'target'.*shape \[3\].*got shape \[3, 1\]/],
    ['a weight of the wrong length', () => crossEntropy(logits(), labels, { weight: [1, 2] }), /'options.weight'.*\[4\].*got shape \[2\]/],
    ['label smoothing above 1', () => crossEntropy(logits(), labels, { labelSmoothing: 1.5 }), /'options.labelSmoothing'.*\[0, 1\].*1.5/],
    [
      'an unknown reduction',
      () => crossEntropy(logits(), labels, { reduction: 'avg' as 'mean' }),
      /'options.reduction'.*'mean', 'sum', 'none'.*"avg"/,
    ],
    ['an unknown option', () => crossEntropy(logits(), labels, { ignore_index: 1 } as object), /'options.ignore_index'/],
    [
      'ignoreIndex >= 0 with probability targets',
      () => crossEntropy(logits(), tf.onesLike(logits()), { ignoreIndex: 0 }),
      /'options.ignoreIndex'/,
    ],
    ['an int32 input', () => crossEntropy(tf.tensor2d([[1, 2]], [1, 2], 'int32'), [0]), /'input'.*float32.*got a tensor of dtype int32/],
    ['no classes', () => crossEntropy(tf.zeros([2, 0]), [0, 0]), /'input'.*at least one class/],
    ['a missing target', () => crossEntropy(logits(), undefined as unknown as number[]), /'target'.*got undefined/],
    ['a string input', () => crossEntropy('logits' as unknown as number[], labels), /'input'.*got the string "logits"/],
  ])('rejects %s with a LossInputError that names the problem, and leaks nothing', (_, call, message) => {
    const before = tf.memory().numTensors;
    const error = (() => {
      try {
        tf.tidy(call);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(LossInputError);
    expect((error as Error).message).toMatch(message);
    expect(tf.memory().numTensors).toBe(before);
  });
});
