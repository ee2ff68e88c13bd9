/**
 * One training pipeline for binary and multiclass heads: `npm run example`.
 *
 * A small synthetic binary task (is a 2-D point above the parabola x1 = 0.5 - x0²?) is learnt by one
 * network twice, from the same initial weights with the same SGD optimizer:
 *
 *   (a) one-logit head,                   loss binaryCrossEntropyWithLogitsLoss, labels y
 *   (b) the same head + BinaryAsTwoClass,  loss categoricalCrossEntropyLoss,     labels [1 - y, y]
 *
 * Because BCEWithLogits(z, y) = CE([0, z], y) in value and gradient, the two runs are the same run: the
 * loss curves and the final weights agree to float32 rounding. Then a three-class model is trained by
 * the very same function and loss as (b). The curves are printed side by side and drawn as an SVG in
 * examples/output/.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { binaryTargetsToTwoClassProbs } from '../src/adapter';
import { BinaryAsTwoClass, binaryCrossEntropyWithLogitsLoss, categoricalCrossEntropyLoss, LayersLoss } from '../src/layers';

const SAMPLES = 256;
const EPOCHS = 60;
const LEARNING_RATE = 0.5;

/** dense(16, tanh) then a logit head of `units` (and the `after` layers), with seeded initial weights. */
function network(units: number, after: tf.layers.Layer[] = []): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.dense({ units: 16, activation: 'tanh', inputShape: [2], kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.dense({ units, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      ...after,
    ],
  });
}

/** Full-batch SGD through `model.fit`: one step per epoch, no shuffling, so that runs are comparable step by step. */
async function train(model: tf.LayersModel, x: tf.Tensor, labels: tf.Tensor, loss: LayersLoss): Promise<number[]> {
  model.compile({ optimizer: tf.train.sgd(LEARNING_RATE), loss });
  const history = await model.fit(x, labels, { epochs: EPOCHS, batchSize: SAMPLES, shuffle: false, verbose: 0 });
  return history.history.loss as number[];
}

function maxAbsDifference(a: tf.Tensor[], b: tf.Tensor[]): number {
  return tf.tidy(() => Math.max(...a.map((w, k) => tf.max(tf.abs(tf.sub(w, b[k]))).dataSync()[0])));
}

function accuracy(predicted: tf.Tensor, truth: tf.Tensor): number {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(predicted, truth), 'float32')).dataSync()[0]);
}

/** A hand-written SVG line chart of the loss curves; `dashed` curves are drawn over the others. */
function lossChart(curves: Array<{ label: string; color: string; values: number[]; dashed?: boolean }>): string {
  const [width, height, left, right, top, bottom] = [640, 360, 56, 190, 24, 44];
  const maxLoss = Math.max(...curves.flatMap((c) => c.values));
  const px = (epoch: number) => left + (epoch / (EPOCHS - 1)) * (width - left - right);
  const py = (loss: number) => top + (1 - loss / maxLoss) * (height - top - bottom);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * maxLoss);
  const lines = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    ...ticks.map(
      (t) =>
        `<line x1="${left}" x2="${width - right}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#e5e5e5"/><text x="${left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${t.toFixed(2)}</text>`,
    ),
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${height - bottom}" stroke="#444"/>`,
    `<line x1="${left}" x2="${width - right}" y1="${height - bottom}" y2="${height - bottom}" stroke="#444"/>`,
    ...[0, 10, 20, 30, 40, 50, EPOCHS - 1].map(
      (e) => `<text x="${px(e).toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle">${e + 1}</text>`,
    ),
    `<text x="${(left + width - right) / 2}" y="${height - 8}" text-anchor="middle">SGD step (full batch)</text>`,
    `<text x="14" y="${(top + height - bottom) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(top + height - bottom) / 2})">training loss</text>`,
    ...curves.map((c) => {
      const points = c.values.map((v, e) => `${px(e).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${c.color}" stroke-width="${c.dashed ? 2 : 4}"${c.dashed ? ' stroke-dasharray="6 4"' : ''} points="${points}"/>`;
    }),
    ...curves.map((c, k) => {
      const y = top + 14 + 22 * k;
      const x = width - right + 14;
      return `<line x1="${x}" x2="${x + 24}" y1="${y - 4}" y2="${y - 4}" stroke="${c.color}" stroke-width="${c.dashed ? 2 : 4}"${c.dashed ? ' stroke-dasharray="6 4"' : ''}/><text x="${x + 30}" y="${y}">${c.label}</text>`;
    }),
    '</svg>',
  ];
  return lines.join('\n') + '\n';
}

