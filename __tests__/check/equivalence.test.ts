import * as tf from '@tensorflow/tfjs';
import { randomCase } from '../../src/check/cases';
import { CaseGenerator, checkEquivalence, LossFunction, LossSide } from '../../src/check/equivalence';
import { LossInputError } from '../../src/core/errors';
import { binaryCrossEntropy } from '../../src/losses/binaryCrossEntropy';
import { binaryCrossEntropyWithLogits } from '../../src/losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

const classOne = (z: tf.Tensor) => z.slice([0, 1], [-1, 1]).reshape([-1]);
const classZero = (z: tf.Tensor) => z.slice([0, 0], [-1, 1]).reshape([-1]);

/** The three losses of the two-class identity, on shared two-class logits z and class indices y. */
const ce: LossSide = { name: 'CE(z, y)', loss: (z, y) => crossEntropy(z, y) };
const bceOfSoftmax: LossSide = {
  name: 'BCE(softmax(z)[:, 1], y)',
  loss: (p, y) => binaryCrossEntropy(p, y),
  input: (z) => classOne(tf.softmax(z)),
  target: (y) => y.toFloat(),
};
const bceWithLogitsOfDifference: LossSide = {
  name: 'BCEWithLogits(z1 − z0, y)',
  loss: (s, y) => binaryCrossEntropyWithLogits(s, y),
  input: (z) => classOne(z).sub(classZero(z)),
  target: (y) => y.toFloat(),
};
const twoClass: CaseGenerator = (random) => randomCase(random, { kind: 'multiclass', classes: 2, logitScale: 1.5 });

/** Mean cross-entropy whose value is right and whose gradient, `(softmax(z) − onehot(y))/N`, is scaled by `scale`. */
function crossEntropyWithGradientScaledBy(scale: number): LossFunction {
  return (z, y) => {
    const op = tf.customGrad(((logits: tf.Tensor) => ({
      value: crossEntropy(logits, y),
      gradFunc: (dy: tf.Tensor) =>
        tf
          .softmax(logits)
          .sub(tf.oneHot(y as tf.Tensor1D, logits.shape[1] as number))
          .div(logits.shape[0] as number)
          .mul(dy)
          .mul(scale),
    })) as unknown as Parameters<typeof tf.customGrad>[0]);
    return op(z);
  };
}

