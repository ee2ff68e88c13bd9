import * as tf from '@tensorflow/tfjs';
import { classLayout } from '../../src/core/layout';
import type { Reduction } from '../../src/core/options';
import {
  ReferenceResult,
  referenceBinaryCrossEntropy,
  referenceBinaryCrossEntropyWithLogits,
  referenceCrossEntropy,
  referenceNllLoss,
} from '../../src/check/reference';
import { referenceKlDivergence, referenceSigmoidFocalLoss, referenceSoftmaxFocalLoss } from '../../src/check/referenceFocal';
import {
  activeImplementation,
  binaryCrossEntropyKernel,
  binaryCrossEntropyWithLogitsKernel,
  crossEntropyIndicesKernel,
  crossEntropyProbabilitiesKernel,
  getKernelPath,
  KernelPath,
  klDivergenceKernel,
  nllLossKernel,
  setKernelPath,
  sigmoidFocalLossKernel,
  softmaxFocalIndicesKernel,
  softmaxFocalProbabilitiesKernel,
} from '../../src/kernels/dispatch';
import { LossInputError } from '../../src/core/errors';
import { describeEachBackend } from '../helpers/backends';
import { seededRandom } from '../../src/check/random';

/**
 * Every kernel runs on both paths, fused (host) and composite (tfjs ops), on every backend, and each
 * gives the float64 reference's value and gradients (of `Σ loss·upstream`, so the upstream scaling of
 * 'none' is checked too) for every option, extreme logits included, and leaks nothing. The kernels
 * are called through the dispatcher, with their arguments as tensors, as the losses call them.
 */

const PATHS: KernelPath[] = ['fused', 'composite'];
const RTOL = 1e-5;
const ATOL = 1e-6;

/** Seeded uniform numbers in [0, 1): the same inputs on every backend and run. */
const random = (seed: number): (() => number) => seededRandom(seed).uniform;

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Float32-representable values, so that the reference sees exactly what tfjs sees. */
function float32(values: number[]): number[] {
  return Array.from(Float32Array.from(values));
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  expect(actual.length).toBe(expected.length);
  const bad: string[] = [];
  for (let k = 0; k < actual.length; k++) {
    const a = actual[k];
    const e = expected[k];
    const close = Number.isNaN(e) ? Number.isNaN(a) : !Number.isFinite(e) ? a === e : Math.abs(a - e) <= ATOL + RTOL * Math.abs(e);
    if (!close) bad.push(`[${k}] ${a} vs ${e}`);
  }
  expect(bad.length === 0 ? 'close' : `${what}: ${bad.length} of ${actual.length} differ, e.g. ${bad.slice(0, 3).join(', ')}`).toBe(
    'close',
  );
}

interface Outcome {
  value: Float32Array;
  gradients: Float32Array[];
}

/**
 * Value of `loss(...inputs)` and gradients of `Σ loss·upstream` for every input, on the current kernel
 * path; fails if a tensor is left behind by the value, the gradients, or the dispose of both.
 */
function evaluate(loss: (...inputs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], upstream: number[]): Outcome {
  const before = tf.memory().numTensors;
  const value = loss(...inputs);
  const valueData = value.dataSync() as Float32Array;
  value.dispose();
  expect(tf.memory().numTensors).toBe(before);
  const gradients = tf.grads((...xs: tf.Tensor[]) => {
    const l = loss(...xs);
    return tf.sum(tf.mul(l, tf.tensor(upstream, l.shape)));
  })(inputs);
  const gradientData = gradients.map((g) => g.dataSync() as Float32Array);
  tf.dispose(gradients);
  expect(tf.memory().numTensors).toBe(before);
  return { value: valueData, gradients: gradientData };
}

/** Runs `loss` on both paths and checks each against the reference (and so against each other). */
function expectPathsMatchReference(
  loss: (...inputs: tf.Tensor[]) => tf.Tensor,
  inputs: tf.Tensor[],
  reference: (upstream: number[]) => ReferenceResult,
  valueSize: number,
  what: string,
): void {
  const upstream = float32(Array.from({ length: valueSize }, (_, k) => [1, -0.5, 2, 0.25][k % 4]));
  const expected = reference(upstream);
  const expectedGradients = [expected.grad.input, expected.grad.target].slice(0, inputs.length);
  for (const path of PATHS) {
    setKernelPath(path);
    const outcome = evaluate(loss, inputs, upstream);
    expectClose(outcome.value, expected.value.values, `${what} [${path}] value`);
    outcome.gradients.forEach((g, k) => {
      const e = expectedGradients[k];
      if (e === null || e === undefined) throw new Error(`${what}: reference has no gradient for input ${k}`);
      expectClose(g, e, `${what} [${path}] gradient of input ${k}`);
    });
  }
}

