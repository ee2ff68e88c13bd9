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
  it('passes a correct loss on the kinds asked for, and reports the others as skipped', () => {
    const report = expectNoLeak(() => checkUserLoss(sigmoidLoss, { kinds: ['binary'] }));
    expect(report.passed).toBe(true);
    expect(report.kinds).toEqual(['binary']);
    expect(report.verdicts).toEqual({ binary: 'pass', multiclass: 'skipped' });
    expect(report.checks.map((c) => c.kind)).toEqual(report.checks.map(() => 'binary'));
    expect(report.checks.map((c) => c.name)).toEqual([
      'accepts',
      'returnsTensor',
      'finiteValue',
      'noLeakValue',
      'finiteGradient',
      'noLeakGradient',
      'gradcheck',
    ]);
    expect(report.summary).toBe('the loss passes 7 checks on binary (3 cases); multiclass skipped');
  });

  it('fails a loss that throws on one kind, showing the error, and passes the other kind', () => {
    const report = expectNoLeak(() => checkUserLoss(sigmoidLoss));
    expect(report.passed).toBe(false);
    expect(report.kinds).toEqual(['binary', 'multiclass']);
    expect(report.verdicts).toEqual({ binary: 'pass', multiclass: 'fail' });
    expect(report.checks.filter((c) => !c.passed)).toEqual([
      {
        name: 'accepts',
        kind: 'multiclass',
        passed: false,
        message: expect.stringMatching(
          /^the loss throws on logits \[N, C\] with int32 class-index targets \[N\] \(multiclass \[8, 3\]\): Error: .*sigmoidCrossEntropy.*must match$/,
        ),
      },
    ]);
    expect(report.summary).toMatch(/^the loss fails 1 check: the loss throws on logits \[N, C\]/);
  });

  it('fails a kind on which the loss returns no tensor, or throws something that is not an Error', () => {
    const numberOnMulticlass: LossFunction = (z, y) => (z.rank === 1 ? sigmoidLoss(z, y) : (0 as unknown as tf.Tensor));
    const report = expectNoLeak(() => checkUserLoss(numberOnMulticlass));
    expect(report.verdicts).toEqual({ binary: 'pass', multiclass: 'fail' });
    expect(report.checks.find((c) => !c.passed)?.message).toMatch(/^the loss returns number instead of a tf\.Tensor on logits \[N, C\]/);
    const throwsText: LossFunction = () => {
      throw 'no multiclass here';
    };
    const thrown = expectNoLeak(() => checkUserLoss(throwsText, { kinds: ['multiclass'] }));
    expect(thrown.verdicts).toEqual({ binary: 'skipped', multiclass: 'fail' });
    expect(thrown.checks[0].message).toMatch(/: 'no multiclass here' \(not an Error\)$/);
  });

  it('passes crossEntropy on multiclass cases', () => {
    const report = expectNoLeak(() => checkUserLoss((z, y) => crossEntropy(z, y), { kinds: ['multiclass'] }));
    expect(report).toMatchObject({ passed: true, kinds: ['multiclass'], verdicts: { binary: 'skipped', multiclass: 'pass' } });
  });

  it('fails a loss whose gradient is scaled by 1.01, naming the case and the mismatch', () => {
    const report = expectNoLeak(() => checkUserLoss(wrongSigmoidLoss, { kinds: ['binary'] }));
    expect(report.passed).toBe(false);
    expect(report.verdicts).toEqual({ binary: 'fail', multiclass: 'skipped' });
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

  it('fails both kinds of a loss that throws on every input', () => {
    const refuses: LossFunction = () => {
      throw new Error('expects one-hot targets');
    };
    const report = expectNoLeak(() => checkUserLoss(refuses));
    expect(report.passed).toBe(false);
    expect(report.verdicts).toEqual({ binary: 'fail', multiclass: 'fail' });
    expect(report.checks.map((c) => [c.name, c.kind, c.passed])).toEqual([
      ['accepts', 'binary', false],
      ['accepts', 'multiclass', false],
    ]);
    expect(report.summary).toMatch(/^the loss fails 2 checks: the loss throws on binary logits \[N\] .*: Error: expects one-hot targets$/);
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
