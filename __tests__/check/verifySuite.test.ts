import * as tf from '@tensorflow/tfjs';
import { runVerifySuite } from '../../src/check/verifySuite';
import * as crossEntropyModule from '../../src/losses/crossEntropy';
import { describeEachBackend } from '../helpers/backends';

describeEachBackend('runVerifySuite', () => {
  afterEach(() => jest.restoreAllMocks());

  it('passes every check, with cases in each, and leaves no tensor behind', () => {
    const before = tf.memory().numTensors;
    const rows = runVerifySuite({ seed: 5 });
    expect(tf.memory().numTensors).toBe(before);
    expect(rows.filter((r) => !r.passed)).toEqual([]);
    expect(rows.every((r) => r.cases > 0)).toBe(true);
    expect(rows.filter((r) => r.check.startsWith('gradgradcheck ')).map((r) => r.check)).toEqual([
      'gradgradcheck crossEntropy, class indices, class weights',
      'gradgradcheck crossEntropy, class probabilities',
      'gradgradcheck nllLoss of log',
      'gradgradcheck binaryCrossEntropy, soft targets',
      'gradgradcheck binaryCrossEntropyWithLogits, posWeight, soft targets',
      'gradgradcheck classificationLoss, binary head as two classes',
    ]);
  });

  it('fails the checks that involve crossEntropy when its value is 0.1% off, and says which case', () => {
    const exact = crossEntropyModule.crossEntropy;
    jest
      .spyOn(crossEntropyModule, 'crossEntropy')
      .mockImplementation((input, target, options) => tf.mul(exact(input, target, options), 1.001));
    const rows = runVerifySuite({ seed: 5 });
    expect(rows.filter((r) => !r.passed).map((r) => r.check)).toEqual([
      'CE(z, y) == BCEWithLogits(z1 - z0, y)',
      'CE(z, y) == BCE(softmax(z)[:,1], y)',
      'BCEWithLogits(s, y) == CE([0, s], y)',
      'softmaxFocal(z, y, γ=0) == CE(z, y)',
    ]);
    expect(rows[0].failure).toMatch(
      /^mean: 'CE\(z, y\)' and 'BCEWithLogits\(z1 - z0, y\)' differ on \d+ of 16 cases .* differ in value on case \d+ \(N=\d+ \|z\|<=\d+\)/,
    );
  });

  it('fails the checks that differentiate crossEntropy when its gradient is 1% off', () => {
    const exact = crossEntropyModule.crossEntropy;
    const scaleGradient = tf.customGrad((x) => ({ value: tf.clone(x as tf.Tensor), gradFunc: (dy: tf.Tensor) => tf.mul(dy, 1.01) }));
    jest
      .spyOn(crossEntropyModule, 'crossEntropy')
      .mockImplementation((input, target, options) => exact(scaleGradient(input as tf.Tensor), target, options));
    const rows = runVerifySuite({ seed: 5 });
    expect(rows.filter((r) => !r.passed).map((r) => r.check)).toEqual([
      'CE(z, y) == BCEWithLogits(z1 - z0, y)',
      'CE(z, y) == BCE(softmax(z)[:,1], y)',
      'BCEWithLogits(s, y) == CE([0, s], y)',
      'softmaxFocal(z, y, γ=0) == CE(z, y)',
      'gradcheck crossEntropy, class indices, class weights',
      'gradcheck crossEntropy, class probabilities',
      // The identity's derivative claimed to be 1.01 reaches the second derivative too (1.01², against 1.01 numerically).
      'gradgradcheck crossEntropy, class indices, class weights',
      'gradgradcheck crossEntropy, class probabilities',
    ]);
  });
});
