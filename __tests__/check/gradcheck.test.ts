import * as tf from '@tensorflow/tfjs';
import { LossInputError } from '../../src/core/errors';
import { assertGradcheck, gradcheck, GradcheckError, TensorFunction } from '../../src/check/gradcheck';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

const LABELS = [0, 2, 1, 2];
const WEIGHT = [0.5, 2, 1.5];

/** `tf.customGrad` for a function of one tensor: its value, and the gradient it claims for an upstream dy. */
function withGradient(forward: (x: tf.Tensor) => { value: tf.Tensor; gradFunc: (dy: tf.Tensor) => tf.Tensor }): TensorFunction {
  const op = tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0]);
  return (x) => op(x);
}

type Corruption = 'none' | 'scaledBy1.01' | 'signFlipAt[1, 2]' | 'missingDy' | 'ignoresWeight';

/**
 * Weighted cross-entropy, 'mean' as PyTorch (divided by Σ w[y_n]), with a closed-form gradient
 * `dy·w[y_n]·(softmax(z) − onehot(y))/Σ w[y_n]` that `corruption` breaks on purpose.
 */
function weightedCrossEntropy(corruption: Corruption): TensorFunction {
  const denominator = LABELS.reduce((s, y) => s + WEIGHT[y], 0);
  const oneHot = () => tf.oneHot(tf.tensor1d(LABELS, 'int32'), 3).toFloat();
  const sampleWeight = (w: number[]) => tf.tensor2d(LABELS.map((y) => [w[y]]));
  return withGradient((z) => ({
    value: tf.logSoftmax(z).mul(oneHot()).mul(sampleWeight(WEIGHT)).sum().neg().div(denominator),
    gradFunc: (dy) => {
      const w = corruption === 'ignoresWeight' ? WEIGHT.map(() => 1) : WEIGHT;
      const upstream = corruption === 'missingDy' ? tf.scalar(1) : dy;
      const g = tf.softmax(z).sub(oneHot()).mul(sampleWeight(w)).div(denominator).mul(upstream);
      if (corruption === 'scaledBy1.01') return g.mul(1.01);
      if (corruption === 'signFlipAt[1, 2]')
        return g.mul(
          tf.tensor2d([
            [1, 1, 1],
            [1, 1, -1],
            [1, 1, 1],
            [1, 1, 1],
          ]),
        );
      return g;
    },
  }));
}

/** Logits whose gradient has no negligible element, so that every corruption matters. */
const logits = () =>
  tf.tensor2d([
    [0.3, -0.4, 0.9],
    [1.1, 0.2, -0.5],
    [-0.7, 0.6, 0.1],
    [0.4, -1.2, 0.8],
  ]);

