// Seeded random cases for calibrating gradcheck: correct functions (tfjs ops, compositions, our losses)
// and deliberately wrong gradients built with tf.customGrad.
import * as tf from '@tensorflow/tfjs';
import type { TensorFunction } from '../../src/check/gradcheck';
import { seededRandom, SeededRandom } from '../../src/check/random';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { binaryCrossEntropy } from '../../src/losses/binaryCrossEntropy';
import { binaryCrossEntropyWithLogits } from '../../src/losses/binaryCrossEntropyWithLogits';
import { nllLoss } from '../../src/losses/nllLoss';

export interface Case {
  family: string;
  f: TensorFunction;
  inputs: tf.Tensor[];
  wrt?: number[];
  size: number;
}

export const pick = <T>(rng: SeededRandom, xs: readonly T[]): T => xs[rng.integer(xs.length)];
export const logUniform = (rng: SeededRandom, lo: number, hi: number) =>
  Math.exp(Math.log(lo) + rng.uniform() * (Math.log(hi) - Math.log(lo)));

export function sizes(rng: SeededRandom): { n: number; c: number } {
  const big = rng.uniform() < 0.15;
  return { n: 1 + rng.integer(big ? 256 : 32), c: 2 + rng.integer(big ? 30 : 9) };
}

/** Logits: normal with a random scale, sometimes with a large common offset. */
export function logits(rng: SeededRandom, shape: number[]): tf.Tensor {
  const scale = logUniform(rng, 0.1, 20);
  const offset = rng.uniform() < 0.2 ? (rng.uniform() - 0.5) * 60 : 0;
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => offset + scale * rng.normal()),
    shape,
  );
}

export function labels(rng: SeededRandom, n: number, c: number): number[] {
  return Array.from({ length: n }, () => rng.integer(c));
}

export function probabilities(rng: SeededRandom, shape: number[], lo: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: size }, () => lo + (1 - 2 * lo) * rng.uniform()),
    shape,
  );
}

const REDUCTIONS = ['mean', 'sum', 'none'] as const;
const TF_REDUCTIONS = [tf.Reduction.MEAN, tf.Reduction.SUM, tf.Reduction.NONE, tf.Reduction.SUM_BY_NONZERO_WEIGHTS];

export function correctCase(seed: number): Case {
  const rng = seededRandom(seed);
  const { n, c } = sizes(rng);
  const family = pick(rng, [
    'tf.softmaxCE',
    'tf.sigmoidCE',
    'logSoftmax',
    'matmulTanh',
    'crossEntropy',
    'crossEntropyProbs',
    'bceWithLogits',
    'bce',
    'nllLoss',
  ] as const);
  switch (family) {
    case 'tf.softmaxCE': {
      const smoothing = rng.uniform() < 0.3 ? rng.uniform() * 0.3 : 0;
      const reduction = pick(rng, TF_REDUCTIONS);
      const oneHot = tf.oneHot(tf.tensor1d(labels(rng, n, c), 'int32'), c).toFloat();
      return {
        family,
        f: (z, y) => tf.losses.softmaxCrossEntropy(y, z, undefined, smoothing, reduction),
        inputs: [logits(rng, [n, c]), oneHot],
        wrt: [0],
        size: n * c,
      };
    }
    case 'tf.sigmoidCE': {
      const reduction = pick(rng, TF_REDUCTIONS);
      const soft = rng.uniform() < 0.5;
      const y = soft ? probabilities(rng, [n, c], 0) : tf.tensor(labels(rng, n * c, 2), [n, c], 'float32');
      return {
        family,
        f: (z, t) => tf.losses.sigmoidCrossEntropy(t, z, undefined, 0, reduction),
        inputs: [logits(rng, [n, c]), y],
        size: 2 * n * c,
      };
    }
    case 'logSoftmax':
      return { family, f: (z) => tf.logSoftmax(z), inputs: [logits(rng, [n, c])], size: n * c };
    case 'matmulTanh': {
      const h = 1 + rng.integer(16);
      const x = tf.tensor(
        Float32Array.from({ length: n * c }, () => rng.normal()),
        [n, c],
      );
      const scale = logUniform(rng, 0.1, 3) / Math.sqrt(c);
      const w = tf.tensor(
        Float32Array.from({ length: c * h }, () => scale * rng.normal()),
        [c, h],
      );
      const b = tf.tensor(
        Float32Array.from({ length: h }, () => rng.normal()),
        [h],
      );
      return { family, f: (a, m, bias) => tf.tanh(tf.matMul(a, m).add(bias)), inputs: [x, w, b], size: n * c + c * h + h };
    }
    case 'crossEntropy': {
      const y: number[] = labels(rng, n, c);
      if (rng.uniform() < 0.2) y[0] = -100;
      if (!y.some((v) => v !== -100)) y[0] = 0;
      const weight = rng.uniform() < 0.4 ? Array.from({ length: c }, () => 0.1 + 3 * rng.uniform()) : undefined;
      const options = { weight, labelSmoothing: rng.uniform() < 0.3 ? rng.uniform() * 0.3 : 0, reduction: pick(rng, REDUCTIONS) };
      const target = rng.uniform() < 0.5 ? tf.tensor1d(y, 'int32') : tf.tensor1d(y, 'float32');
      return { family, f: (z, t) => crossEntropy(z, t, options), inputs: [logits(rng, [n, c]), target], wrt: [0], size: n * c };
    }
    case 'crossEntropyProbs': {
      const options = { labelSmoothing: rng.uniform() < 0.3 ? rng.uniform() * 0.3 : 0, reduction: pick(rng, REDUCTIONS) };
      const t = tf.softmax(logits(rng, [n, c]));
      return { family, f: (z, p) => crossEntropy(z, p, options), inputs: [logits(rng, [n, c]), t], size: 2 * n * c };
    }
    case 'bceWithLogits': {
      const soft = rng.uniform() < 0.5;
      const y = soft ? probabilities(rng, [n, c], 0) : tf.tensor(labels(rng, n * c, 2), [n, c], 'float32');
      const options = {
        weight: rng.uniform() < 0.4 ? Array.from({ length: c }, () => 0.1 + 3 * rng.uniform()) : undefined,
        posWeight: rng.uniform() < 0.4 ? Array.from({ length: c }, () => 0.1 + 3 * rng.uniform()) : undefined,
        reduction: pick(rng, REDUCTIONS),
      };
      return { family, f: (z, t) => binaryCrossEntropyWithLogits(z, t, options), inputs: [logits(rng, [n, c]), y], size: 2 * n * c };
    }
    case 'bce': {
      const soft = rng.uniform() < 0.5;
      const y = soft ? probabilities(rng, [n, c], 0) : tf.tensor(labels(rng, n * c, 2), [n, c], 'float32');
      const options = {
        weight: rng.uniform() < 0.4 ? Array.from({ length: c }, () => 0.1 + 3 * rng.uniform()) : undefined,
        reduction: pick(rng, REDUCTIONS),
      };
      return { family, f: (p, t) => binaryCrossEntropy(p, t, options), inputs: [probabilities(rng, [n, c], 0.02), y], size: 2 * n * c };
    }
    case 'nllLoss': {
      const options = {
        reduction: pick(rng, REDUCTIONS),
        weight: rng.uniform() < 0.4 ? Array.from({ length: c }, () => 0.1 + 3 * rng.uniform()) : undefined,
      };
      return {
        family,
        f: (lp, t) => nllLoss(lp, t, options),
        inputs: [tf.logSoftmax(logits(rng, [n, c])), tf.tensor1d(labels(rng, n, c), 'int32')],
        wrt: [0],
        size: n * c,
      };
    }
  }
}