async function main(): Promise<void> {
  tf.enableProdMode();
  await tf.setBackend('cpu');

  // The binary task: labels are 0/1 floats of shape [N, 1], as fit passes them.
  const x = tf.randomNormal([SAMPLES, 2], 0, 1, 'float32', 7);
  const y = tf.tidy(() => {
    const [x0, x1] = tf.split(x, 2, 1);
    return tf.cast(tf.greater(tf.add(tf.square(x0), x1), 0.5), 'float32');
  });

  // (a) and (b): the same network and initial weights; (b) adds the weightless BinaryAsTwoClass layer.
  const binary = network(1);
  const twoClass = network(1, [new BinaryAsTwoClass()]);
  twoClass.setWeights(binary.getWeights());
  const twoClassLoss = categoricalCrossEntropyLoss();
  const curveA = await train(binary, x, y, binaryCrossEntropyWithLogitsLoss());
  const twoClassLabels = binaryTargetsToTwoClassProbs(y);
  const curveB = await train(twoClass, x, twoClassLabels, twoClassLoss);

  // A three-class task through the same function and the same loss as (b): which third of the plane?
  const classes = tf.tidy(() => {
    const [x0, x1] = tf.split(x, 2, 1);
    const angle = tf.atan2(x1, x0); // (-π, π]
    return tf
      .cast(tf.floor(tf.div(tf.add(angle, Math.PI), (2 * Math.PI) / 3)), 'int32')
      .reshape([SAMPLES])
      .clipByValue(0, 2);
  });
  const threeClass = network(3);
  const threeClassLabels = tf.oneHot(classes, 3).toFloat();
  const curveC = await train(threeClass, x, threeClassLabels, twoClassLoss);

  console.log('step   (a) one logit + BCE-with-logits   (b) + BinaryAsTwoClass + cross-entropy   |(a)-(b)|     three-class CE');
  for (const epoch of [0, 1, 2, 4, 9, 19, 29, 39, 49, EPOCHS - 1]) {
    const row = [
      String(epoch + 1).padStart(4),
      curveA[epoch].toFixed(7).padStart(20),
      curveB[epoch].toFixed(7).padStart(40),
      Math.abs(curveA[epoch] - curveB[epoch])
        .toExponential(1)
        .padStart(15),
      curveC[epoch].toFixed(7).padStart(18),
    ];
    console.log(row.join(''));
  }
  const curveDifference = Math.max(...curveA.map((v, k) => Math.abs(v - curveB[k])));
  const weightDifference = maxAbsDifference(binary.getWeights(), twoClass.getWeights());
  const largestWeight = tf.tidy(() => Math.max(...binary.getWeights().map((w) => tf.max(tf.abs(w)).dataSync()[0])));
  console.log(`\nmax |loss (a) - loss (b)| over ${EPOCHS} steps: ${curveDifference.toExponential(2)}`);
  console.log(
    `max |weight (a) - weight (b)| after ${EPOCHS} steps: ${weightDifference.toExponential(2)} (largest weight ${largestWeight.toFixed(3)}; float32 spacing there ${(2 ** (Math.floor(Math.log2(largestWeight)) - 23)).toExponential(2)})`,
  );

  const [accuracyA, accuracyB, accuracyC] = tf.tidy(() => [
    accuracy(tf.greater(binary.predict(x) as tf.Tensor, 0), tf.cast(y, 'bool')),
    accuracy(tf.argMax(twoClass.predict(x) as tf.Tensor, 1), tf.cast(tf.reshape(y, [SAMPLES]), 'int32')),
    accuracy(tf.argMax(threeClass.predict(x) as tf.Tensor, 1), classes),
  ]);
  console.log(`training accuracy: (a) ${accuracyA.toFixed(3)}, (b) ${accuracyB.toFixed(3)}, three-class ${accuracyC.toFixed(3)}`);

  const output = path.join(__dirname, 'output', 'binary-as-two-class.svg');
  fs.mkdirSync(path.dirname(output), { recursive: true });
  fs.writeFileSync(
    output,
    lossChart([
      { label: '(a) BCE with logits', color: '#1f77b4', values: curveA },
      { label: '(b) two-class CE', color: '#ff7f0e', values: curveB, dashed: true },
      { label: 'three-class CE', color: '#2ca02c', values: curveC },
    ]),
  );
  console.log(`loss curves written to ${path.relative(process.cwd(), output)}`);
  tf.dispose([x, y, twoClassLabels, classes, threeClassLabels]);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
