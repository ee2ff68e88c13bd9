import * as tf from '@tensorflow/tfjs';
import {
  binaryTargetsToClassIndices,
  binaryTargetsToTwoClassProbs,
  binaryToTwoClassLogits,
  classificationLoss,
  classIndicesToBinaryTargets,
  twoClassToBinaryLogits,
  twoClassToBinaryProbs,
} from '../../src/adapter';
import { setValidation } from '../../src/core/validation';
import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  nllLoss,
  BCELoss,
  BCEWithLogitsLoss,
  CrossEntropyLoss,
  NLLLoss,
} from '../../src/index';
import {
  binaryCrossEntropyWithLogitsLoss,
  categoricalCrossEntropyLoss,
  classificationLossFn,
  sparseCategoricalCrossEntropyLoss,
} from '../../src/layers';
import { expectMemoryUnchanged, thrownBy } from '../helpers/assertions';
import { describeEachBackend } from '../helpers/backends';

/**
 * Every public function, its gradient and its error path leave `tf.memory()` (tensors and bytes) as
 * they found it, on every backend and in both validation modes; and each gives bitwise the same value
 * and gradients when called twice with the same inputs.
 */

interface PublicCall {
  name: string;
  /** The call, on the tensors made by `inputs`; differentiated with respect to the first `differentiable` of them. */
  call: (...inputs: tf.Tensor[]) => tf.Tensor;
  inputs: () => tf.Tensor[];
  differentiable: number;
  /** A call with a bad argument (throws in 'sync' mode), given the inputs and then the tensors of `badExtra`. */
  bad: (...inputs: tf.Tensor[]) => unknown;
  /** Tensors only the bad call uses, made before the measurement. */
  badExtra?: () => tf.Tensor[];
}

const logits2d = () =>
  tf.tensor2d([
    [2, 0, -1],
    [0.5, 1.5, 0],
    [-1, -1, 4],
  ]);
const indices = () => tf.tensor1d([0, 1, 2], 'int32');
const binaryLogits = () => tf.tensor1d([1.5, -0.5, 3]);
const binaryTargets = () => tf.tensor1d([1, 0, 1]);
const probabilities = () =>
  tf.tensor2d([
    [0.9, 0.2, 0.6],
    [0.05, 0.5, 0.999],
    [0.3, 0.7, 0.1],
  ]);
const softTargets = () =>
  tf.tensor2d([
    [1, 0, 1],
    [0.3, 1, 0],
    [0, 0.5, 1],
  ]);

