import * as tf from '@tensorflow/tfjs';
import { binaryTargetsToTwoClassProbs } from '../../src/adapter/targets';
import { referenceBinaryCrossEntropyWithLogits } from '../../src/check/reference';
import { seededRandom } from '../../src/check/random';
import {
  BinaryAsTwoClass,
  binaryCrossEntropyWithLogitsLoss,
  binaryFocalLoss,
  categoricalCrossEntropyLoss,
  categoricalFocalLoss,
  classificationLossFn,
  LayersLoss,
  sparseCategoricalCrossEntropyLoss,
} from '../../src/layers';
import { expectWithin, U } from '../adapter/float32Bounds';
import { describeEachBackend } from '../helpers/backends';

const STEPS = 50;
const N = 64;

/** A small synthetic binary task, generated on the host so that every backend sees the same numbers. */
function binaryTask(seed: number): { x: tf.Tensor2D; y: tf.Tensor2D; labels: Float32Array } {
  const random = seededRandom(seed);
  const features = Float32Array.from({ length: 2 * N }, () => random.normal());
  const labels = Float32Array.from({ length: N }, (_, i) => (features[2 * i] ** 2 + features[2 * i + 1] > 0.5 ? 1 : 0));
  return { x: tf.tensor2d(features, [N, 2]), y: tf.tensor2d(labels, [N, 1]), labels };
}

/** dense(8, tanh) -> dense(1) logit head, optionally followed by BinaryAsTwoClass; seeded initial weights. */
function binaryNet(twoClass: boolean): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 8, activation: 'tanh', inputShape: [2], kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
      ...(twoClass ? [new BinaryAsTwoClass()] : []),
    ],
  });
}

function maxAbsDifference(a: tf.Tensor[], b: tf.Tensor[]): number {
  return tf.tidy(() => Math.max(...a.map((w, k) => tf.max(tf.abs(tf.sub(w, b[k]))).dataSync()[0])));
}

function maxAbs(ws: tf.Tensor[]): number {
  return tf.tidy(() => Math.max(...ws.map((w) => tf.max(tf.abs(w)).dataSync()[0])));
}

