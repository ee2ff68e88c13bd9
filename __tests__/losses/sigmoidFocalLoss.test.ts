import * as tf from '@tensorflow/tfjs';
import { referenceSigmoidFocalLoss } from '../../src/check/referenceFocal';
import { setValidation } from '../../src/core/validation';
import { setKernelPath } from '../../src/kernels/dispatch';
import { SigmoidFocalLoss } from '../../src/losses/modules';
import { sigmoidFocalLoss, SigmoidFocalLossOptions } from '../../src/losses/sigmoidFocalLoss';
import { evaluateLoss, expectClose, expectInputError, lossGradients } from '../helpers/assertions';
import { describeEachBackend } from '../helpers/backends';

const LOGITS = [1e4, -1e4, 1e4, -1e4, 88, -104, 30, -17, 2, -0.5, 1e-6, 0];
const TARGETS = [1, 0, 0, 0.3, 1, 0, 1, 0.75, 1, 0, 0.5, 1];

describeEachBackend('sigmoidFocalLoss', () => {
  afterEach(() => {
    setKernelPath('auto');
    setValidation('auto');
  });

  for (const path of ['auto', 'composite'] as const) {
    it(`gives the float64 reference's finite value and gradients for |x| up to 1e4, every gamma, alpha on and off (${path} path)`, () => {
      setKernelPath(path);
      const input = tf.tensor1d(LOGITS);
      const target = tf.tensor1d(TARGETS);
      for (const gamma of [0, 0.1, 0.5, 1, 2, 5]) {
        for (const alpha of [0.25, -1, 1]) {
          for (const reduction of ['none', 'mean', 'sum'] as const) {
            const options = { gamma, alpha, reduction };
            const dy = reduction === 'none' ? tf.tensor1d(LOGITS.map((_, k) => [1, -0.5, 2][k % 3])) : undefined;
            const value = evaluateLoss(sigmoidFocalLoss, input, target, options);
            const [dx, dt] = lossGradients(sigmoidFocalLoss, input, target, options, dy);
            const expected = referenceSigmoidFocalLoss(
              { shape: [LOGITS.length], values: Float32Array.from(LOGITS) },
              { shape: [TARGETS.length], values: Float32Array.from(TARGETS) },
              options,
              dy === undefined ? undefined : dy.dataSync(),
            );
            expect([...value.values, ...dx, ...dt].every(Number.isFinite)).toBe(true);
            expectClose(value.values, expected.value.values, 1e-5, 1e-6);
            expectClose(dx, expected.grad.input, 1e-5, 1e-6);
            expectClose(dt, expected.grad.target ?? [], 1e-5, 1e-6);
            dy?.dispose();
          }
        }
      }
      tf.dispose([input, target]);
    });
  }

  it("defaults to alpha 0.25, gamma 2 and reduction 'none', as torchvision; also a module, SigmoidFocalLoss", () => {
    const logits = tf.tensor2d([
      [2, -1],
      [0.5, -3],
    ]);
    const target = tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);
    const plain = evaluateLoss(sigmoidFocalLoss, logits, target);
    expect(plain.shape).toEqual([2, 2]);
    expectClose(plain.values, evaluateLoss(sigmoidFocalLoss, logits, target, { alpha: 0.25, gamma: 2, reduction: 'none' }).values);
    const module = new SigmoidFocalLoss({ alpha: -1, reduction: 'sum' });
    expectClose(
      evaluateLoss((x, t) => module.forward(x, t), logits, target).values,
      evaluateLoss(sigmoidFocalLoss, logits, target, { alpha: -1, reduction: 'sum' }).values,
    );
    tf.dispose([logits, target]);
  });

  it('rejects gamma < 0, alpha > 1, targets outside [0, 1], a bad reduction and another shape, naming each; leaks nothing', () => {
    const x = tf.tensor1d([0.5, -1, 2]);
    const y = tf.tensor1d([1, 0, 1]);
    const bad = (options: SigmoidFocalLossOptions) => () => sigmoidFocalLoss(x, y, options);
    expectInputError(bad({ gamma: -1 }), "sigmoidFocalLoss: argument 'options.gamma'", 'a finite number >= 0', 'got -1');
    expectInputError(bad({ alpha: 1.5 }), "argument 'options.alpha'", 'a number <= 1', 'got 1.5');
    expectInputError(bad({ alpha: NaN }), "argument 'options.alpha'", 'got NaN');
    expectInputError(bad({ reduction: 'batchmean' as 'mean' }), "'options.reduction'", "'none', 'mean', 'sum'");
    expectInputError(() => sigmoidFocalLoss(x, [1, 1.5, 0]), "argument 'target'", 'probabilities in [0, 1]', '1.5 at position [1]');
    expectInputError(() => sigmoidFocalLoss(x, [[1, 0, 1]]), "argument 'target'", 'shape [1, 3]');
    tf.dispose([x, y]);
  });

  it("poisons a target outside [0, 1] with NaN in 'device' validation, where nothing is read back", () => {
    setValidation('device');
    const x = tf.tensor1d([0.5, -1, 2]);
    const y = tf.tensor1d([1, 1.5, 0]);
    const perElement = evaluateLoss(sigmoidFocalLoss, x, y).values;
    expect(perElement.map(Number.isNaN)).toEqual([false, true, false]);
    expect(Number.isNaN(evaluateLoss(sigmoidFocalLoss, x, y, { reduction: 'mean' }).values[0])).toBe(true);
    tf.dispose([x, y]);
  });
});
