import * as tf from '@tensorflow/tfjs';
import { referenceBinaryCrossEntropyWithLogits, referenceCrossEntropy } from '../../src/check/reference';
import { seededRandom } from '../../src/check/random';
import {
  binaryCrossEntropyWithLogitsLoss,
  binaryFocalLoss,
  categoricalCrossEntropyLoss,
  categoricalFocalLoss,
  classificationLossFn,
  LayersLoss,
  sparseCategoricalCrossEntropyLoss,
  sparseCategoricalFocalLoss,
} from '../../src/layers';
import { referenceSigmoidFocalLoss, referenceSoftmaxFocalLoss } from '../../src/check/referenceFocal';
import { expectWithin, FLOAT64_SLACK, U } from '../adapter/float32Bounds';
import { expectClose, expectInputError } from '../helpers/assertions';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

/** The per-sample loss and the gradient of its sum wrt yPred, as a model's training step would use them. */
function run(loss: LayersLoss, yTrue: tf.Tensor, yPred: tf.Tensor): { shape: number[]; value: Float32Array; gradient: Float32Array } {
  return expectNoLeak(() =>
    tf.tidy(() => {
      const value = loss(yTrue, yPred);
      const gradient = tf.grad((p: tf.Tensor) => tf.sum(loss(yTrue, p)))(yPred);
      return { shape: value.shape, value: value.dataSync() as Float32Array, gradient: gradient.dataSync() as Float32Array };
    }),
  );
}