describeEachBackend('training tfjs-layers models with the layers losses', () => {
  it(`ends with the same weights after ${STEPS} SGD steps: one-logit head + BCE with logits, or + BinaryAsTwoClass + cross-entropy`, async () => {
    const { x, y } = binaryTask(1);
    const oneHot = binaryTargetsToTwoClassProbs(y);
    const reference = binaryNet(false);
    const initial = reference.getWeights().map((w) => w.clone());
    reference.compile({ optimizer: tf.train.sgd(0.5), loss: binaryCrossEntropyWithLogitsLoss() });
    const referenceHistory = await reference.fit(x, y, { epochs: STEPS, batchSize: N, shuffle: false, verbose: 0 });

    // The same network and optimizer, trained through cross-entropy in three ways tfjs-layers allows.
    const variants: Array<{ name: string; twoClass: boolean; loss: LayersLoss; train: (m: tf.LayersModel) => Promise<tf.History> }> = [
      {
        name: 'BinaryAsTwoClass + categoricalCrossEntropyLoss, one-hot labels, fit',
        twoClass: true,
        loss: categoricalCrossEntropyLoss(),
        train: (m) => m.fit(x, oneHot, { epochs: STEPS, batchSize: N, shuffle: false, verbose: 0 }),
      },
      {
        name: 'BinaryAsTwoClass + sparseCategoricalCrossEntropyLoss, [N, 1] labels, fitDataset',
        twoClass: true,
        loss: sparseCategoricalCrossEntropyLoss(),
        train: (m) =>
          m.fitDataset(
            tf.data
              .zip({ xs: tf.data.array(tf.unstack(x)), ys: tf.data.array(tf.unstack(y)) })
              .batch(N) as tf.data.Dataset<tf.TensorContainer>,
            { epochs: STEPS, verbose: 0 },
          ),
      },
      {
        name: 'one-logit head + classificationLossFn({binaryAsTwoClass: true}), fit',
        twoClass: false,
        loss: classificationLossFn({ binaryAsTwoClass: true }),
        train: (m) => m.fit(x, y, { epochs: STEPS, batchSize: N, shuffle: false, verbose: 0 }),
      },
    ];
    // Each SGD step of the two ways differs by the float32 rounding of the losses' gradients (a few u,
    // relative); over STEPS steps of a training run that converges, those differences add up at most
    // linearly: within STEPS·4u of the largest weight. (Measured: about 1 ulp on cpu, 2 on wasm.)
    const bound = STEPS * 4 * U * maxAbs(reference.getWeights());
    for (const variant of variants) {
      const model = binaryNet(variant.twoClass);
      model.setWeights(initial);
      model.compile({ optimizer: tf.train.sgd(0.5), loss: variant.loss });
      const history = await variant.train(model);
      expect(maxAbsDifference(model.getWeights(), reference.getWeights())).toBeLessThanOrEqual(bound);
      const curve = history.history.loss as number[];
      const referenceCurve = referenceHistory.history.loss as number[];
      expectWithin(curve, referenceCurve, (k) => STEPS * 4 * U * referenceCurve[k], `loss curve (${variant.name})`);
      expect(referenceCurve[STEPS - 1]).toBeLessThan(referenceCurve[0] / 2);
      model.dispose();
    }
    tf.dispose([x, y, oneHot, initial]);
    reference.dispose();
  });

  it(`focal loss: the one-logit head and its two-class form end with the same weights after ${STEPS} SGD steps, with and without alpha`, async () => {
    const { x, y } = binaryTask(4);
    const oneHot = binaryTargetsToTwoClassProbs(y);
    const fitOn = (labels: tf.Tensor) => (m: tf.LayersModel) =>
      m.fit(x, labels, { epochs: STEPS, batchSize: N, shuffle: false, verbose: 0 });
    const pairs: Array<{ name: string; binary: LayersLoss; twoClass: Array<{ head: boolean; loss: LayersLoss; labels: tf.Tensor }> }> = [
      {
        name: 'gamma 2, no alpha',
        binary: binaryFocalLoss({ alpha: -1, gamma: 2 }),
        twoClass: [
          { head: true, loss: categoricalFocalLoss({ gamma: 2 }), labels: oneHot },
          { head: false, loss: classificationLossFn({ binaryAsTwoClass: true, focalGamma: 2 }), labels: y },
        ],
      },
      {
        name: 'gamma 2, alpha 0.25',
        binary: binaryFocalLoss({ alpha: 0.25, gamma: 2 }),
        twoClass: [{ head: false, loss: classificationLossFn({ binaryAsTwoClass: true, focalGamma: 2, focalAlpha: 0.25 }), labels: y }],
      },
    ];
    for (const pair of pairs) {
      const reference = binaryNet(false);
      const initial = reference.getWeights().map((w) => w.clone());
      reference.compile({ optimizer: tf.train.sgd(0.5), loss: pair.binary });
      const curve = (await fitOn(y)(reference)).history.loss as number[];
      expect(curve[STEPS - 1]).toBeLessThan(curve[0] / 2);
      const bound = STEPS * 4 * U * maxAbs(reference.getWeights());
      for (const variant of pair.twoClass) {
        const model = binaryNet(variant.head);
        model.setWeights(initial);
        model.compile({ optimizer: tf.train.sgd(0.5), loss: variant.loss });
        await fitOn(variant.labels)(model);
        expect(maxAbsDifference(model.getWeights(), reference.getWeights())).toBeLessThanOrEqual(bound);
        model.dispose();
      }
      tf.dispose(initial);
      reference.dispose();
    }
    tf.dispose([x, y, oneHot]);
  });

  it("applies fit's classWeight to the per-sample losses: the reported loss is mean(cw[y]·BCE)", async () => {
    const { x, y, labels } = binaryTask(2);
    const oneHot = binaryTargetsToTwoClassProbs(y);
    const classWeight = { 0: 0.5, 1: 3 };
    const cases: Array<{ twoClass: boolean; loss: LayersLoss; fit: (m: tf.LayersModel) => Promise<tf.History> }> = [
      {
        twoClass: false,
        loss: binaryCrossEntropyWithLogitsLoss(),
        fit: (m) => m.fit(x, y, { epochs: 1, batchSize: N, classWeight, verbose: 0 }),
      },
      {
        twoClass: true,
        loss: categoricalCrossEntropyLoss(),
        fit: (m) => m.fit(x, oneHot, { epochs: 1, batchSize: N, classWeight, verbose: 0 }),
      },
      {
        twoClass: true,
        loss: sparseCategoricalCrossEntropyLoss(),
        fit: (m) =>
          m.fitDataset(
            tf.data
              .zip({ xs: tf.data.array(tf.unstack(x)), ys: tf.data.array(tf.unstack(y)) })
              .batch(N) as tf.data.Dataset<tf.TensorContainer>,
            { epochs: 1, classWeight, verbose: 0 },
          ),
      },
    ];
    for (const { twoClass, loss, fit } of cases) {
      const model = binaryNet(twoClass);
      // A learning rate of 0: the reported loss is the loss at the weights the logits are read from.
      model.compile({ optimizer: tf.train.sgd(0), loss });
      const logits = tf.tidy(() => {
        const out = model.predict(x) as tf.Tensor;
        return (twoClass ? tf.sub(tf.slice(out, [0, 1], [N, 1]), tf.slice(out, [0, 0], [N, 1])) : out).dataSync();
      });
      const perSample = referenceBinaryCrossEntropyWithLogits(
        { shape: [N], values: logits },
        { shape: [N], values: labels },
        { reduction: 'none' },
      ).value.values;
      const expected = Array.from(perSample).reduce((s, l, k) => s + l * classWeight[labels[k] as 0 | 1], 0) / N;
      const history = await fit(model);
      // tfjs-layers multiplies and averages in float32: N + 2 roundings of the weighted terms at most.
      expectWithin(history.history.loss as number[], [expected], () => (N + 4) * U * expected, 'class-weighted loss');
      model.dispose();
    }
    tf.dispose([x, y, oneHot]);
  });

  it('trains a three-class model through the same loss functions, and leaves no tensor behind per step', async () => {
    const random = seededRandom(5);
    const features = Float32Array.from({ length: 2 * N }, () => random.normal());
    const classes = Float32Array.from({ length: N }, (_, i) => (features[2 * i] > 0.5 ? 2 : features[2 * i + 1] > 0 ? 1 : 0));
    const x = tf.tensor2d(features, [N, 2]);
    const oneHot = tf.tidy(() => tf.oneHot(tf.tensor1d(classes, 'int32'), 3).toFloat());
    const model = tf.sequential({
      layers: [tf.layers.dense({ units: 8, activation: 'tanh', inputShape: [2] }), tf.layers.dense({ units: 3 })],
    });
    model.compile({ optimizer: tf.train.sgd(0.5), loss: classificationLossFn() });
    const first = await model.fit(x, oneHot, { epochs: 5, batchSize: 16, verbose: 0 });
    const tensorsAfterFirstFit = tf.memory().numTensors;
    const second = await model.fit(x, oneHot, { epochs: 20, batchSize: 16, verbose: 0 });
    expect(tf.memory().numTensors).toBe(tensorsAfterFirstFit);
    expect((second.history.loss as number[])[19]).toBeLessThan((first.history.loss as number[])[0]);
    tf.dispose([x, oneHot]);
    model.dispose();
  });

  it('says that a bad label found inside fit is at a position within the batch', async () => {
    const { x, labels } = binaryTask(2);
    const bad = labels.slice();
    bad[14] = 2; // sample 14 is sample 6 of the second batch of 8
    const y = tf.tensor2d(bad, [N, 1]);
    const model = binaryNet(false);
    model.compile({ optimizer: tf.train.sgd(0.1), loss: binaryCrossEntropyWithLogitsLoss() });
    await expect(model.fit(x, y, { epochs: 1, batchSize: 8, shuffle: false, verbose: 0 })).rejects.toThrow(
      "binaryCrossEntropyWithLogitsLoss: argument 'yTrue' must be binary targets in [0, 1] or ignoreIndex -100, got 2 at position [6] within the batch",
    );
    tf.dispose([x, y]);
    model.dispose();
  });

  it('class-index labels: fit refuses them (tfjs-layers checks their shape first); fitDataset trains on them', async () => {
    const random = seededRandom(6);
    const features = Float32Array.from({ length: 2 * N }, () => random.normal());
    const x = tf.tensor2d(features, [N, 2]);
    const indices = tf.tensor2d(
      Float32Array.from({ length: N }, (_, i) => (features[2 * i] > 0 ? 1 : 0) + (features[2 * i + 1] > 0 ? 1 : 0)),
      [N, 1],
    );
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [2] })] });
    model.compile({ optimizer: tf.train.sgd(0.5), loss: sparseCategoricalCrossEntropyLoss() });
    await expect(model.fit(x, indices, { epochs: 1, verbose: 0 })).rejects.toThrow(/shape \[3\]/);
    const dataset = tf.data.zip({ xs: tf.data.array(tf.unstack(x)), ys: tf.data.array(tf.unstack(indices)) }).batch(N);
    const history = await model.fitDataset(dataset, { epochs: 5, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses[4]).toBeLessThan(losses[0]);
    tf.dispose([x, indices]);
    model.dispose();
  });

  it("logs a named metric under its name (the README's logit accuracy)", async () => {
    const { x, y } = binaryTask(3);
    function logitAccuracy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor {
      return tf.metrics.binaryAccuracy(yTrue, tf.sigmoid(yPred));
    }
    const model = binaryNet(false);
    model.compile({ optimizer: tf.train.sgd(0.5), loss: binaryCrossEntropyWithLogitsLoss(), metrics: [logitAccuracy] });
    const history = await model.fit(x, y, { epochs: 1, batchSize: N, verbose: 0 });
    expect(Object.keys(history.history).sort()).toEqual(['logitAccuracy', 'loss']);
    expect(history.history.logitAccuracy[0]).toBeGreaterThan(0);
    tf.dispose([x, y]);
    model.dispose();
  });
});