export type WrongKind = 'scaled1.01' | 'signFlip' | 'missingDy' | 'ignoresWeight';
export const WRONG_KINDS: WrongKind[] = ['scaled1.01', 'signFlip', 'missingDy', 'ignoresWeight'];

/**
 * A closed-form gradient `(x, dy) => dx` corrupted as `kind` says. `weighted` computes the right
 * gradient and `unweighted` the one that ignores the weight.
 */
function corrupt(
  kind: WrongKind,
  right: (x: tf.Tensor, dy: tf.Tensor) => tf.Tensor,
  unweighted: (x: tf.Tensor, dy: tf.Tensor) => tf.Tensor,
  flipAt: number,
) {
  return (x: tf.Tensor, dy: tf.Tensor): tf.Tensor => {
    switch (kind) {
      case 'scaled1.01':
        return right(x, dy).mul(1.01);
      case 'signFlip': {
        // One element whose gradient matters (|g_e| ≥ 0.1·max|g|), chosen by the case's seed.
        const g = right(x, dy);
        const values = g.dataSync() as Float32Array;
        const max = values.reduce((m: number, v: number) => Math.max(m, Math.abs(v)), 0);
        const significant = Array.from(values.keys()).filter((e) => Math.abs(values[e]) >= 0.1 * max);
        const sign = tf.buffer(x.shape, 'float32');
        sign.values.fill(1);
        sign.values[significant[flipAt % significant.length]] = -1;
        return g.mul(sign.toTensor());
      }
      case 'missingDy':
        return right(x, tf.onesLike(dy));
      case 'ignoresWeight':
        return unweighted(x, dy);
    }
  };
}

export function withGradient(value: (x: tf.Tensor) => tf.Tensor, gradient: (x: tf.Tensor, dy: tf.Tensor) => tf.Tensor): TensorFunction {
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
    save([x]);
    return { value: value(x), gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) => gradient(saved, dy) };
  });
  return (x) => op(x);
}

