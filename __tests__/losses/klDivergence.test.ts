import * as tf from '@tensorflow/tfjs';
import { referenceKlDivergence } from '../../src/check/referenceFocal';
import { setKernelPath } from '../../src/kernels/dispatch';
import { klDivergence, KlDivergenceOptions } from '../../src/losses/klDivergence';
import { KLDivLoss } from '../../src/losses/modules';
import { evaluateLoss, expectClose, expectInputError, lossGradients } from '../helpers/assertions';
import { describeEachBackend } from '../helpers/backends';

describeEachBackend('klDivergence', () => {
  afterEach(() => setKernelPath('auto'));

  const shape = [2, 3, 2];
  const logProbabilities = [-0.5, -2, -1.2, -0.1, -3, -0.9, -1.6, -0.7, -2.2, -0.05, -0.3, -4];
  const probabilities = [0.2, 0.5, 0.3, 0, 0.5, 0.5, 0.6, 0.3, 0.1, 0.2, 0.3, 0.5];
  const logTargets = probabilities.map((p) => Math.log(p + 0.05));

  for (const path of ['auto', 'composite'] as const) {
    it(`gives PyTorch's value and gradients for every reduction, with and without logTarget (${path} path)`, () => {
      setKernelPath(path);
      const input = tf.tensor(logProbabilities, shape);
      for (const logTarget of [false, true]) {
        const values = logTarget ? logTargets : probabilities;
        const target = tf.tensor(values, shape);
        for (const reduction of ['mean', 'batchmean', 'sum', 'none'] as const) {
          const options = { reduction, logTarget };
          const dy =
            reduction === 'none'
              ? tf.tensor(
                  values.map((_, k) => [1, -0.5, 2][k % 3]),
                  shape,
                )
              : undefined;
          const value = evaluateLoss(klDivergence, input, target, options);
          const [dx, dt] = lossGradients(klDivergence, input, target, options, dy);
          const expected = referenceKlDivergence(
            { shape, values: Float32Array.from(logProbabilities) },
            { shape, values: Float32Array.from(values) },
            options,
            dy?.dataSync(),
          );
          expect(value.shape).toEqual(expected.value.shape);
          expectClose(value.values, expected.value.values, 1e-5, 1e-6);
          expectClose(dx, expected.grad.input, 1e-5, 1e-6);
          // A target of 0 adds 0 to the loss; its gradient is NaN, as PyTorch's (0/0 in xlogy's backward).
          expectClose(dt, expected.grad.target ?? [], 1e-5, 1e-6);
          expect(dt.some(Number.isNaN)).toBe(!logTarget);
          tf.dispose([dy]);
        }
        target.dispose();
      }
      input.dispose();
    });
  }

  it("'batchmean' divides by the first axis ('sum' for a scalar), 'mean' by the number of elements; KLDivLoss binds the options", () => {
    const input = tf.tensor(logProbabilities, shape);
    const target = tf.tensor(probabilities, shape);
    const sum = evaluateLoss(klDivergence, input, target, { reduction: 'sum' }).values[0];
    expectClose(evaluateLoss(klDivergence, input, target, { reduction: 'batchmean' }).values, [sum / 2]);
    expectClose(evaluateLoss(klDivergence, input, target).values, [sum / 12]);
    expectClose(evaluateLoss((x, t) => new KLDivLoss({ reduction: 'batchmean' }).forward(x, t), input, target).values, [sum / 2]);
    const scalar = evaluateLoss(klDivergence, -1.5, 0.4, { reduction: 'batchmean' }).values[0];
    expectClose([scalar], [0.4 * (Math.log(0.4) + 1.5)]);
    tf.dispose([input, target]);
  });

  it('rejects a bad reduction, a non-boolean logTarget and a target of another shape, naming each; leaks nothing', () => {
    const x = tf.tensor1d([-0.5, -1]);
    const bad = (options: KlDivergenceOptions) => () => klDivergence(x, [0.6, 0.4], options);
    expectInputError(bad({ reduction: 'avg' as 'mean' }), "klDivergence: argument 'options.reduction'", "'batchmean'", '"avg"');
    expectInputError(bad({ logTarget: 1 as unknown as boolean }), "argument 'options.logTarget'", 'true or false', 'got 1');
    expectInputError(() => klDivergence(x, [0.6, 0.3, 0.1]), "argument 'target'", 'shape [3]');
    x.dispose();
  });
});
