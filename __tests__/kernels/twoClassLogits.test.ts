import * as tf from '@tensorflow/tfjs';
import { setKernelPath } from '../../src/kernels/dispatch';
import { twoClassLogits } from '../../src/kernels/dispatch';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

describeEachBackend('twoClassLogits', () => {
  afterEach(() => setKernelPath('auto'));
  const values = [1.5, -2, 0, -0, 1e30, -1e30, Infinity, -Infinity, NaN, 3.25];

  for (const path of ['fused', 'composite'] as const) {
    for (const shape of [[10], [10, 1]]) {
      it(`[${path}] [${shape}] -> rows [0, z], exactly; the gradient is column 1 of the upstream gradient`, () => {
        setKernelPath(path);
        const z = tf.tensor(values, shape);
        const upstream = tf.tensor2d(
          Array.from({ length: 20 }, (_, k) => (k % 2 === 0 ? 100 + k : k / 4)),
          [10, 2],
        );
        const rows = expectNoLeak(() => {
          const t = twoClassLogits(z, 10);
          const data = { shape: t.shape, values: Array.from(t.dataSync()) };
          t.dispose();
          return data;
        });
        expect(rows.shape).toEqual([10, 2]);
        values.forEach((v, n) => {
          expect(Object.is(rows.values[2 * n], 0)).toBe(true);
          expect(Object.is(rows.values[2 * n + 1], Math.fround(v))).toBe(true);
        });
        const gradient = expectNoLeak(() => {
          const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(twoClassLogits(x, 10), upstream)))(z);
          const data = { shape: g.shape, values: Array.from(g.dataSync()) };
          g.dispose();
          return data;
        });
        expect(gradient.shape).toEqual(shape);
        expect(gradient.values).toEqual(Array.from({ length: 10 }, (_, n) => (2 * n + 1) / 4));
        tf.dispose([z, upstream]);
      });
    }
  }
});