// ------------------------------------------------------------------- the kernels, wired as the losses wire them

interface ClassOptions {
  weight?: number[];
  ignoreIndex?: number;
  labelSmoothing?: number;
  reduction?: Reduction;
  classAxis?: number;
}

function classArgs(shape: number[], o: ClassOptions) {
  const { layout, axis } = classLayout(shape, o.classAxis ?? 1, 'test');
  return {
    layout,
    labelSmoothing: o.labelSmoothing ?? 0,
    reduction: o.reduction ?? 'mean',
    sampleShape: shape.filter((_, i) => i !== axis),
    ignoreIndex: o.ignoreIndex ?? -100,
  };
}

/** An optional weight as the losses pass it: a tensor (made inside the caller's tidy). */
function weightTensor(weight: number[] | undefined, shape?: number[]): tf.Tensor | null {
  return weight === undefined ? null : tf.tensor(weight, shape ?? [weight.length]);
}

function crossEntropyWithIndices(target: tf.Tensor, o: ClassOptions) {
  return (logits: tf.Tensor): tf.Tensor =>
    tf.tidy(() =>
      crossEntropyIndicesKernel({ ...classArgs(logits.shape, o), weight: weightTensor(o.weight), logits, target, poison: false }),
    );
}

function crossEntropyWithProbabilities(o: ClassOptions) {
  return (logits: tf.Tensor, target: tf.Tensor): tf.Tensor =>
    tf.tidy(() => crossEntropyProbabilitiesKernel({ ...classArgs(logits.shape, o), weight: weightTensor(o.weight), logits, target }));
}

function nll(target: tf.Tensor, o: ClassOptions) {
  return (logProbabilities: tf.Tensor): tf.Tensor =>
    tf.tidy(() =>
      nllLossKernel({ ...classArgs(logProbabilities.shape, o), weight: weightTensor(o.weight), logProbabilities, target, poison: false }),
    );
}

interface BinaryOptions {
  weight?: number[];
  posWeight?: number[];
  reduction?: Reduction;
}

function bceWithLogits(o: BinaryOptions) {
  return (input: tf.Tensor, target: tf.Tensor): tf.Tensor =>
    tf.tidy(() =>
      binaryCrossEntropyWithLogitsKernel({
        input,
        target,
        weight: weightTensor(o.weight, input.shape),
        posWeight: weightTensor(o.posWeight, input.shape),
        reduction: o.reduction ?? 'mean',
      }),
    );
}

function bce(o: BinaryOptions) {
  return (input: tf.Tensor, target: tf.Tensor): tf.Tensor =>
    tf.tidy(() =>
      binaryCrossEntropyKernel({
        input,
        target,
        weight: weightTensor(o.weight, input.shape),
        reduction: o.reduction ?? 'mean',
        poison: false,
      }),
    );
}

// ------------------------------------------------------------------- cases

const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];

/** Logits: normal with spread `scale`, a few exactly extreme entries when `extreme`. */
function makeLogits(n: number, seed: number, scale: number, extreme: boolean): number[] {
  const next = random(seed);
  const values = Array.from({ length: n }, () => (next() * 2 - 1) * scale);
  if (extreme) [1e4, -1e4, 88, -104, 30, 0].forEach((v, k) => (values[(k * 7) % n] = v));
  return float32(values);
}

