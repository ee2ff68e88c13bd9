// The committed PyTorch fixtures, run in the page on the current backend: each case's value and
// gradients (weights given as tensors on the backend), read only with `await data()`, compared with
// PyTorch's float64 answer. The loss call and its gradient must read nothing back (counted by the
// probes) and leave no tensor behind.
import * as tf from '@tensorflow/tfjs';
import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  compareArrays,
  crossEntropy,
  fixtureTensor,
  fixtureValues,
  nllLoss,
} from 'tfjs-loss-adapter';
import bceFixtures from '../__tests__/fixtures/binaryCrossEntropy.json';
import bceWithLogitsFixtures from '../__tests__/fixtures/binaryCrossEntropyWithLogits.json';
import crossEntropyFixtures from '../__tests__/fixtures/crossEntropy.json';
import nllFixtures from '../__tests__/fixtures/nllLoss.json';
import { watch } from './probes.mjs';

const LOSSES = {
  binaryCrossEntropy: { loss: binaryCrossEntropy, fixtures: bceFixtures },
  binaryCrossEntropyWithLogits: { loss: binaryCrossEntropyWithLogits, fixtures: bceWithLogitsFixtures },
  crossEntropy: { loss: crossEntropy, fixtures: crossEntropyFixtures },
  nllLoss: { loss: nllLoss, fixtures: nllFixtures },
};

const isFixtureTensor = (o) => typeof o === 'object' && o !== null && !Array.isArray(o);

/** The smallest normal float32: GPUs flush smaller magnitudes (subnormals) to zero, as WebGL and WebGPU allow. */
const FLOAT32_MIN_NORMAL = 2 ** -126;
const hasSubnormal = (t) => t.values.some((v) => typeof v === 'number' && v !== 0 && Math.abs(v) < FLOAT32_MIN_NORMAL);

/** One case: errors relative to the tolerance (≤ 1 passes) of the value and each gradient, reads, leaks. */
async function runCase(loss, c, tolerance) {
  const before = tf.memory().numTensors;
  const [input, target] = c.inputs.map(fixtureTensor);
  const options = Object.fromEntries(Object.entries(c.options).map(([k, o]) => [k, isFixtureTensor(o) ? fixtureTensor(o) : o]));
  const upstream = c.upstream === null ? null : fixtureTensor(c.upstream);
  // The gradients recorded: of the input and, for a float target, of the target.
  const names = Object.keys(c.gradients);
  const differentiable = names.map((name) => ({ input, target })[name]);
  // The upstream gradient of 'none' as tf.grads' dy (a sum of products would not run on an empty batch on webgl).
  const objective = (x, t = target) => loss(x, t, options);
  const { result, reads } = watch(() => [loss(input, target, options), ...tf.grads(objective)(differentiable, upstream ?? undefined)]);
  const actual = await Promise.all(result.map((t) => t.data()));
  const expected = [c.value, ...names.map((name) => c.gradients[name])];
  const quantities = ['value', ...names.map((name) => `gradient of ${name}`)];
  const comparisons = actual.map((values, k) => ({
    quantity: quantities[k],
    ...compareArrays(values, fixtureValues(expected[k]), expected[k].shape, tolerance),
  }));
  tf.dispose([...result, input, target, upstream, ...Object.values(options)].filter((t) => t instanceof tf.Tensor));
  return { comparisons, reads, leaked: tf.memory().numTensors - before };
}

/**
 * Every fixture case of every loss on the current backend. Returns per loss: cases, failures (with the
 * quantity and the worst element), the worst error as a fraction of its tolerance, reads, leaks, and
 * with `flushesSubnormals` (GPU backends) the cases not compared because an input is subnormal.
 */
export async function runFixtures(tolerance, { flushesSubnormals = false } = {}) {
  const report = [];
  for (const [name, { loss, fixtures }] of Object.entries(LOSSES)) {
    const row = { loss: name, cases: 0, failures: [], flushed: [], worst: 0, reads: 0, leaked: 0 };
    for (const c of fixtures.cases) {
      row.cases++;
      // A GPU sees a subnormal input as 0 and answers as PyTorch does for 0: reported, not compared.
      const flushed = flushesSubnormals && c.inputs.some(hasSubnormal);
      let outcome;
      try {
        outcome = await runCase(loss, c, tolerance);
      } catch (error) {
        row.failures.push(`${c.name}: threw ${error.message}`);
        continue;
      }
      const { comparisons, reads, leaked } = outcome;
      row.reads += reads;
      row.leaked += leaked;
      if (flushed) {
        row.flushed.push(c.name);
        continue;
      }
      for (const { quantity, passed, worst } of comparisons) {
        if (worst !== null)
          row.worst = Math.max(row.worst, worst.tolerance > 0 ? worst.error / worst.tolerance : worst.error > 0 ? Infinity : 0);
        if (!passed) row.failures.push(`${c.name}: ${quantity} at ${worst.position}: ${worst.actual} vs ${worst.expected}`);
      }
    }
    report.push(row);
  }
  return report;
}