describeEachBackend('tfjs-layers losses', () => {
  const random = seededRandom(17);
  const n = 16;
  const z = Float32Array.from({ length: n }, (_, k) => (k < 2 ? [1e4, -1e4][k] : 4 * random.normal()));
  const y = Float32Array.from({ length: n }, () => random.integer(2));
  const logits3 = Float32Array.from({ length: n * 3 }, () => 3 * random.normal());
  const labels3 = Float32Array.from({ length: n }, () => random.integer(3));

  it('binaryCrossEntropyWithLogitsLoss: one BCE-with-logits loss per sample for [N, 1] logits and the [N, 1] float labels fit passes', () => {
    for (const posWeight of [undefined, 3]) {
      const truth = referenceBinaryCrossEntropyWithLogits(
        { shape: [n], values: z },
        { shape: [n], values: y },
        { reduction: 'none', posWeight: posWeight === undefined ? undefined : { shape: [1], values: [posWeight] } },
      );
      const [yPred, yTrue] = [tf.tensor2d(z, [n, 1]), tf.tensor2d(y, [n, 1])];
      const result = run(binaryCrossEntropyWithLogitsLoss({ posWeight }), yTrue, yPred);
      expect(result.shape).toEqual([n]);
      const pw = posWeight ?? 1;
      expectWithin(
        result.value,
        truth.value.values,
        (k) => 2 * U * Math.abs(truth.value.values[k]) + FLOAT64_SLACK * (1 + Math.abs(z[k])) * pw,
        'per-sample loss',
      );
      expectWithin(result.gradient, truth.grad.input, (k) => 4 * U * Math.abs(truth.grad.input[k]) + FLOAT64_SLACK * pw, 'gradient');
      tf.dispose([yPred, yTrue]);
    }
  });

  it('binaryFocalLoss, sparseCategoricalFocalLoss, categoricalFocalLoss: one focal loss per sample, as the float64 reference', () => {
    const moderate = z.slice(2);
    const m = moderate.length;
    const binaryTruth = referenceSigmoidFocalLoss(
      { shape: [m], values: moderate },
      { shape: [m], values: y.slice(2) },
      { alpha: 0.3, gamma: 1.5 },
    );
    const [binaryPred, binaryTrue] = [tf.tensor2d(moderate, [m, 1]), tf.tensor2d(y.slice(2), [m, 1])];
    const binary = run(binaryFocalLoss({ alpha: 0.3, gamma: 1.5 }), binaryTrue, binaryPred);
    expect(binary.shape).toEqual([m]);
    expectClose(binary.value, binaryTruth.value.values, 1e-4, 1e-7);
    expectClose(binary.gradient, binaryTruth.grad.input, 1e-4, 1e-7);

    const truth = referenceSoftmaxFocalLoss(
      { shape: [n, 3], values: logits3 },
      { shape: [n], values: labels3 },
      { reduction: 'none', gamma: 2, labelSmoothing: 0.1 },
    );
    const yPred = tf.tensor2d(logits3, [n, 3]);
    const [indices, oneHot] = [tf.tensor2d(labels3, [n, 1]), tf.oneHot(tf.tensor1d(labels3, 'int32'), 3).toFloat()];
    for (const [loss, labels] of [
      [sparseCategoricalFocalLoss({ labelSmoothing: 0.1 }), indices],
      [categoricalFocalLoss({ labelSmoothing: 0.1 }), oneHot],
    ] as const) {
      const result = run(loss, labels, yPred);
      expect(result.shape).toEqual([n]);
      expectClose(result.value, truth.value.values, 1e-4, 1e-7);
      expectClose(result.gradient, truth.grad.input, 1e-4, 1e-7);
    }
    tf.dispose([binaryPred, binaryTrue, yPred, indices, oneHot]);
  });

  it('sparseCategoricalCrossEntropyLoss and categoricalCrossEntropyLoss: one cross-entropy per sample, for [N] / [N, 1] indices and one-hot labels (float32 or int32)', () => {
    const truth = referenceCrossEntropy(
      { shape: [n, 3], values: logits3 },
      { shape: [n], values: labels3 },
      { reduction: 'none', labelSmoothing: 0.1 },
    );
    const yPred = tf.tensor2d(logits3, [n, 3]);
    const inputs: Array<[LayersLoss, tf.Tensor]> = [
      [sparseCategoricalCrossEntropyLoss({ labelSmoothing: 0.1 }), tf.tensor2d(labels3, [n, 1])],
      [sparseCategoricalCrossEntropyLoss({ labelSmoothing: 0.1 }), tf.tensor1d(labels3)],
      [categoricalCrossEntropyLoss({ labelSmoothing: 0.1 }), tf.oneHot(tf.tensor1d(labels3, 'int32'), 3).toFloat()],
      [classificationLossFn({ labelSmoothing: 0.1 }), tf.tensor2d(labels3, [n, 1])],
      [classificationLossFn({ labelSmoothing: 0.1 }), tf.oneHot(tf.tensor1d(labels3, 'int32'), 3).toFloat()],
      // tf.oneHot's own int32 labels, which tfjs-layers' categorical loss takes too.
      [categoricalCrossEntropyLoss({ labelSmoothing: 0.1 }), tf.oneHot(tf.tensor1d(labels3, 'int32'), 3)],
      [classificationLossFn({ labelSmoothing: 0.1 }), tf.oneHot(tf.tensor1d(labels3, 'int32'), 3)],
    ];
    for (const [loss, yTrue] of inputs) {
      const result = run(loss, yTrue, yPred);
      expect(result.shape).toEqual([n]);
      expectWithin(result.value, truth.value.values, (k) => 4 * U * Math.abs(truth.value.values[k]) + FLOAT64_SLACK * 8, 'per-sample loss');
      // p - onehot from a float32 p: an absolute error of about u (see the adapter tests).
      expectWithin(result.gradient, truth.grad.input, (e) => 4 * U * Math.abs(truth.grad.input[e]) + 2 * U, 'gradient');
      yTrue.dispose();
    }
    yPred.dispose();
  });

  it('reads channels-last dense logits [N, d, C] with labels [N, d] or [N, d, 1]', () => {
    const logits = Float32Array.from({ length: 2 * 4 * 3 }, () => 3 * random.normal());
    const labels = Float32Array.from({ length: 8 }, () => random.integer(3));
    const truth = referenceCrossEntropy(
      { shape: [2, 4, 3], values: logits },
      { shape: [2, 4], values: labels },
      { reduction: 'none', classAxis: -1 },
    );
    const yPred = tf.tensor3d(logits, [2, 4, 3]);
    for (const yTrue of [tf.tensor2d(labels, [2, 4]), tf.tensor3d(labels, [2, 4, 1])]) {
      const result = run(sparseCategoricalCrossEntropyLoss(), yTrue, yPred);
      expect(result.shape).toEqual([2, 4]);
      expectWithin(
        result.value,
        truth.value.values,
        (k) => 4 * U * Math.abs(truth.value.values[k]) + FLOAT64_SLACK * 8,
        'per-element loss',
      );
      yTrue.dispose();
    }
    yPred.dispose();
  });

  it('classificationLossFn gives a one-unit head BCE with logits, through [0, z] with binaryAsTwoClass', () => {
    const [yPred, yTrue] = [tf.tensor2d(z, [n, 1]), tf.tensor2d(y, [n, 1])];
    const native = run(binaryCrossEntropyWithLogitsLoss({ posWeight: 2 }), yTrue, yPred);
    const twoClass = run(classificationLossFn({ binaryAsTwoClass: true, posWeight: 2 }), yTrue, yPred);
    expectWithin(
      twoClass.value,
      native.value,
      (k) => 4 * U * Math.abs(native.value[k]) + FLOAT64_SLACK * (1 + Math.abs(z[k])) * 2,
      'per-sample loss',
    );
    expectWithin(twoClass.gradient, native.gradient, (k) => 4 * U * Math.abs(native.gradient[k]) + 4 * U * 2, 'gradient');
    tf.dispose([yPred, yTrue]);
  });

  it("refuses an out-of-range class or binary label with a LossInputError (tfjs-layers' own sparse loss returns 0)", () => {
    tf.tidy(() => {
      const yPred = tf.tensor2d(logits3.slice(0, 6), [2, 3]);
      const e = expectInputError(() => tf.tidy(() => void sparseCategoricalCrossEntropyLoss()(tf.tensor2d([[1], [7]]), yPred)));
      expect(e.message).toBe(
        "sparseCategoricalCrossEntropyLoss: argument 'yTrue' must be class indices in [0, 3) or ignoreIndex -100, got 7 (out of range) at position [1] within the batch",
      );
      expect(expectInputError(() => tf.tidy(() => void sparseCategoricalCrossEntropyLoss()(tf.tensor2d([[1], [0.5]]), yPred))).actual).toBe(
        '0.5 (not an integer) at position [1] within the batch',
      );
      const binary = expectInputError(() =>
        tf.tidy(() => void binaryCrossEntropyWithLogitsLoss()(tf.tensor2d([[1], [2]]), tf.tensor2d([[0.5], [1]]))),
      );
      expect(binary.message).toBe(
        "binaryCrossEntropyWithLogitsLoss: argument 'yTrue' must be binary targets in [0, 1] or ignoreIndex -100, got 2 at position [1] within the batch",
      );
      expect(
        expectInputError(() =>
          tf.tidy(() => void classificationLossFn({ binaryAsTwoClass: true })(tf.tensor2d([[1], [0.5]]), tf.tensor2d([[0.5], [1]]))),
        ).expected,
      ).toBe('binary class indices 0 or 1 or ignoreIndex -100');
    });
  });

  it('refuses a wrong label or output shape, naming the argument, the expected and the actual shape', () => {
    tf.tidy(() => {
      const p3 = tf.zeros([2, 3]);
      const p1 = tf.zeros([2, 1]);
      const cases: Array<[() => unknown, string, string, string, string]> = [
        [
          () => sparseCategoricalCrossEntropyLoss()(tf.zeros([2, 3]), p3),
          'sparseCategoricalCrossEntropyLoss',
          'yTrue',
          'class indices of shape [2] or [2, 1] for logits of shape [2, 3] (for one-hot labels use categoricalCrossEntropyLoss)',
          'shape [2, 3]',
        ],
        [
          () => sparseCategoricalCrossEntropyLoss()(tf.zeros([3, 1]), p3),
          'sparseCategoricalCrossEntropyLoss',
          'yTrue',
          'class indices of shape [2] or [2, 1] for logits of shape [2, 3] (for one-hot labels use categoricalCrossEntropyLoss)',
          'shape [3, 1]',
        ],
        [
          () => sparseCategoricalCrossEntropyLoss()(tf.zeros([2, 1]), p1),
          'sparseCategoricalCrossEntropyLoss',
          'yPred',
          'class logits with at least 2 units (a one-unit head is binary: use binaryCrossEntropyWithLogitsLoss, or add a BinaryAsTwoClass layer)',
          'shape [2, 1]',
        ],
        [
          () => categoricalCrossEntropyLoss()(tf.zeros([2, 1]), p3),
          'categoricalCrossEntropyLoss',
          'yTrue',
          "one-hot or probability labels of the logits' shape [2, 3] (for class indices use sparseCategoricalCrossEntropyLoss)",
          "a float32 tensor of shape [2, 1], which looks like class indices: one-hot encode them (tf.oneHot(tf.squeeze(labels, [-1]).toInt(), 3)), as tfjs-layers' fit wants labels of the model output's shape, or keep them and train with sparseCategoricalCrossEntropyLoss through fitDataset or a custom training loop",
        ],
        [
          () => categoricalCrossEntropyLoss()(tf.zeros([2], 'int32'), p3),
          'categoricalCrossEntropyLoss',
          'yTrue',
          "one-hot or probability labels of the logits' shape [2, 3] (for class indices use sparseCategoricalCrossEntropyLoss)",
          "an int32 tensor of shape [2], which looks like class indices: one-hot encode them (tf.oneHot(labels.toInt(), 3)), as tfjs-layers' fit wants labels of the model output's shape, or keep them and train with sparseCategoricalCrossEntropyLoss through fitDataset or a custom training loop",
        ],
        [
          () => categoricalCrossEntropyLoss({ classAxis: 1 })(tf.zeros([2, 1, 4]), tf.zeros([2, 3, 4])),
          'categoricalCrossEntropyLoss',
          'yTrue',
          "one-hot or probability labels of the logits' shape [2, 3, 4] (for class indices use sparseCategoricalCrossEntropyLoss)",
          "a float32 tensor of shape [2, 1, 4], which looks like class indices: one-hot encode them (tf.oneHot, with the classes moved to axis 1), as tfjs-layers' fit wants labels of the model output's shape, or keep them and train with sparseCategoricalCrossEntropyLoss through fitDataset or a custom training loop",
        ],
        [
          () => categoricalCrossEntropyLoss()(tf.zeros([3, 3]), p3),
          'categoricalCrossEntropyLoss',
          'yTrue',
          "one-hot or probability labels of the logits' shape [2, 3] (for class indices use sparseCategoricalCrossEntropyLoss)",
          'a float32 tensor of shape [3, 3]',
        ],
        [
          () => binaryCrossEntropyWithLogitsLoss()(tf.zeros([2, 3]), p3),
          'binaryCrossEntropyWithLogitsLoss',
          'yPred',
          'the logits of a one-unit binary head, [batch, 1] (for C units use sparseCategoricalCrossEntropyLoss or categoricalCrossEntropyLoss)',
          'shape [2, 3]',
        ],
        [
          () => binaryCrossEntropyWithLogitsLoss()(tf.zeros([2, 2]), p1),
          'binaryCrossEntropyWithLogitsLoss',
          'yTrue',
          'shape [2] or [2, 1] (one value per logit of the binary head)',
          'shape [2, 2]',
        ],
        [
          () => classificationLossFn({ posWeight: 2 })(tf.zeros([2, 1]), p3),
          'classificationLossFn',
          'options.posWeight',
          'absent for a model with more than one output unit (posWeight weights the positive label of a one-unit head)',
          'yPred of shape [2, 3]',
        ],
        [
          () => binaryCrossEntropyWithLogitsLoss({ posWeight: '2' as unknown as number }),
          'binaryCrossEntropyWithLogitsLoss',
          'options.posWeight',
          'a finite number',
          '"2"',
        ],
        [() => binaryFocalLoss({ gamma: -1 }), 'binaryFocalLoss', 'options.gamma', 'a finite number >= 0', '-1'],
        [
          () => classificationLossFn({ focalAlpha: 0.25 })(tf.zeros([2, 1]), p3),
          'classificationLossFn',
          'options.focalAlpha',
          'absent for a model with more than one output unit (focalAlpha weights the positive label of a one-unit head)',
          'yPred of shape [2, 3]',
        ],
        [
          () => sparseCategoricalCrossEntropyLoss({ labelSmoothing: 2 }),
          'sparseCategoricalCrossEntropyLoss',
          'options.labelSmoothing',
          'a number in [0, 1]',
          '2',
        ],
      ];
      for (const [thrower, functionName, argument, expected, actual] of cases) {
        const e = expectInputError(() => tf.tidy(() => void thrower()));
        expect({ functionName: e.functionName, argument: e.argument, expected: e.expected, actual: e.actual }).toEqual({
          functionName,
          argument,
          expected,
          actual,
        });
      }
    });
  });
});