const CALLS: PublicCall[] = [
  {
    name: 'crossEntropy (class indices)',
    call: (z, y) => crossEntropy(z, y, { labelSmoothing: 0.1, weight: [1, 2, 3] }),
    inputs: () => [logits2d(), indices()],
    differentiable: 1,
    bad: (z) => crossEntropy(z, [0, 1, 3]),
  },
  {
    name: 'crossEntropy (class probabilities)',
    call: (z, t) => crossEntropy(z, t, { reduction: 'none' }),
    inputs: () => [logits2d(), tf.softmax(logits2d())],
    differentiable: 2,
    bad: (z) => crossEntropy(z, [0, 1, 1.5]),
  },
  {
    name: 'nllLoss',
    call: (x, y) => nllLoss(x, y, { reduction: 'sum' }),
    inputs: () => [tf.logSoftmax(logits2d()), indices()],
    differentiable: 1,
    bad: (x) => nllLoss(x, [0, -1, 2]),
  },
  {
    name: 'binaryCrossEntropy',
    call: (x, y) => binaryCrossEntropy(x, y, { weight: [1, 2, 0.5] }),
    inputs: () => [probabilities(), softTargets()],
    differentiable: 2,
    bad: (_, y) =>
      binaryCrossEntropy(
        [
          [2, 0, 0],
          [0, 0, 0],
          [0, 0, 0],
        ],
        y,
      ),
  },
  {
    name: 'binaryCrossEntropyWithLogits',
    call: (x, y) => binaryCrossEntropyWithLogits(x, y, { posWeight: [3, 1, 0.5] }),
    inputs: () => [logits2d(), softTargets()],
    differentiable: 2,
    bad: (x) => binaryCrossEntropyWithLogits(x, [1, 0, 1]),
  },
  {
    name: 'CrossEntropyLoss.forward',
    call: (z, y) => new CrossEntropyLoss({ reduction: 'none' }).forward(z, y),
    inputs: () => [logits2d(), indices()],
    differentiable: 1,
    bad: (z) => new CrossEntropyLoss().forward(z, [3, 0, 0]),
  },
  {
    name: 'NLLLoss.forward',
    call: (x, y) => new NLLLoss().forward(x, y),
    inputs: () => [tf.logSoftmax(logits2d()), indices()],
    differentiable: 1,
    bad: (x) => new NLLLoss().forward(x, [0, 0]),
  },
  {
    name: 'BCELoss.forward',
    call: (x, y) => new BCELoss().forward(x, y),
    inputs: () => [probabilities(), softTargets()],
    differentiable: 2,
    bad: (x) => new BCELoss().forward(x, [1, 0, 1]),
  },
  {
    name: 'BCEWithLogitsLoss.forward',
    call: (x, y) => new BCEWithLogitsLoss({ reduction: 'sum' }).forward(x, y),
    inputs: () => [logits2d(), softTargets()],
    differentiable: 2,
    bad: (x, y) => new BCEWithLogitsLoss({ posWeight: [1, 2] }).forward(x, y),
  },
  {
    name: 'classificationLoss (binary head)',
    call: (z, y) => classificationLoss(z, y, { posWeight: 2 }),
    inputs: () => [binaryLogits(), binaryTargets()],
    differentiable: 1,
    bad: (z) => classificationLoss(z, [1, 0]),
  },
  {
    name: 'classificationLoss (binary head as two classes)',
    call: (z, y) => classificationLoss(z, y, { binaryAsTwoClass: true, reduction: 'none' }),
    inputs: () => [binaryLogits(), binaryTargets()],
    differentiable: 1,
    bad: (z) => classificationLoss(z, [1, 0.5, 0], { binaryAsTwoClass: true }),
  },
  {
    name: 'classificationLoss (multiclass head)',
    call: (z, y) => classificationLoss(z, y, { classWeight: [1, 2, 3], labelSmoothing: 0.2 }),
    inputs: () => [logits2d(), indices()],
    differentiable: 1,
    bad: (z) => classificationLoss(z, [0, 5, 1]),
  },
  {
    name: 'binaryToTwoClassLogits',
    call: (z) => binaryToTwoClassLogits(z),
    inputs: () => [binaryLogits()],
    differentiable: 1,
    bad: () => binaryToTwoClassLogits([[1, 2, 3]]),
  },
  {
    name: 'twoClassToBinaryLogits',
    call: (z) => twoClassToBinaryLogits(z),
    inputs: () => [
      tf.tensor2d([
        [0, 1.5],
        [2, -1],
      ]),
    ],
    differentiable: 1,
    bad: () => twoClassToBinaryLogits([1.5, 2, -1, 0]),
  },
  {
    name: 'twoClassToBinaryProbs',
    call: (p) => twoClassToBinaryProbs(p),
    inputs: () => [
      tf.tensor2d([
        [0.2, 0.8],
        [0.6, 0.4],
      ]),
    ],
    differentiable: 1,
    bad: () => twoClassToBinaryProbs([[0.2, 0.3, 0.5]]),
  },
  {
    name: 'binaryTargetsToClassIndices',
    call: (y) => binaryTargetsToClassIndices(y),
    inputs: () => [binaryTargets()],
    differentiable: 0,
    bad: () => binaryTargetsToClassIndices([0.5, 1]),
  },
  {
    name: 'classIndicesToBinaryTargets',
    call: (y) => classIndicesToBinaryTargets(y),
    inputs: () => [indices().minimum(1)],
    differentiable: 0,
    bad: () => classIndicesToBinaryTargets([2, 0]),
  },
  {
    name: 'binaryTargetsToTwoClassProbs',
    call: (y) => binaryTargetsToTwoClassProbs(y),
    inputs: () => [tf.tensor1d([1, 0.25, 0])],
    differentiable: 1,
    bad: () => binaryTargetsToTwoClassProbs([1.5]),
  },
  {
    name: 'layers binaryCrossEntropyWithLogitsLoss',
    call: (y, z) => binaryCrossEntropyWithLogitsLoss({ posWeight: 2 })(y, z),
    inputs: () => [tf.tensor2d([[1], [0], [1]]), tf.tensor2d([[1.5], [-0.5], [3]])],
    differentiable: 0,
    bad: (y, _, wide) => binaryCrossEntropyWithLogitsLoss()(y, wide),
    badExtra: () => [tf.zeros([3, 2])],
  },
  {
    name: 'layers sparseCategoricalCrossEntropyLoss',
    call: (y, z) => sparseCategoricalCrossEntropyLoss()(y, z),
    inputs: () => [tf.tensor2d([[0], [1], [2]]), logits2d()],
    differentiable: 0,
    bad: (_, z, outOfRange) => sparseCategoricalCrossEntropyLoss()(outOfRange, z),
    badExtra: () => [tf.tensor2d([[3], [4], [5]])],
  },
  {
    name: 'layers categoricalCrossEntropyLoss',
    call: (y, z) => categoricalCrossEntropyLoss({ labelSmoothing: 0.1 })(y, z),
    inputs: () => [tf.oneHot(indices(), 3).toFloat(), logits2d()],
    differentiable: 0,
    bad: (y, _, wide) => categoricalCrossEntropyLoss()(y, wide),
    badExtra: () => [tf.zeros([3, 4])],
  },
  {
    name: 'layers classificationLossFn',
    call: (y, z) => classificationLossFn({ binaryAsTwoClass: true })(y, z),
    inputs: () => [tf.tensor2d([[1], [0], [1]]), tf.tensor2d([[1.5], [-0.5], [3]])],
    differentiable: 0,
    bad: (_, z, notBinary) => classificationLossFn()(notBinary, z),
    badExtra: () => [tf.tensor2d([[2], [0], [1]])],
  },
];

