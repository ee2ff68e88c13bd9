import * as tf from '@tensorflow/tfjs';
import { LossInputError } from '../../src/core/errors';
import { BinaryAsTwoClass, categoricalCrossEntropyLoss } from '../../src/layers';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

/** Saves `model` to memory, as `model.save` hands it to an IOHandler: topology JSON and weight bytes. */
async function saveToMemory(model: tf.LayersModel, config?: tf.io.SaveConfig): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
    config,
  );
  if (saved === undefined) throw new Error('the save handler was not called');
  // Through JSON, as a file or localStorage would store the topology.
  return { ...saved, modelTopology: JSON.parse(JSON.stringify(saved.modelTopology)) };
}

function binaryModel(): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 5, activation: 'relu', inputShape: [3], kernelInitializer: tf.initializers.glorotNormal({ seed: 1 }) }),
      tf.layers.dense({
        units: 1,
        kernelInitializer: tf.initializers.glorotNormal({ seed: 2 }),
        biasInitializer: tf.initializers.constant({ value: 0.25 }),
      }),
      new BinaryAsTwoClass(),
    ],
  });
}

describeEachBackend('BinaryAsTwoClass layer', () => {
  it('turns the [batch, 1] logit into rows [0, z] and has no weights', () => {
    const model = binaryModel();
    const x = tf.tensor2d([
      [1, -2, 0.5],
      [0, 3, -1],
    ]);
    const [out, logit] = tf.tidy(() => {
      const headOnly = tf.sequential({ layers: model.layers.slice(0, 2) });
      return [(model.predict(x) as tf.Tensor).arraySync() as number[][], (headOnly.predict(x) as tf.Tensor).dataSync()];
    });
    expect(out).toEqual([
      [0, logit[0]],
      [0, logit[1]],
    ]);
    expect(model.layers[2].countParams()).toBe(0);
    expect(model.outputs[0].shape).toEqual([null, 2]);
    x.dispose();
    model.dispose();
  });

  it('refuses an input that is not [batch, 1], naming the layer and the shape', () => {
    const build = () => tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] }), new BinaryAsTwoClass()] });
    expect(build).toThrow(LossInputError);
    expect(build).toThrow(
      "BinaryAsTwoClass: argument 'inputShape' must be the output of a one-unit binary head, [batch, 1], got shape [null, 2]",
    );
  });

  it('is saved and loaded with the model (model.save, then tf.loadLayersModel): the same predictions', async () => {
    const model = binaryModel();
    model.compile({ optimizer: tf.train.sgd(0.1), loss: categoricalCrossEntropyLoss() });
    const x = tf.tensor2d([
      [1, -2, 0.5],
      [0, 3, -1],
      [2, 2, 2],
    ]);
    const oneHot = tf.tensor2d([
      [0, 1],
      [1, 0],
      [0, 1],
    ]);
    await model.fit(x, oneHot, { epochs: 3, verbose: 0 });
    const artifacts = await saveToMemory(model);
    expect(JSON.stringify(artifacts.modelTopology)).toContain('"class_name":"BinaryAsTwoClass"');

    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const predictions = (m: tf.LayersModel) => tf.tidy(() => Array.from((m.predict(x) as tf.Tensor).dataSync()));
    expect(loaded.layers[2]).toBeInstanceOf(BinaryAsTwoClass);
    expect(predictions(loaded)).toEqual(predictions(model));
    expectNoLeak(() => predictions(loaded));

    // The function loss is not part of the saved model: compile again before training.
    loaded.compile({ optimizer: tf.train.sgd(0.1), loss: categoricalCrossEntropyLoss() });
    await model.fit(x, oneHot, { epochs: 2, verbose: 0 });
    await loaded.fit(x, oneHot, { epochs: 2, verbose: 0 });
    expect(predictions(loaded)).toEqual(predictions(model));
    tf.dispose([x, oneHot]);
    model.dispose();
    loaded.dispose();
  });

  it('documents what tfjs-layers cannot keep: a function loss saved with includeOptimizer comes back as an empty loss, fixed by compiling again', async () => {
    const model = binaryModel();
    model.compile({ optimizer: tf.train.sgd(0.1), loss: categoricalCrossEntropyLoss() });
    const artifacts = await saveToMemory(model, { includeOptimizer: true });
    expect(artifacts.trainingConfig?.loss).toEqual({});

    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('is missing from loss dictionary'));
    warn.mockRestore();
    const x = tf.tensor2d([[1, -2, 0.5]]);
    const oneHot = tf.tensor2d([[0, 1]]);
    await expect(loaded.fit(x, oneHot, { epochs: 1, verbose: 0 })).rejects.toThrow('lossFunction is not a function');
    // Compiling again with the loaded optimizer keeps its configuration (and state, for stateful optimizers).
    loaded.compile({ optimizer: loaded.optimizer, loss: categoricalCrossEntropyLoss() });
    const history = await loaded.fit(x, oneHot, { epochs: 1, verbose: 0 });
    expect(Number.isFinite((history.history.loss as number[])[0])).toBe(true);
    tf.dispose([x, oneHot]);
    model.dispose();
    loaded.dispose();
  });
});
