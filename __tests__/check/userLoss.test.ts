import * as tf from '@tensorflow/tfjs';
import { LossFunction } from '../../src/check/equivalence';
import { checkUserLoss } from '../../src/check/userLoss';
import { LossInputError } from '../../src/core/errors';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

/** A user's binary loss written with tfjs ops: mean sigmoid cross-entropy on logits. */
const sigmoidLoss: LossFunction = (z, y) => tf.tidy(() => tf.losses.sigmoidCrossEntropy(y, z, undefined, 0, tf.Reduction.MEAN));

/** The same loss with its gradient scaled by 1.01, as a hand-written gradient might be. */
const wrongSigmoidLoss: LossFunction = (z, y) => {
  const op = tf.customGrad(((logits: tf.Tensor) => ({
    value: sigmoidLoss(logits, y),
    gradFunc: (dy: tf.Tensor) => tf.sigmoid(logits).sub(y).div(logits.size).mul(dy).mul(1.01),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return op(z);
};

describeEachBackend('checkUserLoss', () => {
  it('passes a correct loss on the kinds it accepts, and says which kind it skipped', () => {
    const report = expectNoLeak(() => checkUserLoss(sigmoidLoss));
    expect(report.passed).toBe(true);
    expect(report.kinds).toEqual(['binary']);
    const skipped = report.checks.find((c) => c.kind === 'multiclass');
    expect(skipped).toMatchObject({
      name: 'accepts',
      passed: true,
      message: expect.stringMatching(/throws .* on logits \[N, C\].*: this kind is skipped$/),
    });
    expect(report.checks.filter((c) => c.kind === 'binary').map((c) => c.name)).toEqual([
      'accepts',
      'returnsTensor',
      'finiteValue',
      'noLeakValue',
      'finiteGradient',
      'noLeakGradient',
      'gradcheck',
    ]);
    expect(report.summary).toBe('the loss passes 8 checks on binary (3 cases)');
  });

  it('passes crossEntropy on multiclass cases', () => {
    const report = expectNoLeak(() => checkUserLoss((z, y) => crossEntropy(z, y), { kinds: ['multiclass'] }));
    expect(report).toMatchObject({ passed: true, kinds: ['multiclass'] });
  });

  it('fails a loss whose gradient is scaled by 1.01, naming the case and the mismatch', () => {
    const report = expectNoLeak(() => checkUserLoss(wrongSigmoidLoss));
    expect(report.passed).toBe(false);
    const failed = report.checks.filter((c) => !c.passed);
    expect(failed.map((c) => c.name)).toEqual(['gradcheck']);
    expect(failed[0].message).toMatch(
      /^gradcheck fails on binary case 0 \(binary \[8\]\):\ngradcheck failed: Jacobian mismatch for output 0 with respect to input 0 \('input'\)/,
    );
    expect(report.summary).toMatch(/^the loss fails 1 check: gradcheck fails on binary case 0/);
  });

  it('fails a loss that leaks, one that is not finite, and one that cannot be differentiated', () => {
    const leaky: LossFunction = (z, y) => {
      tf.sigmoid(z); // made and dropped: a leak outside a tidy
      return sigmoidLoss(z, y);
    };
    const failedNames = (loss: LossFunction) =>
      checkUserLoss(loss, { kinds: ['binary'] })
        .checks.filter((c) => !c.passed)
        .map((c) => [c.name, c.message]);
    // checkUserLoss counts the leak inside a tidy, which disposes it: checking leaks nothing.
    expect(expectNoLeak(() => failedNames(leaky))).toEqual([
      ['noLeakValue', expect.stringMatching(/^computing the loss leaves 1 tensor behind on binary case 0 .*\(use tf\.tidy\)$/)],
    ]);
    expect(expectNoLeak(() => failedNames((z) => tf.tidy(() => z.log().mean())))).toContainEqual([
      'finiteValue',
      expect.stringMatching(/^the loss is NaN at \[\] /),
    ]);
    const viaHost: LossFunction = (z) => tf.tidy(() => tf.scalar(Array.from(z.dataSync()).reduce((a, b) => a + b, 0)));
    expect(expectNoLeak(() => failedNames(viaHost))).toEqual([
      ['finiteGradient', expect.stringMatching(/^tf\.grad cannot differentiate the loss with respect to its input on binary case 0/)],
    ]);
  });

  it('fails a loss that accepts neither kind, or throws on a kind asked for', () => {
    const refuses: LossFunction = () => {
      throw new Error('expects one-hot targets');
    };
    const none = expectNoLeak(() => checkUserLoss(refuses));
    expect(none.passed).toBe(false);
    expect(none.checks.map((c) => c.passed)).toEqual([true, true, false]);
    expect(none.summary).toMatch(/accepts neither binary logits \[N\] .* nor logits \[N, C\]/);
    const asked = expectNoLeak(() => checkUserLoss(sigmoidLoss, { kinds: ['multiclass'] }));
    expect(asked.checks).toEqual([
      { name: 'accepts', kind: 'multiclass', passed: false, message: expect.stringMatching(/^the loss throws \(.*\) on logits \[N, C\]/) },
    ]);
  });

  it.each([
    ['a loss that is not a function', () => checkUserLoss('loss' as unknown as LossFunction), /'loss'.*a function/],
    ['an unknown kind', () => checkUserLoss(sigmoidLoss, { kinds: ['ternary' as 'binary'] }), /'options.kinds'/],
    ['a negative seed', () => checkUserLoss(sigmoidLoss, { seed: -1 }), /'options.seed'/],
  ])('rejects %s with a LossInputError', (_, call, message) => {
    expectNoLeak(() => expect(call).toThrow(message));
    expect(call).toThrow(LossInputError);
  });
});