/** Value and gradients of `Σ call(...)·dy` with respect to the first `differentiable` inputs (dy: 1, 2, 3, ... per value). */
function evaluate(c: PublicCall, inputs: tf.Tensor[]): Float32Array[] {
  return tf.tidy(() => {
    const value = c.call(...inputs);
    const out = [value.dataSync() as Float32Array];
    if (c.differentiable > 0) {
      const dy = tf.range(1, value.size + 1).reshape(value.shape);
      const f = (...xs: tf.Tensor[]) => c.call(...xs, ...inputs.slice(c.differentiable));
      const grads = tf.grads(f)(inputs.slice(0, c.differentiable), dy);
      out.push(...grads.map((g) => g.dataSync() as Float32Array));
    }
    return out.map((a) => Float32Array.from(a));
  });
}

/** The bits of float32 numbers, so that two NaNs or -0 and 0 compare as what they are. */
const bits = (arrays: Float32Array[]) => arrays.map((a) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length)));

describeEachBackend('memory and repeatability of every public function', () => {
  afterEach(() => setValidation('auto'));

  for (const mode of ['sync', 'device'] as const) {
    describe(`validation '${mode}'`, () => {
      it.each(CALLS.map((c) => [c.name, c] as const))(
        '%s: value, gradient and error path leave tf.memory() unchanged; twice the same bits',
        (_, c) => {
          setValidation(mode);
          const inputs = c.inputs();
          const extra = c.badExtra?.() ?? [];
          const [first, second] = expectMemoryUnchanged(() => [evaluate(c, inputs), evaluate(c, inputs)]);
          expect(bits(second)).toEqual(bits(first));
          expect(first[0].length).toBeGreaterThan(0);
          // The error path: thrown in 'sync' mode; in 'device' mode a value check gives NaN instead, which must be disposed too.
          expectMemoryUnchanged(() => {
            const error = thrownBy(() => tf.dispose(c.bad(...inputs, ...extra) as tf.Tensor));
            if (mode === 'sync') expect(error).toBeDefined();
          });
          tf.dispose([...inputs, ...extra]);
        },
      );
    });
  }
});
