import * as tf from '@tensorflow/tfjs';
import { binaryCrossEntropy } from '../../src/losses/binaryCrossEntropy';
import { binaryCrossEntropyWithLogits } from '../../src/losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss } from '../../src/losses/modules';
import { nllLoss } from '../../src/losses/nllLoss';
import { describeEachBackend } from '../helpers/backends';

describeEachBackend('torch.nn-style loss modules', () => {
  it('forward(input, target) is the functional loss with the constructor options bound', () => {
    tf.tidy(() => {
      const logits = tf.tensor2d([
        [2, 0, -1],
        [0.5, 1.5, 0],
      ]);
      const probabilities = tf.sigmoid(logits);
      const binaryTarget = tf.tensor2d([
        [1, 0, 1],
        [0, 0, 1],
      ]);
      const pairs: Array<[tf.Tensor, tf.Tensor]> = [
        [
          new CrossEntropyLoss({ labelSmoothing: 0.2, reduction: 'sum' }).forward(logits, [2, 1]),
          crossEntropy(logits, [2, 1], { labelSmoothing: 0.2, reduction: 'sum' }),
        ],
        [
          new NLLLoss({ weight: [1, 2, 3] }).forward(tf.logSoftmax(logits), [2, 1]),
          nllLoss(tf.logSoftmax(logits), [2, 1], { weight: [1, 2, 3] }),
        ],
        [
          new BCELoss({ reduction: 'none' }).forward(probabilities, binaryTarget),
          binaryCrossEntropy(probabilities, binaryTarget, { reduction: 'none' }),
        ],
        [
          new BCEWithLogitsLoss({ posWeight: [1, 2, 3] }).forward(logits, binaryTarget),
          binaryCrossEntropyWithLogits(logits, binaryTarget, { posWeight: [1, 2, 3] }),
        ],
        [new CrossEntropyLoss().forward(logits, [2, 1]), crossEntropy(logits, [2, 1])],
      ];
      for (const [fromModule, fromFunction] of pairs) {
        expect(fromModule.shape).toEqual(fromFunction.shape);
        expect(Array.from(fromModule.dataSync())).toEqual(Array.from(fromFunction.dataSync()));
      }
    });
  });
});
