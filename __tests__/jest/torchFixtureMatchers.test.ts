import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'fs';
import { join } from 'path';
import '../../src/jest';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { nllLoss } from '../../src/losses/nllLoss';
import { describeEachBackend } from '../helpers/backends';

const CE = join(__dirname, '..', '..', 'examples', 'fixtures', 'cross-entropy.json');
/** Cross-entropy whose label smoothing is a quarter too weak: its value and gradient are off. */
const weakSmoothing = (z: tf.Tensor, y: tf.Tensor, options: { labelSmoothing: number }) =>
  crossEntropy(z, y, { ...options, labelSmoothing: options.labelSmoothing * 0.75 });

/** The message of the matcher's failure. */
async function failure(assertion: () => unknown): Promise<string> {
  try {
    await assertion();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('the assertion passed');
}

describeEachBackend('toMatchTorchFixture', () => {
  it('passes a loss that matches the fixture, given its path or the parsed file', () => {
    expect(crossEntropy).toMatchTorchFixture(CE);
    expect(crossEntropy).toMatchTorchFixture(JSON.parse(readFileSync(CE, 'utf8')));
    expect(weakSmoothing).not.toMatchTorchFixture(CE);
  });

  it('fails with the case, the quantity and the worst element, tfjs against PyTorch', async () => {
    const message = await failure(() => expect(weakSmoothing).toMatchTorchFixture(CE));
    expect(message).toMatch(/^expect\(loss\)\.toMatchTorchFixture\('\S+cross-entropy\.json'\)\n\n1 of 1 cases fail/);
    expect(message).toMatch(/case 'crossEntropy 0': value differs in 1 of 1 element; worst at \[\]: tfjs [\d.]+, PyTorch [\d.]+/);
    expect(message).toMatch(/\ncase 'crossEntropy 0': gradient of input differs in \d+ of 32 elements; worst at \[\d, \d\]/);
    expect(await failure(() => expect(nllLoss).toMatchTorchFixture(join(__dirname, 'missing.json')))).toMatch(/missing\.json: ENOENT/);
    expect(await failure(() => expect(1).toMatchTorchFixture(CE))).toMatch(
      /^toMatchTorchFixture: the received value must be a loss function/,
    );
  });

  it('has an asynchronous form that reads with await data() and says the same', async () => {
    await expect(crossEntropy).toMatchTorchFixtureAsync(CE);
    const message = await failure(() => expect(weakSmoothing).toMatchTorchFixtureAsync(CE));
    expect(message.replace('Async', '')).toBe(await failure(() => expect(weakSmoothing).toMatchTorchFixture(CE)));
  });
});
