import * as tf from '@tensorflow/tfjs';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';
import {
  FIXTURE_LOSSES,
  FixtureCase,
  FixtureLoss,
  FixtureTensor,
  closeTo,
  float64Values,
  loadFixtures,
  mapTensorOptions,
  targetValues,
} from '../helpers/fixtures';
import { fixtureTensor, LOSSES } from '../helpers/fixtureLosses';

/**
 * Every PyTorch fixture case on every backend: the library's value and its gradients (tf.grads over the
 * input and, for float targets, the target; for 'none', of `Σ loss·upstream`) against PyTorch's float64
 * answer for the same float32 numbers. The library works in float32, so the tolerance is float32's:
 * 1e-5 relative, 1e-6 absolute, on every backend (the losses run as host kernels, so wasm is measured
 * to agree as closely as cpu).
 */
const RTOL = 1e-5;
const ATOL = 1e-6;

/** Which losses to run: all, or those named in FIXTURE_LOSSES (comma-separated) for a quick local run. */
const SELECTED = process.env.FIXTURE_LOSSES?.split(',').filter(Boolean) ?? FIXTURE_LOSSES;

function expectClose(actual: ArrayLike<number>, expected: FixtureTensor, what: string): void {
  const check = closeTo(actual, float64Values(expected), RTOL, ATOL);
  expect(check.pass ? 'close' : `${what}: ${check.message}`).toBe('close');
}

function runCase(loss: FixtureLoss, c: FixtureCase): void {
  const f = LOSSES[loss];
  const input = fixtureTensor(c.input);
  const target = tf.tensor(targetValues(c.target), c.target.shape, c.target.dtype);
  const options = mapTensorOptions(c.options, fixtureTensor);
  const upstream = c.upstream === null ? null : fixtureTensor(c.upstream);
  const owned = [
    input,
    target,
    ...(upstream === null ? [] : [upstream]),
    ...Object.values(options).filter((o): o is tf.Tensor => o instanceof tf.Tensor),
  ];
  try {
    const value = expectNoLeak(() => {
      const v = f(input, target, options);
      const result = { shape: v.shape, values: v.dataSync().slice() };
      v.dispose();
      return result;
    });
    expect(value.shape).toEqual(c.value.shape);
    expectClose(value.values, c.value, 'value');

    const differentiateTarget = c.grad.target !== null;
    const objective = (x: tf.Tensor, t: tf.Tensor = target) => {
      const v = f(x, t, options);
      return upstream === null ? v : v.mul(upstream).sum();
    };
    const grads = expectNoLeak(() => {
      const gs = tf.grads(objective)(differentiateTarget ? [input, target] : [input]);
      const values = gs.map((g) => g.dataSync().slice());
      tf.dispose(gs);
      return values;
    });
    expectClose(grads[0], c.grad.input, 'grad.input');
    if (c.grad.target !== null) expectClose(grads[1], c.grad.target, 'grad.target');
  } finally {
    tf.dispose(owned);
  }
}

describeEachBackend('losses against PyTorch fixtures', () => {
  for (const loss of FIXTURE_LOSSES.filter((name) => SELECTED.includes(name))) {
    describe(loss, () => {
      const fixture = loadFixtures(loss);
      test.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => runCase(loss, c));
    });
  }
});
