import { join } from 'path';
import '../../src/jest';
import { loadLoss } from '../../src/cli/loadLoss';
import { main } from '../../src/cli/main';
import { binaryCrossEntropyWithLogits } from '../../src/losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { describeEachBackend } from '../helpers/backends';

/**
 * The README's worked example, as written there: three PyTorch calls recorded by
 * examples/fixtures/record.py (committed JSON; no torch needed here), checked with the Jest matcher and
 * with `tfjs-loss-adapter verify --fixtures`.
 */
const EXAMPLES = join(__dirname, '..', '..', 'examples', 'fixtures');
const FOCAL_LOSS = join(EXAMPLES, 'custom', 'binary-focal-loss.js');

describeEachBackend('the worked example: PyTorch fixtures', (backend) => {
  it('match in Jest: crossEntropy, binaryCrossEntropyWithLogits and the custom focal loss', async () => {
    expect(crossEntropy).toMatchTorchFixture(join(EXAMPLES, 'cross-entropy.json'));
    expect(binaryCrossEntropyWithLogits).toMatchTorchFixture(join(EXAMPLES, 'bce-with-logits.json'));
    const { loss: binaryFocalLoss } = await loadLoss(FOCAL_LOSS);
    expect(binaryFocalLoss).toMatchTorchFixture(join(EXAMPLES, 'custom', 'binary-focal-loss.json'));
  });

  it.each([
    [[EXAMPLES], 2],
    [[join(EXAMPLES, 'custom'), '--loss', FOCAL_LOSS], 1],
  ])('match with verify --fixtures %j', async (args, rows) => {
    const stdout: string[] = [];
    const code = await main(['verify', '--backend', backend, '--fixtures', ...args], {
      out: (t) => stdout.push(t),
      err: (t) => stdout.push(t),
    });
    expect(stdout.join('\n')).toMatch(/verify --fixtures: every fixture matched$/);
    expect(code).toBe(0);
    expect(stdout.join('\n').match(/\| pass +\|/g)).toHaveLength(rows);
  });
});
