import * as tf from '@tensorflow/tfjs';
import { classificationLoss } from '../../src/adapter';
import { describeEachBackend } from '../helpers/backends';

/**
 * Soak: 10,000 training steps (forward, backward and an Adam update of a small linear model) through
 * the adapter's `classificationLoss`, alternating a 3-class head, a binary head on the native
 * BCE-with-logits path and a binary head through `binaryAsTwoClass` (cross-entropy on `[0, z]`).
 * After the first steps (which create the optimizer's slots), `tf.memory()` must not move: a loss
 * that leaked one tensor per call would leave thousands behind. The time is printed, not asserted.
 */
const STEPS = Number(process.env.SOAK_STEPS ?? 10000);
const WARM_UP = 30;

describeEachBackend('soak: training through classificationLoss', (backend) => {
  it(`keeps numTensors and numBytes flat over ${STEPS} steps`, () => {
    const features = tf.tensor2d([
      [0.5, -1, 2, 0.1],
      [1.5, 0.3, -0.7, 1],
      [-2, 0.4, 0.9, -0.3],
      [0.2, 2, -1.2, 0.8],
      [1, 1, 1, -1],
      [-0.5, -0.5, 0.25, 2],
    ]);
    const classes = tf.tensor1d([0, 2, 1, 1, 0, 2], 'int32');
    const binary = tf.tensor1d([1, 0, 0, 1, 1, 0]);
    const multiclassWeights = tf.variable(tf.zeros([4, 3]));
    const binaryWeights = tf.variable(tf.zeros([4]));
    const bias = tf.variable(tf.zeros([3]));
    // One optimizer per head: tfjs' Adam keeps its moments by the position of each variable in the list it is given.
    const multiclassOptimizer = tf.train.adam(0.01);
    const binaryOptimizer = tf.train.adam(0.01);
    const step = (k: number): number => {
      const cost =
        k % 3 === 0
          ? multiclassOptimizer.minimize(
              () => classificationLoss(tf.add(tf.matMul(features, multiclassWeights), bias), classes, { labelSmoothing: 0.1 }) as tf.Scalar,
              true,
            )
          : binaryOptimizer.minimize(
              () => classificationLoss(tf.sum(tf.mul(features, binaryWeights), 1), binary, { binaryAsTwoClass: k % 3 === 2 }) as tf.Scalar,
              true,
            );
      const value = cost === null ? NaN : cost.dataSync()[0];
      cost?.dispose();
      return value;
    };
    const losses: number[] = [];
    for (let k = 0; k < WARM_UP; k++) losses.push(step(k));
    const start = tf.memory();
    const samples: Array<{ step: number; numTensors: number; numBytes: number }> = [];
    const began = Date.now();
    for (let k = WARM_UP; k < STEPS; k++) {
      losses.push(step(k));
      if ((k + 1) % 1000 === 0) samples.push({ step: k + 1, numTensors: tf.memory().numTensors, numBytes: tf.memory().numBytes });
    }
    const seconds = (Date.now() - began) / 1000;
    console.log(
      `soak [${backend}]: ${STEPS - WARM_UP} steps in ${seconds.toFixed(1)} s; numTensors ${start.numTensors}, numBytes ${start.numBytes} throughout`,
    );
    expect(samples.every((s) => s.numTensors === start.numTensors && s.numBytes === start.numBytes)).toBe(true);
    expect(samples).toHaveLength(Math.floor(STEPS / 1000) - Math.floor(WARM_UP / 1000));
    // The model trained: every loss finite, and the last 3-class loss below the first.
    expect(losses.every(Number.isFinite)).toBe(true);
    const lastMulticlassStep = STEPS - 1 - ((STEPS - 1) % 3);
    expect(losses[lastMulticlassStep]).toBeLessThan(losses[0]);
    tf.dispose([features, classes, binary, multiclassWeights, binaryWeights, bias]);
    multiclassOptimizer.dispose();
    binaryOptimizer.dispose();
  });
});