describeEachBackend('checkEquivalence', () => {
  it('confirms CE(z, y) == BCE(softmax(z)[:, 1], y) == BCEWithLogits(z1 − z0, y) in value and gradient', () => {
    for (const other of [bceOfSoftmax, bceWithLogitsOfDifference]) {
      const report = expectNoLeak(() => checkEquivalence(ce, other, twoClass, { count: 30, rtol: 1e-5, atol: 1e-6 }));
      expect(report.summary).toMatch(/^'CE\(z, y\)' and '.*' agree on 30 cases \(max value error .*, max gradient error .*\)$/);
      expect(report).toMatchObject({ passed: true, cases: 30, names: ['CE(z, y)', other.name], failures: [] });
      expect(report.maxValueError).toBeLessThan(1e-5);
      expect(report.worstGradient?.quantity).toBe('gradient of input');
    }
  });

  it('compares the gradients of soft targets when asked: d/dt of CE with [1 − t, t] equals d/dt of BCE', () => {
    tf.tidy(() => {
      const z = tf.tensor2d([
        [0.2, 1.1],
        [-0.5, 0.3],
        [1.4, -0.2],
      ]);
      const t = tf.tensor1d([0.3, 0.9, 0.05]);
      const ceOfSoftTargets: LossSide = {
        loss: (logits, p) => crossEntropy(logits, p),
        target: (p) => tf.stack([tf.scalar(1).sub(p), p], 1),
      };
      const report = expectNoLeak(() =>
        checkEquivalence(ceOfSoftTargets, bceOfSoftmax, [{ input: z, target: t }], { wrt: ['input', 'target'], rtol: 1e-5, atol: 1e-6 }),
      );
      expect(report.passed).toBe(true);
      expect(z.isDisposed || t.isDisposed).toBe(false); // the caller's cases stay the caller's
    });
  });

  it('reports a value difference with the case, the element, both values and the tolerance', () => {
    const smoothed: LossSide = { name: 'CE smoothed', loss: (z, y) => crossEntropy(z, y, { labelSmoothing: 0.05 }) };
    const report = expectNoLeak(() => checkEquivalence(ce, smoothed, twoClass, { count: 5 }));
    expect(report.passed).toBe(false);
    expect(report.worstValue).toMatchObject({ quantity: 'value', position: '[]' });
    expect(report.failures[0]).toMatch(
      /^'CE\(z, y\)' and 'CE smoothed' differ in value on case \d \(multiclass \[\d+, 2\]\), 1 of 1 element; worst at \[\]: a [\d.]+, b [\d.]+, \|difference\| [\d.e-]+ > tolerance [\d.e-]+ \(atol 0\.00001 \+ rtol 0\.0000013·\|b\|\)$/,
    );
    expect(report.summary).toMatch(/differ on 5 of 5 cases/);
  });

  it('finds a gradient scaled by 1.01 behind a right value', () => {
    const report = expectNoLeak(() => checkEquivalence(crossEntropyWithGradientScaledBy(1.01), ce, twoClass, { count: 5 }));
    expect(report.passed).toBe(false);
    expect(report.maxValueError).toBeLessThan(1e-6);
    expect(report.worstGradient?.quantity).toBe('gradient of input');
    expect(report.failures[0]).toMatch(/differ in gradient of input on case 0/);
    expect(checkEquivalence(crossEntropyWithGradientScaledBy(1), ce, twoClass, { count: 5 }).passed).toBe(true);
  });

  it('differentiates a per-sample loss with a seeded random cotangent, so a gradient blind to dy is caught', () => {
    const perSample: LossFunction = (z, y) => crossEntropy(z, y, { reduction: 'none' });
    const blindToDy: LossFunction = (z, y) => {
      const op = tf.customGrad(((logits: tf.Tensor) => ({
        value: perSample(logits, y),
        gradFunc: (dy: tf.Tensor) =>
          tf
            .softmax(logits)
            .sub(tf.oneHot(y as tf.Tensor1D, 2))
            .mul(dy.mean()),
      })) as unknown as Parameters<typeof tf.customGrad>[0]);
      return op(z);
    };
    const composite: LossFunction = (z, y) =>
      tf
        .logSoftmax(z)
        .mul(tf.oneHot(y as tf.Tensor1D, 2))
        .sum(1)
        .neg();
    const cases: CaseGenerator = (random) => randomCase(random, { kind: 'multiclass', classes: 2, batch: 6 });
    expect(expectNoLeak(() => checkEquivalence(perSample, composite, cases, { count: 5, rtol: 1e-5 })).passed).toBe(true);
    expect(expectNoLeak(() => checkEquivalence(blindToDy, composite, cases, { count: 5, rtol: 1e-5 })).passed).toBe(false);
  });

  it('treats NaN as equal only to NaN and ±Infinity only to itself', () => {
    tf.tidy(() => {
      const cases = [{ input: tf.tensor2d([[1, 2]]), target: tf.tensor1d([-100], 'int32') }];
      const constant =
        (value: number): LossFunction =>
        (z) =>
          z.sum().mul(0).add(value);
      const compare = (a: LossFunction, b: LossFunction) => expectNoLeak(() => checkEquivalence(a, b, cases, { wrt: [] }));
      expect(compare(ce.loss, constant(NaN)).passed).toBe(true); // every target ignored: PyTorch's mean is NaN
      expect(compare(ce.loss, constant(0)).failures[0]).toMatch(/a NaN, b 0, \|difference\| Infinity > tolerance/);
      expect(compare(constant(Infinity), constant(Infinity)).passed).toBe(true);
      expect(compare(constant(Infinity), constant(-Infinity)).failures[0]).toMatch(/a Infinity, b -Infinity/);
      expect(compare(constant(Infinity), constant(NaN)).passed).toBe(false);
    });
  });

  it('reports a side that throws, and values of different shapes, with the case', () => {
    const failing: LossSide = {
      name: 'broken',
      loss: () => {
        throw new Error('boom');
      },
    };
    const thrown = expectNoLeak(() => checkEquivalence(ce, failing, twoClass, { count: 2 }));
    expect(thrown.failures[0]).toMatch(/^'broken' throws: boom on case 0 \(multiclass \[\d+, 2\]\)$/);
    const perSample: LossSide = { name: 'CE none', loss: (z, y) => crossEntropy(z, y, { reduction: 'none' }) };
    const shapes = expectNoLeak(() => checkEquivalence(ce, perSample, twoClass, { count: 1 }));
    expect(shapes.failures[0]).toMatch(/give values of different shapes on case 0 .*: \[\] and \[\d+\]/);
  });

  describe('rejects bad arguments with a LossInputError naming the argument', () => {
    it.each([
      ['a loss that is not a function', () => checkEquivalence('ce' as unknown as LossFunction, ce, twoClass), /'a'.*a loss function/],
      [
        'a transform that is not a function',
        () => checkEquivalence(ce, { loss: ce.loss, input: 3 as unknown as LossSide['input'] }, twoClass),
        /'b.input'/,
      ],
      ['an unknown wrt', () => checkEquivalence(ce, ce, twoClass, { wrt: ['weight' as 'input'] }), /'options.wrt'/],
      ['no cases', () => checkEquivalence(ce, ce, []), /'cases'.*non-empty/],
      ['a count of 0', () => checkEquivalence(ce, ce, twoClass, { count: 0 }), /'options.count'/],
      ['a negative rtol', () => checkEquivalence(ce, ce, twoClass, { rtol: -1 }), /'options.rtol'/],
      [
        'an int32 input to differentiate',
        () => checkEquivalence(ce, ce, (random) => randomCase(random, { kind: 'multiclass' }), { wrt: ['target'] }),
        /'cases\[0\].target'.*float32/,
      ],
    ])('%s', (_, call, message) => {
      expectNoLeak(() => expect(call).toThrow(message));
      expect(call).toThrow(LossInputError);
    });
  });
});