describeEachBackend('kernel paths', () => {
  afterEach(() => setKernelPath('auto'));

  it('resolves auto to the host kernels on host-memory backends and tfjs ops on a backend without fused kernels; rejects unknown paths', () => {
    expect(getKernelPath()).toBe('auto');
    expect(activeImplementation('cpu')).toBe('host');
    expect(activeImplementation('wasm')).toBe('host');
    expect(activeImplementation('tensorflow')).toBe('host');
    expect(activeImplementation('some-new-backend')).toBe('composite');
    setKernelPath('composite');
    expect(activeImplementation('cpu')).toBe('composite');
    setKernelPath('fused');
    expect(activeImplementation('webgl')).toBe('host');
    expect(() => setKernelPath('gpu' as KernelPath)).toThrow(LossInputError);
    expect(getKernelPath()).toBe('fused');
  });

  describe('cross-entropy with class indices', () => {
    const classes = 5; // except where the shape says 2
    const cases: Array<{ name: string; shape: number[]; options: ClassOptions; extreme?: boolean; ignored?: number[] }> = [];
    for (const reduction of REDUCTIONS) {
      cases.push({ name: `plain ${reduction}`, shape: [6, classes], options: { reduction } });
      cases.push({
        name: `weights, ignoreIndex -100, smoothing 0.2, ${reduction}`,
        shape: [6, classes],
        options: { reduction, weight: [0.5, 2, 1, 0, 3], labelSmoothing: 0.2 },
        ignored: [2],
      });
      cases.push({
        name: `K-dim [2, C, 3, 2], ignoreIndex 1 (in range), ${reduction}`,
        shape: [2, classes, 3, 2],
        options: { reduction, ignoreIndex: 1, labelSmoothing: 0.1 },
      });
      cases.push({
        name: `channels-last [2, 3, C], weights, ${reduction}`,
        shape: [2, 3, classes],
        options: { reduction, classAxis: -1, weight: [1, 2, 3, 4, 5] },
      });
      cases.push({
        name: `extreme logits (±1e4, 88, -104), smoothing, ${reduction}`,
        shape: [6, classes],
        options: { reduction, labelSmoothing: 0.3 },
        extreme: true,
      });
    }
    for (const reduction of REDUCTIONS) {
      // 13 classes: rows long enough for the fused path's SIMD loops, with a tail of 1 past the vectors of 4.
      const weight = Array.from({ length: 13 }, (_, c) => 0.25 * (c % 5));
      cases.push({
        name: `13 classes (SIMD rows), weights, smoothing, ignoreIndex 3, ${reduction}`,
        shape: [7, 13],
        options: { reduction, weight, labelSmoothing: 0.15, ignoreIndex: 3 },
      });
      cases.push({ name: `13 classes (SIMD rows), extreme logits, ${reduction}`, shape: [7, 13], options: { reduction }, extreme: true });
    }
    cases.push({ name: 'two classes, extreme logits', shape: [8, 2], options: { labelSmoothing: 0.1, weight: [0.3, 2] }, extreme: true });
    cases.push({ name: 'two classes, K-dim [2, 2, 5]', shape: [2, 2, 5], options: { reduction: 'none' } });
    cases.push({ name: 'unbatched [C]', shape: [classes], options: { weight: [1, 2, 3, 4, 5] } });
    cases.push({
      name: 'every target of weight 0, smoothing (NaN as PyTorch)',
      shape: [3, classes],
      options: { weight: [0, 0, 0, 0, 0], labelSmoothing: 0.1 },
    });
    cases.push({ name: 'every target ignored (mean NaN)', shape: [3, classes], options: {}, ignored: [0, 1, 2] });

    cases.forEach(({ name, shape, options, extreme, ignored }, caseIndex) => {
      it(`${name}: both paths give the reference value and gradient`, () => {
        const args = classArgs(shape, options);
        const samples = sizeOf(args.sampleShape);
        const next = random(100 + caseIndex);
        const labels = Array.from({ length: samples }, (_, s) =>
          ignored?.includes(s) ? args.ignoreIndex : Math.floor(next() * args.layout.classes),
        );
        // A target equal to an in-range ignoreIndex is ignored too: make sure some are.
        if (args.ignoreIndex >= 0) labels[0] = args.ignoreIndex;
        const logitValues = makeLogits(sizeOf(shape), caseIndex, 4, extreme === true);
        const logits = tf.tensor(logitValues, shape);
        const target = tf.tensor(labels, args.sampleShape, 'int32');
        const referenceOptions = {
          ...options,
          weight: options.weight === undefined ? undefined : { shape: [args.layout.classes], values: float32(options.weight) },
        };
        expectPathsMatchReference(
          crossEntropyWithIndices(target, options),
          [logits],
          (upstream) =>
            referenceCrossEntropy({ shape, values: logitValues }, { shape: args.sampleShape, values: labels }, referenceOptions, upstream),
          args.reduction === 'none' ? samples : 1,
          name,
        );
        tf.dispose([logits, target]);
      });
    });
  });

  describe('cross-entropy with class probabilities', () => {
    const classes = 4; // except where the shape says 2
    const cases: Array<{ name: string; shape: number[]; options: ClassOptions; extreme?: boolean }> = [];
    for (const reduction of REDUCTIONS) {
      cases.push({ name: `plain ${reduction}`, shape: [5, classes], options: { reduction } });
      cases.push({
        name: `weights and smoothing 0.25, ${reduction}`,
        shape: [5, classes],
        options: { reduction, weight: [0.5, 2, 0, 3], labelSmoothing: 0.25 },
      });
      cases.push({ name: `K-dim [2, C, 3], ${reduction}`, shape: [2, classes, 3], options: { reduction, labelSmoothing: 0.1 } });
      cases.push({ name: `extreme logits, ${reduction}`, shape: [5, classes], options: { reduction }, extreme: true });
    }
    cases.push({ name: 'two classes, channels-last [3, 2, 2]', shape: [3, 2, 2], options: { classAxis: -1, weight: [2, 0.5] } });

    cases.forEach(({ name, shape, options, extreme }, caseIndex) => {
      it(`${name}: both paths give the reference value and both gradients`, () => {
        const args = classArgs(shape, options);
        const logitValues = makeLogits(sizeOf(shape), 50 + caseIndex, 3, extreme === true);
        // Rows of non-negative numbers summing to 1 along the class axis (soft targets, not one-hot).
        const next = random(200 + caseIndex);
        const raw = Array.from({ length: sizeOf(shape) }, () => next());
        const probabilities = tf.tidy(() => {
          const t = tf.tensor(raw, shape);
          const axis = options.classAxis === -1 ? shape.length - 1 : 1;
          return tf.div(t, tf.sum(t, axis, true));
        });
        const probabilityValues = Array.from(probabilities.dataSync());
        const logits = tf.tensor(logitValues, shape);
        const referenceOptions = {
          ...options,
          weight: options.weight === undefined ? undefined : { shape: [args.layout.classes], values: float32(options.weight) },
        };
        expectPathsMatchReference(
          crossEntropyWithProbabilities(options),
          [logits, probabilities],
          (upstream) =>
            referenceCrossEntropy({ shape, values: logitValues }, { shape, values: probabilityValues }, referenceOptions, upstream),
          args.reduction === 'none' ? sizeOf(args.sampleShape) : 1,
          name,
        );
        tf.dispose([logits, probabilities]);
      });
    });
  });

  describe('negative log-likelihood', () => {
    const classes = 3;
    const cases: Array<{ name: string; shape: number[]; options: ClassOptions }> = [];
    for (const reduction of REDUCTIONS) {
      cases.push({
        name: `weights, ignoreIndex 2, ${reduction}`,
        shape: [6, classes],
        options: { reduction, weight: [1, 0.5, 4], ignoreIndex: 2 },
      });
      cases.push({ name: `K-dim [2, C, 4], ${reduction}`, shape: [2, classes, 4], options: { reduction } });
      cases.push({ name: `channels-last [4, 2, C], ${reduction}`, shape: [4, 2, classes], options: { reduction, classAxis: -1 } });
    }
    cases.forEach(({ name, shape, options }, caseIndex) => {
      it(`${name}: both paths give the reference value and gradient`, () => {
        const args = classArgs(shape, options);
        const samples = sizeOf(args.sampleShape);
        const next = random(300 + caseIndex);
        const labels = Array.from({ length: samples }, () => Math.floor(next() * classes));
        const values = tf.tidy(() => {
          const z = tf.tensor(makeLogits(sizeOf(shape), caseIndex, 3, false), shape);
          const axis = options.classAxis === -1 ? shape.length - 1 : 1;
          return tf.sub(z, tf.logSumExp(z, axis, true));
        });
        const valueData = Array.from(values.dataSync());
        const target = tf.tensor(labels, args.sampleShape, 'int32');
        const referenceOptions = {
          ...options,
          weight: options.weight === undefined ? undefined : { shape: [args.layout.classes], values: float32(options.weight) },
        };
        expectPathsMatchReference(
          nll(target, options),
          [values],
          (upstream) =>
            referenceNllLoss({ shape, values: valueData }, { shape: args.sampleShape, values: labels }, referenceOptions, upstream),
          args.reduction === 'none' ? samples : 1,
          name,
        );
        tf.dispose([values, target]);
      });
    });
  });

  describe('binary cross-entropy', () => {
    // 70 elements: enough for the fused path's SIMD loop (68 of them) and a JavaScript tail (2).
    const shape = [10, 7];
    const n = sizeOf(shape);
    const cases: Array<{ name: string; options: BinaryOptions }> = [];
    for (const reduction of REDUCTIONS) {
      cases.push({ name: `plain ${reduction}`, options: { reduction } });
      cases.push({
        name: `weight ${reduction}`,
        options: { reduction, weight: float32(Array.from({ length: n }, (_, k) => 0.25 * (k % 5))) },
      });
    }
    cases.forEach(({ name, options }, caseIndex) => {
      it(`on probabilities, ${name}, with 0 and 1 among them: both paths give the reference`, () => {
        const next = random(400 + caseIndex);
        const probabilityValues = float32(Array.from({ length: n }, (_, k) => (k === 0 ? 0 : k === 1 ? 1 : k === 2 ? 1e-30 : next())));
        const targetValues = float32(Array.from({ length: n }, (_, k) => (k < 3 ? [1, 0, 0][k] : next())));
        const probabilities = tf.tensor(probabilityValues, shape);
        const target = tf.tensor(targetValues, shape);
        const weight = options.weight === undefined ? undefined : { shape, values: options.weight };
        expectPathsMatchReference(
          bce(options),
          [probabilities, target],
          (upstream) =>
            referenceBinaryCrossEntropy(
              { shape, values: probabilityValues },
              { shape, values: targetValues },
              { ...options, weight },
              upstream,
            ),
          options.reduction === 'none' ? n : 1,
          name,
        );
        tf.dispose([probabilities, target]);
      });

      it(`on logits, ${name}, with posWeight and extreme logits: both paths give the reference`, () => {
        const logitValues = makeLogits(n, 500 + caseIndex, 5, true);
        const next = random(600 + caseIndex);
        const targetValues = float32(Array.from({ length: n }, (_, k) => (k % 3 === 0 ? next() : k % 2)));
        const posWeight = float32(Array.from({ length: n }, (_, k) => 0.5 + (k % 4)));
        const logits = tf.tensor(logitValues, shape);
        const target = tf.tensor(targetValues, shape);
        const weight = options.weight === undefined ? undefined : { shape, values: options.weight };
        expectPathsMatchReference(
          bceWithLogits({ ...options, posWeight }),
          [logits, target],
          (upstream) =>
            referenceBinaryCrossEntropyWithLogits(
              { shape, values: logitValues },
              { shape, values: targetValues },
              { ...options, weight, posWeight: { shape, values: posWeight } },
              upstream,
            ),
          options.reduction === 'none' ? n : 1,
          name,
        );
        tf.dispose([logits, target]);
      });
    });
  });

  describe('softmax focal loss', () => {
    const cases: Array<{ name: string; shape: number[]; options: ClassOptions; gamma: number; probabilities?: boolean }> = [];
    for (const reduction of REDUCTIONS) {
      for (const gamma of [0, 0.5, 2]) {
        cases.push({
          name: `weights, smoothing 0.2, ignoreIndex 1, gamma ${gamma}, ${reduction}`,
          shape: [6, 4],
          options: { reduction, weight: [0.5, 2, 1, 3], labelSmoothing: 0.2, ignoreIndex: 1 },
          gamma,
        });
      }
      cases.push({ name: `K-dim [2, C, 3], gamma 5, ${reduction}`, shape: [2, 4, 3], options: { reduction }, gamma: 5 });
      cases.push({
        name: `channels-last probabilities, weights, smoothing, gamma 1, ${reduction}`,
        shape: [2, 3, 4],
        options: { reduction, classAxis: -1, weight: [1, 0, 2, 0.5], labelSmoothing: 0.1 },
        gamma: 1,
        probabilities: true,
      });
    }
    cases.forEach(({ name, shape, options, gamma, probabilities }, caseIndex) => {
      it(`${name}, extreme logits: both paths give the reference value and gradients`, () => {
        const args = { ...classArgs(shape, options), gamma };
        const samples = sizeOf(args.sampleShape);
        const logitValues = makeLogits(sizeOf(shape), 700 + caseIndex, 4, true);
        const next = random(800 + caseIndex);
        const logits = tf.tensor(logitValues, shape);
        // Soft targets in [0, 1/C): rows that need not sum to 1 (PyTorch does not require distributions).
        const target = probabilities
          ? tf.tensor(
              Array.from({ length: sizeOf(shape) }, () => next() / args.layout.classes),
              shape,
            )
          : tf.tensor(
              Array.from({ length: samples }, () => Math.floor(next() * args.layout.classes)),
              args.sampleShape,
              'int32',
            );
        const targetValues = Array.from(target.dataSync());
        const weight = options.weight === undefined ? undefined : { shape: [args.layout.classes], values: float32(options.weight) };
        const loss = probabilities
          ? (x: tf.Tensor, t: tf.Tensor) =>
              tf.tidy(() => softmaxFocalProbabilitiesKernel({ ...args, weight: weightTensor(options.weight), logits: x, target: t }))
          : (x: tf.Tensor) =>
              tf.tidy(() => softmaxFocalIndicesKernel({ ...args, weight: weightTensor(options.weight), logits: x, target, poison: false }));
        expectPathsMatchReference(
          loss,
          probabilities ? [logits, target] : [logits],
          (upstream) =>
            referenceSoftmaxFocalLoss(
              { shape, values: logitValues },
              { shape: probabilities ? shape : args.sampleShape, values: targetValues },
              { ...options, weight, gamma },
              upstream,
            ),
          args.reduction === 'none' ? samples : 1,
          name,
        );
        tf.dispose([logits, target]);
      });
    });
  });

  describe('sigmoid focal loss and KL divergence', () => {
    // 70 elements, extreme logits among them; hard and soft targets.
    const shape = [10, 7];
    const n = sizeOf(shape);
    const targetValues = float32(Array.from({ length: n }, (_, k) => (k % 3 === 0 ? (k * 0.37) % 1 : k % 2)));
    for (const reduction of REDUCTIONS) {
      for (const [gamma, alpha] of [
        [0, 0.25],
        [0.5, -1],
        [2, 0.25],
        [5, 0.9],
      ]) {
        it(`sigmoid focal, gamma ${gamma}, alpha ${alpha}, ${reduction}: both paths give the reference`, () => {
          const logitValues = makeLogits(n, 900, 6, true);
          const logits = tf.tensor(logitValues, shape);
          const target = tf.tensor(targetValues, shape);
          expectPathsMatchReference(
            (input, t) => sigmoidFocalLossKernel({ input, target: t, alpha, gamma, reduction, poison: false }),
            [logits, target],
            (upstream) =>
              referenceSigmoidFocalLoss(
                { shape, values: logitValues },
                { shape, values: targetValues },
                { alpha, gamma, reduction },
                upstream,
              ),
            reduction === 'none' ? n : 1,
            'sigmoid focal',
          );
          tf.dispose([logits, target]);
        });
      }
    }
    for (const reduction of [...REDUCTIONS, 'batchmean'] as const) {
      for (const logTarget of [false, true]) {
        it(`KL divergence, ${reduction}${logTarget ? ', logTarget' : ''}: both paths give the reference`, () => {
          const inputValues = makeLogits(n, 950, 5, false).map((v) => -Math.abs(v));
          const values = logTarget ? float32(targetValues.map((t) => Math.log(t + 0.01))) : targetValues.map((t) => t + 0.01);
          const input = tf.tensor(inputValues, shape);
          const target = tf.tensor(values, shape);
          const meanDenominator = reduction === 'batchmean' ? shape[0] : n;
          expectPathsMatchReference(
            (x, t) =>
              klDivergenceKernel({
                input: x,
                target: t,
                reduction: reduction === 'batchmean' ? 'mean' : reduction,
                meanDenominator,
                logTarget,
              }),
            [input, target],
            (upstream) =>
              referenceKlDivergence({ shape, values: inputValues }, { shape, values: float32(values) }, { reduction, logTarget }, upstream),
            reduction === 'none' ? n : 1,
            'KL divergence',
          );
          tf.dispose([input, target]);
        });
      }
    }
  });

  it('computes the gradient when it was not taped in the forward pass (value first, gradient later)', () => {
    for (const path of PATHS) {
      setKernelPath(path);
      const before = tf.memory().numTensors;
      const logits = tf.tensor2d([
        [2, 0, -1],
        [0.5, 1.5, 0],
      ]);
      const target = tf.tensor1d([0, 2], 'int32');
      const loss = crossEntropyWithIndices(target, {});
      // A gradient of a function that calls the op twice, once outside any tape, reaches the same numbers.
      const plain = loss(logits);
      const gradient = tf.grad((x: tf.Tensor) => loss(x))(logits);
      const expected = referenceCrossEntropy({ shape: [2, 3], values: [2, 0, -1, 0.5, 1.5, 0] }, { shape: [2], values: [0, 2] });
      expectClose(plain.dataSync(), expected.value.values, `${path} value`);
      expectClose(gradient.dataSync(), expected.grad.input, `${path} gradient`);
      tf.dispose([plain, gradient, logits, target]);
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});
