// Usage: npx tsx tools/gradcheck-calibration/gradgrad.ts <backend> <correct cases> <wrong cases per kind>
// gradgradcheck with its DEFAULT options (only the seed varies) on seeded random twice-differentiable
// functions (this library's losses with random options and kernel paths, tfjs compositions) and on
// deliberately wrong second derivatives; counts failures by input size, as validate.ts does for gradcheck.
import * as tf from '@tensorflow/tfjs';
import type { TensorFunction } from '../../src/check/gradcheck';
import { gradgradcheck } from '../../src/check/gradgradcheck';
import { seededRandom, SeededRandom } from '../../src/check/random';
import { setKernelPath } from '../../src/kernels/dispatch';
import { binaryCrossEntropy } from '../../src/losses/binaryCrossEntropy';
import { binaryCrossEntropyWithLogits } from '../../src/losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { nllLoss } from '../../src/losses/nllLoss';
import { Case, labels, logits, pick, probabilities, sizes, withGradient } from './cases';
import { tally } from './tally';

const REDUCTIONS = ['mean', 'sum', 'none'] as const;

const classWeight = (rng: SeededRandom, c: number) => tf.tensor1d(Array.from({ length: c }, () => 0.2 + 1.8 * rng.uniform()));

function correctCase(seed: number): Case {
  const rng = seededRandom(seed);
  const { n, c } = sizes(rng);
  const reduction = pick(rng, REDUCTIONS);
  setKernelPath(pick(rng, ['auto', 'composite'] as const));
  const family = pick(rng, ['crossEntropy', 'crossEntropyProbs', 'bceWithLogits', 'bce', 'nllOfLog', 'sinMatmul'] as const);
  switch (family) {
    case 'crossEntropy': {
      const classes = labels(rng, n, c);
      const options = {
        reduction,
        weight: rng.uniform() < 0.5 ? classWeight(rng, c) : undefined,
        labelSmoothing: rng.uniform() < 0.4 ? 0.3 * rng.uniform() : 0,
        // Class 0 ignored, unless that ignores every target: then nothing depends on the logits (a vacuous check).
        ignoreIndex: rng.uniform() < 0.3 && classes.some((k) => k !== 0) ? 0 : -100,
      };
      const y = tf.tensor1d(classes, 'int32');
      return { family, f: (z, t) => crossEntropy(z, t, options), inputs: [logits(rng, [n, c]), y], size: n * c };
    }
    case 'crossEntropyProbs': {
      const options = {
        reduction,
        weight: rng.uniform() < 0.5 ? classWeight(rng, c) : undefined,
        labelSmoothing: rng.uniform() < 0.4 ? 0.2 : 0,
      };
      const t = tf.softmax(tf.mul(probabilities(rng, [n, c], 0), 4));
      return { family, f: (z, target) => crossEntropy(z, target, options), inputs: [logits(rng, [n, c]), t], size: 2 * n * c };
    }
    case 'bceWithLogits': {
      const weight = rng.uniform() < 0.5 ? probabilities(rng, [1, c], 0.1) : undefined;
      const posWeight = rng.uniform() < 0.5 ? tf.mul(probabilities(rng, [1, c], 0.1), 3) : undefined;
      const f: TensorFunction = (x, t) => binaryCrossEntropyWithLogits(x, t, { reduction, weight, posWeight });
      return { family, f, inputs: [logits(rng, [n, c]), probabilities(rng, [n, c], 0)], size: 2 * n * c };
    }
    case 'bce': {
      const weight = rng.uniform() < 0.5 ? probabilities(rng, [1, c], 0.1) : undefined;
      const f: TensorFunction = (p, t) => binaryCrossEntropy(p, t, { reduction, weight });
      return { family, f, inputs: [probabilities(rng, [n, c], 0.05), probabilities(rng, [n, c], 0)], size: 2 * n * c };
    }
    case 'nllOfLog': {
      const y = tf.tensor1d(labels(rng, n, c), 'int32');
      const options = { reduction, weight: rng.uniform() < 0.5 ? classWeight(rng, c) : undefined };
      return { family, f: (q, t) => nllLoss(tf.log(q), t, options), inputs: [probabilities(rng, [n, c], 0.05), y], size: n * c };
    }
    case 'sinMatmul': {
      const w = logits(rng, [c, 3]);
      return { family, f: (x) => tf.sum(tf.square(tf.sin(tf.matMul(x, w)))), inputs: [tf.mul(logits(rng, [n, c]), 0.1)], size: n * c };
    }
  }
}

const WRONG_KINDS = ['hessian1.01', 'missingTerm', 'constantGradient'] as const;

/**
 * Softmax cross-entropy summed over rows, whose first derivative `p - Y` is right and whose second
 * derivative (the backward pass of the first) is planted: `diag(p) - p·pᵀ` times 1.01, without the
 * `-p·pᵀ` term, or absent (the first derivative a host constant).
 */
function wrongCase(seed: number, kind: (typeof WRONG_KINDS)[number]): Case {
  const rng = seededRandom(seed);
  const { n, c } = sizes(rng);
  const oneHot = tf.oneHot(tf.tensor1d(labels(rng, n, c), 'int32'), c).toFloat();
  const value = (x: tf.Tensor) => tf.sum(tf.sub(tf.logSumExp(x, 1), tf.sum(tf.mul(x, oneHot), 1)));
  const first = (x: tf.Tensor) => tf.sub(tf.softmax(x), oneHot);
  const hessianTimes = (x: tf.Tensor, u: tf.Tensor) => {
    const p = tf.softmax(x);
    const diagonal = tf.mul(p, u);
    if (kind === 'missingTerm') return diagonal;
    const correct = tf.sub(diagonal, tf.mul(p, tf.sum(diagonal, 1, true)));
    return kind === 'hessian1.01' ? tf.mul(correct, 1.01) : correct;
  };
  const firstDerivative =
    kind === 'constantGradient' ? (x: tf.Tensor) => tf.tensor(first(x).dataSync(), x.shape) : withGradient(first, hessianTimes);
  return { family: kind, f: withGradient(value, (x, dy) => tf.mul(firstDerivative(x), dy)), inputs: [logits(rng, [n, c])], size: n * c };
}

const [backend, correctCount, wrongCount] = process.argv.slice(2);
tally('gradgradcheck', backend, (c, seed) => gradgradcheck(c.f, c.inputs, { wrt: c.wrt, seed }), [
  { kind: 'correct', count: Number(correctCount), make: correctCase, correct: true },
  ...WRONG_KINDS.map((kind) => ({ kind, count: Number(wrongCount), make: (s: number) => wrongCase(1e6 + s, kind), correct: false })),
]);
