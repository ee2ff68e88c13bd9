import * as tf from '@tensorflow/tfjs';
import { binaryToTwoClassLogits } from '../../src/adapter/twoClass';
import { seededRandom, SeededRandom } from '../../src/check/random';
import { referenceSoftmaxFocalLoss } from '../../src/check/referenceFocal';
import type { Reduction } from '../../src/core/options';
import { setKernelPath } from '../../src/kernels/dispatch';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { SoftmaxFocalLoss } from '../../src/losses/modules';
import { sigmoidFocalLoss } from '../../src/losses/sigmoidFocalLoss';
import { softmaxFocalLoss, SoftmaxFocalLossOptions } from '../../src/losses/softmaxFocalLoss';
import { expectClose, expectInputError } from '../helpers/assertions';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

/** Seeded cases per backend for each property, on the default kernel path and on the composite (slower: many small ops). */
const CASES = { auto: 150, composite: 50 };
const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];

type Loss = (input: tf.Tensor, target: tf.Tensor, options: SoftmaxFocalLossOptions) => tf.Tensor;

/** The value and the gradients (input, and float targets) of `Σ loss·upstream`, as arrays; fails on a leak. */
function valueAndGradients(loss: Loss, input: tf.Tensor, target: tf.Tensor, options: SoftmaxFocalLossOptions) {
  return expectNoLeak(() =>
    tf.tidy(() => {
      const value = loss(input, target, options);
      const upstream = tf.tensor(upstreamValues(value.size), value.shape);
      const objective = (x: tf.Tensor, t: tf.Tensor = target) => tf.sum(tf.mul(loss(x, t, options), upstream));
      const differentiable = target.dtype === 'float32' ? [input, target] : [input];
      const gradients = tf.grads(objective)(differentiable);
      return { value: Array.from(value.dataSync()), gradients: gradients.map((g) => Array.from(g.dataSync())) };
    }),
  );
}

/** A random softmax-loss case: shape, class axis, targets of either kind, and every option at random. */
function randomCase(random: SeededRandom) {
  const classes = 1 + random.integer(5);
  const layouts = [[classes], [1 + random.integer(4), classes], [1 + random.integer(3), classes, 1 + random.integer(3)]];
  const channelsLast = random.uniform() < 0.3;
  const batched = layouts[1 + random.integer(2)];
  const shape = random.uniform() < 0.15 ? layouts[0] : channelsLast ? [batched[0], ...batched.slice(2), classes] : batched;
  const classAxis = shape.length === 1 ? 1 : channelsLast ? -1 : 1;
  const axis = shape.length === 1 ? 0 : channelsLast ? shape.length - 1 : 1;
  const scale = [1, 4, 30, 1e4][random.integer(4)];
  const logits = tf.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (random.uniform() * 2 - 1) * scale),
    shape,
  );
  const probabilities = random.uniform() < 0.4;
  const options: SoftmaxFocalLossOptions = { reduction: REDUCTIONS[random.integer(3)], classAxis };
  if (random.uniform() < 0.5) options.weight = Array.from({ length: classes }, () => random.uniform() * 2);
  if (random.uniform() < 0.5) options.labelSmoothing = random.uniform();
  let target: tf.Tensor;
  if (probabilities) {
    const normals = Array.from({ length: logits.size }, () => 2 * random.normal());
    target = tf.tidy(() => {
      const exps = tf.exp(tf.tensor(normals, shape));
      return tf.div(exps, tf.sum(exps, axis, true));
    });
  } else {
    const sampleShape = shape.filter((_, k) => k !== axis);
    const ignoreIndex = random.uniform() < 0.5 ? -100 : random.integer(classes);
    if (random.uniform() < 0.5) options.ignoreIndex = ignoreIndex;
    const indices = Array.from({ length: sampleShape.reduce((a, b) => a * b, 1) }, () =>
      random.uniform() < 0.2 ? (options.ignoreIndex ?? -100) : random.integer(classes),
    );
    target = tf.tensor(indices, sampleShape, 'int32');
  }
  return { logits, target, options };
}