/** Weighted softmax cross-entropy, 'mean' as PyTorch: value and closed-form gradient. */
function weightedSoftmaxCE(y: number[], c: number, weight: number[], reduction: 'mean' | 'sum' | 'none') {
  const oneHot = () => tf.oneHot(tf.tensor1d(y, 'int32'), c).toFloat();
  const denominator = reduction === 'mean' ? y.reduce((s, k) => s + weight[k], 0) : 1;
  const sampleWeight = (w: number[]) => tf.tensor1d(y.map((k) => w[k]));
  const perSample = (z: tf.Tensor) => tf.logSoftmax(z).mul(oneHot()).sum(1).neg().mul(sampleWeight(weight));
  const value = (z: tf.Tensor) => (reduction === 'none' ? perSample(z) : perSample(z).sum().div(denominator));
  const gradient = (w: number[]) => (z: tf.Tensor, dy: tf.Tensor) => {
    const perSampleDy = reduction === 'none' ? dy : dy.div(denominator).mul(tf.ones([y.length]));
    return tf
      .softmax(z)
      .sub(oneHot())
      .mul(sampleWeight(w).mul(perSampleDy).reshape([-1, 1]));
  };
  const ones = weight.map(() => 1);
  return { value, right: gradient(weight), unweighted: gradient(ones) };
}

/** Weighted sigmoid cross-entropy with logits, elementwise weight per class. */
function weightedSigmoidCE(target: tf.Tensor, weight: number[], reduction: 'mean' | 'sum' | 'none') {
  const w = () => tf.tensor1d(weight);
  const perElement = (z: tf.Tensor) =>
    tf
      .relu(z)
      .sub(z.mul(target))
      .add(tf.log1p(tf.exp(z.abs().neg())))
      .mul(w());
  const count = target.size;
  const value = (z: tf.Tensor) => (reduction === 'none' ? perElement(z) : reduction === 'sum' ? perElement(z).sum() : perElement(z).mean());
  const gradient = (weights: () => tf.Tensor) => (z: tf.Tensor, dy: tf.Tensor) => {
    const scale = reduction === 'mean' ? dy.div(count) : dy;
    return tf.sigmoid(z).sub(target).mul(weights()).mul(scale);
  };
  return { value, right: gradient(w), unweighted: gradient(() => tf.onesLike(w())) };
}

/** log-softmax (non-scalar output): dz = dy − softmax·Σdy; no weight, so 'ignoresWeight' uses a weighted row sum. */
function weightedLogSoftmax(c: number, weight: number[]) {
  const w = () => tf.tensor1d(weight);
  const value = (z: tf.Tensor) => tf.logSoftmax(z).mul(w());
  const gradient = (weights: () => tf.Tensor) => (z: tf.Tensor, dy: tf.Tensor) => {
    const g = dy.mul(weights());
    return g.sub(tf.softmax(z).mul(g.sum(-1, true)));
  };
  void c;
  return { value, right: gradient(w), unweighted: gradient(() => tf.onesLike(w())) };
}

export function wrongCase(seed: number, kind: WrongKind): Case {
  const rng = seededRandom(seed);
  const { n, c } = sizes(rng);
  const weight = Array.from({ length: c }, () => 0.1 + 3 * rng.uniform());
  const reduction = pick(rng, REDUCTIONS);
  const family = pick(rng, ['softmaxCE', 'sigmoidCE', 'logSoftmax'] as const);
  const z = logits(rng, [n, c]);
  const flipAt = rng.integer(n * c);
  let parts: {
    value: (x: tf.Tensor) => tf.Tensor;
    right: (x: tf.Tensor, dy: tf.Tensor) => tf.Tensor;
    unweighted: (x: tf.Tensor, dy: tf.Tensor) => tf.Tensor;
  };
  if (family === 'softmaxCE') parts = weightedSoftmaxCE(labels(rng, n, c), c, weight, reduction);
  else if (family === 'sigmoidCE') parts = weightedSigmoidCE(tf.tensor(labels(rng, n * c, 2), [n, c], 'float32'), weight, reduction);
  else parts = weightedLogSoftmax(c, weight);
  return {
    family: `${kind}:${family}/${reduction}`,
    f: withGradient(parts.value, corrupt(kind, parts.right, parts.unweighted, flipAt)),
    inputs: [z],
    size: n * c,
  };
}

/** The same functions with their right gradients, to check the closed forms themselves. */
export function rightCase(seed: number): Case {
  const rng = seededRandom(seed);
  const { n, c } = sizes(rng);
  const weight = Array.from({ length: c }, () => 0.1 + 3 * rng.uniform());
  const reduction = pick(rng, REDUCTIONS);
  const family = pick(rng, ['softmaxCE', 'sigmoidCE', 'logSoftmax'] as const);
  const z = logits(rng, [n, c]);
  rng.integer(n * c);
  let parts: { value: (x: tf.Tensor) => tf.Tensor; right: (x: tf.Tensor, dy: tf.Tensor) => tf.Tensor };
  if (family === 'softmaxCE') parts = weightedSoftmaxCE(labels(rng, n, c), c, weight, reduction);
  else if (family === 'sigmoidCE') parts = weightedSigmoidCE(tf.tensor(labels(rng, n * c, 2), [n, c], 'float32'), weight, reduction);
  else parts = weightedLogSoftmax(c, weight);
  return { family: `right:${family}/${reduction}`, f: withGradient(parts.value, parts.right), inputs: [z], size: n * c };
}
