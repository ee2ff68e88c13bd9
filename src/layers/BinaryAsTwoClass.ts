import * as tf from '@tensorflow/tfjs-core';
import { layers } from '@tensorflow/tfjs-layers';
import { LossInputError } from '../core/errors';
import { binaryToTwoClassLogits } from '../adapter/twoClass';

type LayerArgs = ConstructorParameters<typeof layers.Layer>[0];
/** A layer's input or output shape as tfjs-layers gives it: `null` for the batch dimension. */
export type Shape = Array<number | null>;

/**
 * A layer that turns the logit of a one-unit binary head (`[batch, 1]`) into two-class logits
 * `[batch, 2]`, rows `[0, z]`: `binaryToTwoClassLogits` as a layer. It has no weights. Put it after a
 * `dense({units: 1})` head to train that head with a cross-entropy loss (`categoricalCrossEntropyLoss`
 * with `fit`'s one-hot labels, or `sparseCategoricalCrossEntropyLoss` with class indices through
 * `fitDataset`) exactly as with binary cross-entropy with logits, and to read `softmax` probabilities
 * for both classes.
 *
 * Registered for serialization under the class name `BinaryAsTwoClass`: a model that contains it can be
 * saved and loaded with `tf.loadLayersModel` once this module has been imported.
 *
 * ```js
 * const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4] }), new BinaryAsTwoClass()] });
 * const logits = model.predict(tf.ones([2, 4]));
 * console.log(JSON.stringify(logits.shape), logits.arraySync()[0][0]); // => [2,2] 0
 * ```
 */
export class BinaryAsTwoClass extends layers.Layer {
  static readonly className = 'BinaryAsTwoClass';

  constructor(args: LayerArgs = {}) {
    super(args);
  }

  computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const shape = inputShape as Shape;
    if (Array.isArray(shape[0]) || shape.length !== 2 || shape[1] !== 1) {
      const given = Array.isArray(shape[0])
        ? `${shape.length} inputs`
        : `shape [${shape.map((d) => (d === null ? 'null' : d)).join(', ')}]`;
      throw new LossInputError('BinaryAsTwoClass', 'inputShape', 'the output of a one-unit binary head, [batch, 1]', given);
    }
    return [shape[0], 2];
  }

  call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    if (Array.isArray(inputs) && inputs.length !== 1) {
      throw new LossInputError('BinaryAsTwoClass', 'inputs', 'one tensor of shape [batch, 1]', `${inputs.length} tensors`);
    }
    const z = Array.isArray(inputs) ? inputs[0] : inputs;
    this.computeOutputShape(z.shape);
    return binaryToTwoClassLogits(z);
  }
}

tf.serialization.registerClass(BinaryAsTwoClass);