describeEachBackend('softmaxFocalLoss', () => {
  afterEach(() => setKernelPath('auto'));

  for (const path of ['auto', 'composite'] as const) {
    it(`with gamma 0 equals crossEntropy for every option, in value and gradients (${CASES[path]} seeded cases, ${path} path)`, () => {
      setKernelPath(path);
      const random = seededRandom(path === 'auto' ? 11 : 12);
      for (let k = 0; k < CASES[path]; k++) {
        const { logits, target, options } = randomCase(random);
        const focal = valueAndGradients(softmaxFocalLoss, logits, target, { ...options, gamma: 0 });
        const ce = valueAndGradients(crossEntropy, logits, target, options);
        expectClose(focal.value, ce.value, 1e-5, 1e-6);
        focal.gradients.forEach((g, i) => expectClose(g, ce.gradients[i], 1e-5, 1e-6));
        tf.dispose([logits, target]);
      }
    });

    it(`on [0, s] with weight [1-α, α] equals sigmoidFocalLoss(s) for hard targets, value and gradient (${CASES[path]} seeded cases, ${path} path)`, () => {
      setKernelPath(path);
      const random = seededRandom(path === 'auto' ? 21 : 22);
      for (let k = 0; k < CASES[path]; k++) {
        const n = 1 + random.integer(8);
        const scale = [1, 5, 40, 1e4][random.integer(4)];
        const s = tf.tensor1d(Array.from({ length: n }, () => (random.uniform() * 2 - 1) * scale));
        const labels = Array.from({ length: n }, () => random.integer(2));
        const gamma = [0, 0.25, 0.5, 1, 2, 5][random.integer(6)];
        const alpha = random.uniform() < 0.3 ? -1 : random.uniform();
        // 'mean' differs (Σ w[y] against N) unless there is no weight.
        const reduction = alpha < 0 ? REDUCTIONS[random.integer(3)] : (['sum', 'none'] as const)[random.integer(2)];
        const weight = alpha < 0 ? undefined : [1 - alpha, alpha];
        const y = tf.tensor1d(labels, 'int32');
        const yFloat = tf.tensor1d(labels);
        const binary = expectNoLeak(() =>
          tf.tidy(() => {
            const loss = (x: tf.Tensor) => sigmoidFocalLoss(x, yFloat, { alpha, gamma, reduction });
            return [
              loss(s).dataSync(),
              tf
                .grad((x: tf.Tensor) => tf.sum(loss(x)))(s)
                .dataSync(),
            ].map((a) => Array.from(a));
          }),
        );
        const twoClass = expectNoLeak(() =>
          tf.tidy(() => {
            const loss = (x: tf.Tensor) => softmaxFocalLoss(binaryToTwoClassLogits(x), y, { weight, gamma, reduction });
            return [
              loss(s).dataSync(),
              tf
                .grad((x: tf.Tensor) => tf.sum(loss(x)))(s)
                .dataSync(),
            ].map((a) => Array.from(a));
          }),
        );
        expectClose(twoClass[0], binary[0], 1e-5, 1e-6);
        expectClose(twoClass[1], binary[1], 1e-5, 1e-6);
        tf.dispose([s, y, yFloat]);
      }
    });

    it(`gives the float64 reference's finite value and gradient for logits up to |z| = 1e4 and every gamma (${path} path)`, () => {
      setKernelPath(path);
      const values = [1e4, -1e4, 0, 5, -1e4, -1e4, -9999, 1e4, 40, 0, 0, 0, 1e-6, -1e-6, 0, 2e-6, 88, -80, 88.7, -103];
      const logits = tf.tensor2d(values, [5, 4]);
      const labels = [0, 1, 0, 2, 3];
      const target = tf.tensor1d(labels, 'int32');
      for (const gamma of [0, 0.1, 0.5, 1, 2, 5]) {
        for (const labelSmoothing of [0, 0.1]) {
          const options = { gamma, labelSmoothing, weight: [0.5, 2, 1, 1.25], reduction: 'none' as const };
          const actual = valueAndGradients(softmaxFocalLoss, logits, target, options);
          const upstream = upstreamValues(5);
          const expected = referenceSoftmaxFocalLoss(
            { shape: [5, 4], values: Float32Array.from(values) },
            { shape: [5], values: labels },
            { ...options, weight: { shape: [4], values: options.weight } },
            upstream,
          );
          expect([...actual.value, ...actual.gradients[0]].every(Number.isFinite)).toBe(true);
          expectClose(actual.value, expected.value.values, 1e-5, 1e-6);
          expectClose(actual.gradients[0], expected.grad.input, 1e-5, 1e-6);
        }
      }
      tf.dispose([logits, target]);
    });
  }

  it('is also a module, SoftmaxFocalLoss, with the options bound', () => {
    const logits = tf.tensor2d([
      [2, 0, -1],
      [0.5, 1.5, 0],
    ]);
    const module = new SoftmaxFocalLoss({ gamma: 1, labelSmoothing: 0.1 });
    expectClose(evaluate(module.forward(logits, [0, 1])), evaluate(softmaxFocalLoss(logits, [0, 1], { gamma: 1, labelSmoothing: 0.1 })));
    logits.dispose();
  });

  it('rejects a bad gamma, an unknown option, and ignoreIndex with probability targets, naming the argument and leaking nothing', () => {
    const logits = tf.tensor2d([[2, 0, -1]]);
    for (const gamma of [-0.5, NaN, Infinity]) {
      expectInputError(
        () => softmaxFocalLoss(logits, [0], { gamma }),
        "softmaxFocalLoss: argument 'options.gamma'",
        'a finite number >= 0',
      );
    }
    expectInputError(() => softmaxFocalLoss(logits, [0], { gamma: '2' as unknown as number }), 'options.gamma', '"2"');
    expectInputError(() => softmaxFocalLoss(logits, [0], { alpha: 0.25 } as SoftmaxFocalLossOptions), "'options.alpha'", 'known options');
    expectInputError(() => softmaxFocalLoss(logits, [[0.2, 0.3, 0.5]], { ignoreIndex: 1 }), 'options.ignoreIndex');
    expectInputError(() => softmaxFocalLoss(logits, [3]), "argument 'target'", '[0, 3)');
    logits.dispose();
  });
});

/** A fixed upstream gradient of `count` values, of both signs. */
function upstreamValues(count: number): number[] {
  return Array.from({ length: count }, (_, k) => [1, -0.5, 2, 0.25][k % 4]);
}

function evaluate(t: tf.Tensor): number[] {
  const values = Array.from(t.dataSync());
  t.dispose();
  return values;
}
