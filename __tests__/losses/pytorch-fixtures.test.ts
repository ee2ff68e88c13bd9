import { checkTorchFixture } from '../../src/check/torchFixture';
import { LIBRARY_LOSSES } from '../../src/cli/fixtures';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';
import { FIXTURE_LOSSES, loadFixtures } from '../helpers/fixtures';

/**
 * Every PyTorch fixture case on every backend, checked by `checkTorchFixture` as a user's fixture is:
 * the library's value and its gradients (tf.grads over the input and, for float targets, the target;
 * for 'none', of `Σ loss·upstream`) against PyTorch's float64 answer for the same float32 numbers. The
 * library works in float32, so the tolerance is float32's: 1e-5 relative, 1e-6 absolute, on every
 * backend (the losses run as host kernels, so wasm is measured to agree as closely as cpu).
 */
const TOLERANCE = { rtol: 1e-5, atol: 1e-6 };

/** Which losses to run: all, or those named in FIXTURE_LOSSES (comma-separated) for a quick local run. */
const SELECTED = process.env.FIXTURE_LOSSES?.split(',').filter(Boolean) ?? FIXTURE_LOSSES;

describeEachBackend('losses against PyTorch fixtures', () => {
  for (const loss of FIXTURE_LOSSES.filter((name) => SELECTED.includes(name))) {
    describe(loss, () => {
      const fixture = loadFixtures(loss);
      // A case at a time, each a test of its own: a case of zeros only (every target ignored) is no vacuous fixture.
      test.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
        const report = expectNoLeak(() => checkTorchFixture(LIBRARY_LOSSES[loss], { ...fixture, cases: [c] }, TOLERANCE));
        expect(report.cases[0].failures).toEqual([]);
      });
    });
  }
});
