import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { getKernelPath, setKernelPath } from '../../src/kernels/dispatch';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';
import { closeTo } from '../helpers/fixtures';
import {
  FixtureCall,
  FixtureTensor,
  fixtureTensor,
  float64Values,
  LOSSES,
  optionTensors,
  SECOND_ORDER_LOSSES,
  SecondOrderLoss,
  targetTensor,
} from '../helpers/secondOrderFixtures';

/**
 * Second derivatives through every loss against PyTorch (`tools/generate_second_order_fixtures.py`,
 * float64 for the same float32 numbers): for `L = Σ u·loss + ½·Σ loss²`, the gradient g, the
 * Hessian-vector products `∂/∂x ⟨g, v⟩` (and `∂/∂target ⟨g, v⟩` for float targets) and the gradient
 * of the penalty `‖g‖²`, each through `tf.grad` of `tf.grad`, on the default kernels (fused host
 * kernels on cpu and wasm) and on the composite ones. Tolerance rtol 1e-4, and an absolute 1e-6 of
 * the tensor's largest value for the elements where float32 cancellation leaves only rounding.
 */
const RTOL = 1e-4;
const ATOL_OF_LARGEST = 1e-6;

interface SecondOrderCase extends FixtureCall {
  upstream: FixtureTensor;
  direction: FixtureTensor;
  gradient: FixtureTensor;
  hvp: { input: FixtureTensor; target: FixtureTensor | null };
  penalty: FixtureTensor;
}

const FIXTURES = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'second-order', 'secondOrder.json'), 'utf8')) as {
  losses: Record<SecondOrderLoss, SecondOrderCase[]>;
};

/** With SECOND_ORDER_REPORT=1: the largest error relative to max(|expected|, 1% of the tensor's largest), per backend and path. */
const worstRelative = new Map<string, number>();

function expectClose(actual: tf.Tensor, expected: FixtureTensor, what: string): void {
  const wanted = float64Values(expected);
  const got = actual.dataSync() as Float32Array;
  const largest = wanted.reduce((m, x) => (Number.isFinite(x) ? Math.max(m, Math.abs(x)) : m), 0);
  const check = closeTo(got, wanted, RTOL, ATOL_OF_LARGEST * largest);
  const key = `${tf.getBackend()} ${getKernelPath()}`;
  wanted.forEach((e, k) => {
    const relative = Math.abs(got[k] - e) / Math.max(Math.abs(e), 0.01 * largest);
    if (Number.isFinite(e) && largest > 0) worstRelative.set(key, Math.max(worstRelative.get(key) ?? 0, relative));
  });
  expect(check.pass ? 'close' : `${what}: ${check.message}`).toBe('close');
}

afterAll(() => {
  if (process.env.SECOND_ORDER_REPORT === '1')
    console.log([...worstRelative].map(([key, error]) => `${key}: ${error.toExponential(2)}`).join('\n'));
});

function runCase(loss: SecondOrderLoss, c: SecondOrderCase): void {
  const x = fixtureTensor(c.input);
  const target = targetTensor(c.target);
  const options = optionTensors(c.options);
  const [upstream, direction] = [fixtureTensor(c.upstream), fixtureTensor(c.direction)];
  const owned = [x, target, upstream, direction, ...Object.values(options).filter((o): o is tf.Tensor => o instanceof tf.Tensor)];
  try {
    const objective = (input: tf.Tensor, t: tf.Tensor) => {
      const l = LOSSES[loss](input, t, options);
      return tf.add(tf.sum(tf.mul(upstream, l)), tf.mul(0.5, tf.sum(tf.square(l))));
    };
    const gradient = (input: tf.Tensor, t: tf.Tensor) => tf.grad((z: tf.Tensor) => objective(z, t))(input);
    expectNoLeak(() => {
      const results = tf.tidy(() => {
        const along = (input: tf.Tensor, t: tf.Tensor) => tf.sum(tf.mul(gradient(input, t), direction));
        const float = c.target.dtype === 'float32';
        const hvp = float ? tf.grads(along)([x, target]) : [tf.grad((input: tf.Tensor) => along(input, target))(x)];
        const penalty = tf.grad((input: tf.Tensor) => tf.sum(tf.square(gradient(input, target))))(x);
        return { g: gradient(x, target), hvp, penalty };
      });
      expectClose(results.g, c.gradient, 'gradient');
      expectClose(results.hvp[0], c.hvp.input, 'Hessian-vector product (input)');
      if (c.hvp.target !== null) expectClose(results.hvp[1], c.hvp.target, 'Hessian-vector product (target)');
      expectClose(results.penalty, c.penalty, 'gradient of the penalty');
      tf.dispose([results.g, ...results.hvp, results.penalty]);
    });
  } finally {
    tf.dispose(owned);
  }
}

describeEachBackend('second derivatives against PyTorch', () => {
  for (const kernelPath of ['auto', 'composite'] as const) {
    describe(`kernel path '${kernelPath}'`, () => {
      beforeAll(() => setKernelPath(kernelPath));
      afterAll(() => setKernelPath('auto'));
      for (const loss of SECOND_ORDER_LOSSES) {
        it.each(FIXTURES.losses[loss].map((c) => [c.name, c] as const))('%s', (_, c) => runCase(loss, c));
      }
    });
  }
});