describeEachBackend('gradcheck', () => {
  it('passes correct gradients: tfjs ops and compositions, and this library’s crossEntropy', () => {
    tf.tidy(() => {
      const z = logits();
      const oneHot = tf.oneHot(tf.tensor1d(LABELS, 'int32'), 3).toFloat();
      const soft = tf.tensor2d([
        [0.2, 0.9, 0.5],
        [0.1, 0.7, 0.3],
        [0.6, 0.4, 0.8],
        [0.9, 0.05, 0.5],
      ]);
      const x = tf.tensor2d([
        [0.5, -1, 2],
        [1.5, 0.3, -0.2],
      ]);
      const w = tf.tensor2d([
        [0.3, -0.1],
        [0.8, 0.5],
        [-0.4, 0.2],
      ]);
      const b = tf.tensor1d([0.1, -0.3]);
      const cases: Array<[string, TensorFunction, tf.Tensor[], number[] | undefined]> = [
        ['softmax cross-entropy', (a, t) => tf.losses.softmaxCrossEntropy(t, a), [z, oneHot], [0]],
        ['sigmoid cross-entropy (logits and soft labels)', (a, t) => tf.losses.sigmoidCrossEntropy(t, a), [z, soft], undefined],
        ['log-softmax (a [4, 3] output)', (a) => tf.logSoftmax(a), [z], undefined],
        ['tanh(x·W + b)', (xs, ws, bs) => tf.tanh(tf.matMul(xs, ws).add(bs)), [x, w, b], undefined],
        [
          'crossEntropy with weight and label smoothing',
          (a, t) => crossEntropy(a, t, { weight: WEIGHT, labelSmoothing: 0.1 }),
          [z, tf.tensor1d(LABELS, 'int32')],
          undefined,
        ],
        ['crossEntropy with probability targets', (a, t) => crossEntropy(a, t, { reduction: 'sum' }), [z, tf.softmax(soft)], undefined],
        ['the closed-form weighted cross-entropy', weightedCrossEntropy('none'), [z], undefined],
      ];
      for (const [name, f, inputs, wrt] of cases) {
        const result = expectNoLeak(() => gradcheck(f, inputs, { wrt }));
        expect({ name, summary: result.summary, passed: result.passed }).toEqual({ name, summary: result.summary, passed: true });
      }
    });
  });

  it('flags a gradient scaled by 1.01, along the analytic gradient, in a torch-style message', () => {
    tf.tidy(() => {
      const z = logits();
      const result = expectNoLeak(() => gradcheck(weightedCrossEntropy('scaledBy1.01'), [z], { names: ['logits'], seed: 7 }));
      expect(result.passed).toBe(false);
      const gradientDirection = result.directions.find((c) => c.along === 'gradient');
      expect(gradientDirection?.passed).toBe(false);
      // Along g, the analytic derivative is 1.01 times the numerical one.
      expect((gradientDirection?.analytical ?? 0) / (gradientDirection?.numerical ?? 1)).toBeCloseTo(1.01, 3);
      const message = result.failures.join('\n');
      expect(message).toMatch(/Jacobian mismatch for output 0 with respect to input 0 \('logits'\), along the analytic gradient/);
      expect(message).toMatch(/numerical: -?[\d.]+\nanalytical: -?[\d.]+\nerror [\d.e-]+ > tolerance [\d.e-]+ = rtol 0\.001·‖g‖/);
      expect(message).toMatch(/\{ seed: 7 \}/);
    });
  });

  it('flags a sign flip in one element and names that element', () => {
    tf.tidy(() => {
      const z = logits();
      const result = expectNoLeak(() => gradcheck(weightedCrossEntropy('signFlipAt[1, 2]'), [z]));
      expect(result.passed).toBe(false);
      const failingElements = result.directions.filter((c) => c.along === 'axis' && !c.passed).map((c) => c.position);
      expect(failingElements).toEqual(['[1, 2]']);
      expect(result.failures.join('\n')).toMatch(/\[1, 2\]: numerical -?[\d.]+, analytical -?[\d.]+/);
    });
  });

  it('flags a gradient without the dy factor through the cotangent checks', () => {
    tf.tidy(() => {
      const z = logits();
      const result = expectNoLeak(() => gradcheck(weightedCrossEntropy('missingDy'), [z]));
      expect(result.passed).toBe(false);
      const failed = result.sideChecks.filter((c) => !c.passed).map((c) => c.name);
      expect(failed).toEqual(expect.arrayContaining(['zeroCotangent', 'linearInCotangent']));
      expect(result.failures.join('\n')).toMatch(/dy = 0.*expected 0/);
    });
  });

  it('flags a gradient that ignores the class weight', () => {
    tf.tidy(() => {
      const z = logits();
      const result = expectNoLeak(() => gradcheck(weightedCrossEntropy('ignoresWeight'), [z]));
      expect(result.passed).toBe(false);
      expect(result.directions.filter((c) => !c.passed).length).toBeGreaterThan(1);
      expect(result.sideChecks.every((c) => c.passed)).toBe(true);
    });
  });

  it('replays: one seed gives identical results, another seed other random directions', () => {
    tf.tidy(() => {
      const f = weightedCrossEntropy('none');
      const z = logits();
      const numbers = (seed: number) =>
        gradcheck(f, [z], { seed, axisLimit: 0 }).directions.map((c) => [c.numerical, c.analytical, c.error, c.tolerance]);
      expect(numbers(3)).toEqual(numbers(3));
      expect(numbers(4)[1]).not.toEqual(numbers(3)[1]);
      const result = gradcheck(f, [z], { seed: 3, axisLimit: 0 });
      expect(result.directions.map((c) => [c.input, c.along, c.direction])).toEqual([
        [0, 'gradient', 0],
        [0, 'random', 1],
        [0, 'random', 2],
        [0, 'random', 3],
      ]);
      expect(result.seed).toBe(3);
    });
  });

  it('assertGradcheck returns the result when it passes and throws a GradcheckError carrying it otherwise', () => {
    tf.tidy(() => {
      const z = logits();
      expect(expectNoLeak(() => assertGradcheck(weightedCrossEntropy('none'), [z])).passed).toBe(true);
      expectNoLeak(() => {
        try {
          assertGradcheck(weightedCrossEntropy('scaledBy1.01'), [z]);
          throw new Error('assertGradcheck did not throw');
        } catch (e) {
          expect(e).toBeInstanceOf(GradcheckError);
          expect((e as GradcheckError).result.passed).toBe(false);
          expect((e as GradcheckError).message).toMatch(/^gradcheck failed: Jacobian mismatch/);
        }
      });
    });
  });

  it('reports what makes a gradient impossible to check: disconnected, wrong shape, NaN, not repeatable', () => {
    tf.tidy(() => {
      const z = logits();
      const viaHost: TensorFunction = (a) => tf.tidy(() => tf.tensor(a.dataSync()).sum());
      const wrongShape = withGradient((a) => ({ value: a.sum(), gradFunc: () => tf.ones([2]) }));
      const nanGradient = withGradient((a) => ({ value: a.sum(), gradFunc: (dy) => tf.fill(a.shape, NaN).mul(dy) }));
      let calls = 0;
      const drifting = withGradient((a) => ({
        value: a.sum(),
        gradFunc: (dy) =>
          tf
            .onesLike(a)
            .mul(dy)
            .mul(1 + 1e-3 * calls++),
      }));
      const failedCheck = (f: TensorFunction) => expectNoLeak(() => gradcheck(f, [z]).sideChecks.find((c) => !c.passed));
      expect(failedCheck(viaHost)).toMatchObject({ name: 'differentiable', message: expect.stringMatching(/Cannot compute gradient/) });
      expect(failedCheck(wrongShape)).toMatchObject({ name: 'differentiable', message: expect.stringMatching(/shape/) });
      expect(failedCheck(nanGradient)).toMatchObject({ name: 'finite', message: expect.stringMatching(/NaN at position \[0, 0\]/) });
      expect(failedCheck(drifting)).toMatchObject({ name: 'repeatable' });
    });
  });

  it('reports an output that is not a finite float32 tensor', () => {
    tf.tidy(() => {
      const z = logits();
      const output = (f: TensorFunction) => expectNoLeak(() => gradcheck(f, [z]).sideChecks[0]);
      expect(output((a) => a.log().sum())).toMatchObject({
        name: 'output',
        passed: false,
        message: expect.stringMatching(/not finite.*NaN/),
      });
      expect(output((a) => a.greater(0).sum())).toMatchObject({
        name: 'output',
        passed: false,
        message: expect.stringMatching(/float32.*int32/),
      });
      expect(output((a) => a.sum())).toMatchObject({ name: 'output', passed: true });
    });
  });

  it('shrinks the step where x ± step leaves the domain of f', () => {
    tf.tidy(() => {
      const p = tf.tensor1d([0.004, 0.5, 0.996]);
      const result = expectNoLeak(() => gradcheck((q) => q.log().neg().sum(), [p]));
      expect(result.passed).toBe(true);
      expect(result.directions.some((c) => c.step < 0.01)).toBe(true);
    });
  });

  it('lets an error thrown by f at the given inputs propagate, leaving no tensor behind', () => {
    tf.tidy(() => {
      const z = logits();
      expectNoLeak(() => expect(() => gradcheck(() => crossEntropy(z, [0, 1, 2, 9]), [z])).toThrow(LossInputError));
    });
  });

  describe('rejects bad arguments with a LossInputError naming the argument, leaving no tensor behind', () => {
    const one = () => tf.scalar(1);
    it.each([
      ['f not a function', (x: tf.Tensor) => gradcheck('f' as unknown as TensorFunction, [x]), one, /'f'.*a function/],
      ['no inputs', () => gradcheck((a) => a, []), one, /'inputs'.*non-empty/],
      [
        'an int32 input to differentiate',
        (x: tf.Tensor) => gradcheck((a) => a.toFloat(), [x], { wrt: [0] }),
        () => tf.tensor1d([1], 'int32'),
        /'options.wrt'.*float32.*int32/,
      ],
      [
        'no float32 input',
        (x: tf.Tensor) => gradcheck((a) => a.toFloat(), [x]),
        () => tf.tensor1d([1], 'int32'),
        /'options.wrt'.*no float32 input/,
      ],
      ['an index out of range', (x: tf.Tensor) => gradcheck((a) => a, [x], { wrt: [1] }), one, /'options.wrt'.*\[0, 1\).*got 1/],
      [
        'a non-finite input',
        (x: tf.Tensor) => gradcheck((a) => a, [x]),
        () => tf.tensor1d([1, Infinity]),
        /'inputs\[0\]'.*finite.*Infinity at position \[1\]/,
      ],
      ['a step of 1', (x: tf.Tensor) => gradcheck((a) => a, [x], { step: 1 }), one, /'options.step'.*\(0, 1\)/],
      ['zero directions', (x: tf.Tensor) => gradcheck((a) => a, [x], { directions: 0 }), one, /'options.directions'.*positive integer/],
      ['a negative rtol', (x: tf.Tensor) => gradcheck((a) => a, [x], { rtol: -1 }), one, /'options.rtol'/],
    ])('%s', (_, call, makeInput, message) => {
      const x = makeInput();
      expectNoLeak(() => expect(() => call(x)).toThrow(message));
      expect(() => call(x)).toThrow(LossInputError);
      x.dispose();
    });
  });
});
