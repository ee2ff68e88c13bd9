// Half-float textures (WEBGL_FORCE_F16_TEXTURES, what many phones give): every loss and gradient must
// stay finite for logits in [-30, 30] at training shapes. Values are read with `await data()`.
import * as tf from '@tensorflow/tfjs';
import { binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, nllLoss } from 'tfjs-loss-adapter';

const CLASS_SHAPES = [
  [1024, 10],
  [4096, 1000],
  [65536, 2],
];
const BINARY_SIZE = 1 << 20;

/** [name, loss of logits] for each loss at each shape: the logits feed each loss as its input kind needs. */
function cases() {
  const list = [];
  for (const [n, c] of CLASS_SHAPES) {
    const labels = () => tf.randomUniform([n], 0, c, 'int32', 7);
    list.push([`crossEntropy [${n},${c}]`, [n, c], (z, y) => crossEntropy(z, y), labels]);
    list.push([`nllLoss [${n},${c}]`, [n, c], (z, y) => nllLoss(tf.logSoftmax(z), y), labels]);
  }
  const binaryLabels = () => tf.cast(tf.greater(tf.randomUniform([BINARY_SIZE], 0, 1, 'float32', 8), 0.5), 'float32');
  list.push([`binaryCrossEntropyWithLogits [${BINARY_SIZE}]`, [BINARY_SIZE], (z, y) => binaryCrossEntropyWithLogits(z, y), binaryLabels]);
  // Probabilities away from 0 and 1: at exactly 0 or 1 (σ(±30) in float32) PyTorch's BCE gradient is
  // (p - y)/1e-12, beyond half-float range, and the target's gradient is infinite by definition.
  list.push([
    `binaryCrossEntropy [${BINARY_SIZE}], probabilities σ(z/5)`,
    [BINARY_SIZE],
    (z, y) => binaryCrossEntropy(tf.sigmoid(tf.div(z, 5)), y),
    binaryLabels,
  ]);
  return list;
}

/** Each case's mean loss and its gradient, with whether every number is finite. */
export async function checkFiniteness() {
  const rows = [];
  for (const [name, shape, loss, makeLabels] of cases()) {
    const logits = tf.randomUniform(shape, -30, 30, 'float32', 9);
    const labels = makeLabels();
    const { value, grad } = tf.valueAndGrad((z) => loss(z, labels))(logits);
    const [v, g] = await Promise.all([value.data(), grad.data()]);
    const nonFinite = g.reduce((count, x) => count + (Number.isFinite(x) ? 0 : 1), 0);
    rows.push({ name, value: v[0], finite: Number.isFinite(v[0]) && nonFinite === 0, nonFiniteGradients: nonFinite });
    tf.dispose([logits, labels, value, grad]);
  }
  return rows;
}
