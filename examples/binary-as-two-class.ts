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
 *
 * Then an imbalanced task (1 positive in 20) is trained with BCE and with focal loss, on both heads
 * (`imbalancedRun`): loss curves and minority-class recall in examples/output/imbalanced-focal.svg.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { binaryTargetsToTwoClassProbs } from '../src/adapter';
import {
  BinaryAsTwoClass,
  binaryCrossEntropyWithLogitsLoss,
  binaryFocalLoss,
  categoricalCrossEntropyLoss,
  categoricalFocalLoss,
  LayersLoss,
} from '../src/layers';

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

/**
 * Full-batch SGD through `model.fit`: one step per epoch, no shuffling, so that runs are comparable step
 * by step. `fit` passes on `classWeight`, and `afterStep` is called after each step.
 */
async function train(
  model: tf.LayersModel,
  x: tf.Tensor,
  labels: tf.Tensor,
  loss: LayersLoss,
  {
    epochs = EPOCHS,
    optimizer = tf.train.sgd(LEARNING_RATE),
    classWeight,
    afterStep,
  }: { epochs?: number; optimizer?: tf.Optimizer; classWeight?: tf.ClassWeight; afterStep?: () => void } = {},
): Promise<number[]> {
  model.compile({ optimizer, loss });
  const onEpochEnd = afterStep && (async () => afterStep());
  const history = await model.fit(x, labels, {
    epochs,
    batchSize: SAMPLES,
    shuffle: false,
    verbose: 0,
    classWeight,
    callbacks: { onEpochEnd },
  });
  return history.history.loss as number[];
}

function maxAbsDifference(a: tf.Tensor[], b: tf.Tensor[]): number {
  return tf.tidy(() => Math.max(...a.map((w, k) => tf.max(tf.abs(tf.sub(w, b[k]))).dataSync()[0])));
}

function accuracy(predicted: tf.Tensor, truth: tf.Tensor): number {
  return tf.tidy(() => tf.mean(tf.cast(tf.equal(predicted, truth), 'float32')).dataSync()[0]);
}

/** A curve of a chart: one value per step; `dashed` curves are drawn over the others. */
interface Curve {
  label: string;
  color: string;
  values: number[];
  dashed?: boolean;
}

/** A panel of a chart: its title, y-axis label and range [0, yMax], and its curves. */
interface Panel {
  title?: string;
  yLabel: string;
  yMax: number;
  curves: Curve[];
}

/** A hand-written SVG line chart: panels side by side over the same steps, one legend on the right. */
function svgChart(panels: Panel[], steps: number): string {
  const [panelWidth, height, left, gap, legendWidth, top, bottom] = [450, 360, 56, 80, 230, 36, 44];
  const width = left + panels.length * panelWidth + (panels.length - 1) * gap + legendWidth;
  const plotWidth = panelWidth - 10;
  const dash = (c: Curve) => `stroke-width="${c.dashed ? 2 : 4}"${c.dashed ? ' stroke-dasharray="6 4"' : ''}`;
  const lines = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  panels.forEach((panel, k) => {
    const x0 = left + k * (panelWidth + gap);
    const px = (step: number) => x0 + (step / (steps - 1)) * plotWidth;
    const py = (v: number) => top + (1 - v / panel.yMax) * (height - top - bottom);
    const middle = (top + height - bottom) / 2;
    lines.push(
      ...[0, 0.25, 0.5, 0.75, 1].map((f) => {
        const y = py(f * panel.yMax).toFixed(1);
        return `<line x1="${x0}" x2="${x0 + plotWidth}" y1="${y}" y2="${y}" stroke="#e5e5e5"/><text x="${x0 - 6}" y="${(Number(y) + 4).toFixed(1)}" text-anchor="end">${(f * panel.yMax).toFixed(2)}</text>`;
      }),
      `<line x1="${x0}" x2="${x0}" y1="${top}" y2="${height - bottom}" stroke="#444"/>`,
      `<line x1="${x0}" x2="${x0 + plotWidth}" y1="${height - bottom}" y2="${height - bottom}" stroke="#444"/>`,
      ...[0, 0.2, 0.4, 0.6, 0.8, 1].map((f) => {
        const step = Math.round(f * (steps - 1));
        return `<text x="${px(step).toFixed(1)}" y="${height - bottom + 16}" text-anchor="middle">${step + 1}</text>`;
      }),
      `<text x="${x0 + plotWidth / 2}" y="${height - 8}" text-anchor="middle">training step (full batch)</text>`,
      `<text x="${x0 - 42}" y="${middle}" text-anchor="middle" transform="rotate(-90 ${x0 - 42} ${middle})">${panel.yLabel}</text>`,
      ...(panel.title === undefined
        ? []
        : [`<text x="${x0 + plotWidth / 2}" y="20" text-anchor="middle" font-weight="bold">${panel.title}</text>`]),
      ...panel.curves.map((c) => {
        const points = c.values.map((v, e) => `${px(e).toFixed(1)},${py(v).toFixed(1)}`).join(' ');
        return `<polyline fill="none" stroke="${c.color}" ${dash(c)} points="${points}"/>`;
      }),
    );
  });
  const legend = panels[0].curves;
  lines.push(
    ...legend.map((c, k) => {
      const y = top + 14 + 22 * k;
      const x = width - legendWidth + 14;
      return `<line x1="${x}" x2="${x + 24}" y1="${y - 4}" y2="${y - 4}" stroke="${c.color}" ${dash(c)}/><text x="${x + 30}" y="${y}">${c.label}</text>`;
    }),
    '</svg>',
  );
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
    svgChart(
      [
        {
          yLabel: 'training loss',
          yMax: Math.max(...curveA, ...curveB, ...curveC),
          curves: [
            { label: '(a) BCE with logits', color: '#1f77b4', values: curveA },
            { label: '(b) two-class CE', color: '#ff7f0e', values: curveB, dashed: true },
            { label: 'three-class CE', color: '#2ca02c', values: curveC },
          ],
        },
      ],
      EPOCHS,
    ),
  );
  console.log(`loss curves written to ${path.relative(process.cwd(), output)}`);
  tf.dispose([x, y, twoClassLabels, classes, threeClassLabels]);
}

const FOCAL_EPOCHS = 150;
const FOCAL_LEARNING_RATE = 0.01;
const ALPHA = 0.75;
const GAMMA = 2;

/**
 * An imbalanced task, 1 positive in 20 (the points farthest along x0 + x1²/2), trained with BCE and with
 * focal loss (α = ALPHA on the positives, γ = GAMMA), by Adam at the same learning rate, on the one-logit
 * head and on its two-class form:
 *
 *   binary head:     binaryCrossEntropyWithLogitsLoss               binaryFocalLoss({alpha, gamma})
 *   two-class head:  categoricalCrossEntropyLoss                    categoricalFocalLoss({gamma}), fit's classWeight {0: 1-α, 1: α}
 *
 * Each pair is the same run (the focal identity), so the two panels of the chart agree; in each, focal
 * loss finds more of the rare positives (recall) than BCE in the same number of steps (with a larger
 * learning rate BCE catches up: focal loss changes how fast the rare class is learnt, here).
 */
async function imbalancedRun(): Promise<void> {
  const x = tf.randomNormal([SAMPLES, 2], 0, 1, 'float32', 11);
  const y = tf.tidy(() => {
    const [x0, x1] = tf.split(x, 2, 1);
    const score = tf.add(x0, tf.div(tf.square(x1), 2));
    const threshold = tf.topk(tf.reshape(score, [SAMPLES]), Math.round(SAMPLES / 20)).values.min();
    return tf.cast(tf.greaterEqual(score, threshold), 'float32');
  });
  const twoClassLabels = binaryTargetsToTwoClassProbs(y);
  const positives = tf.tidy(() => tf.reshape(tf.cast(y, 'bool'), [SAMPLES]));
  const positiveCount = tf.tidy(() => tf.sum(y).dataSync()[0]);
  /** The fraction of the positives that the model classifies as positive. */
  const recall = (predicted: tf.Tensor) =>
    tf.tidy(() => tf.sum(tf.cast(tf.logicalAnd(tf.reshape(predicted, [SAMPLES]), positives), 'float32')).dataSync()[0] / positiveCount);

  const runs = [
    { head: 'binary', name: 'BCE', loss: binaryCrossEntropyWithLogitsLoss() },
    { head: 'binary', name: 'focal', loss: binaryFocalLoss({ alpha: ALPHA, gamma: GAMMA }) },
    { head: 'two-class', name: 'BCE', loss: categoricalCrossEntropyLoss() },
    { head: 'two-class', name: 'focal', loss: categoricalFocalLoss({ gamma: GAMMA }), classWeight: { 0: 1 - ALPHA, 1: ALPHA } },
  ];
  const initial = network(1).getWeights();
  const results: Array<(typeof runs)[number] & { curve: number[]; recalls: number[] }> = [];
  for (const run of runs) {
    const twoClass = run.head === 'two-class';
    const model = network(1, twoClass ? [new BinaryAsTwoClass()] : []);
    model.setWeights(initial);
    const predictPositive = () =>
      tf.tidy(() => {
        const output = model.predict(x) as tf.Tensor;
        return twoClass ? tf.cast(tf.argMax(output, 1), 'bool') : tf.greater(output, 0);
      });
    const recalls: number[] = [];
    const curve = await train(model, x, twoClass ? twoClassLabels : y, run.loss, {
      epochs: FOCAL_EPOCHS,
      optimizer: tf.train.adam(FOCAL_LEARNING_RATE),
      classWeight: run.classWeight,
      afterStep: () => recalls.push(tf.tidy(() => recall(predictPositive()))),
    });
    results.push({ ...run, curve, recalls });
    model.dispose();
  }

  console.log(`\nimbalanced task: ${positiveCount} positives in ${SAMPLES}; alpha ${ALPHA}, gamma ${GAMMA}, ${FOCAL_EPOCHS} Adam steps`);
  for (const r of results) {
    console.log(
      `${r.head.padEnd(10)} ${r.name.padEnd(6)} loss ${r.curve[0].toFixed(5)} -> ${r.curve[FOCAL_EPOCHS - 1].toFixed(5)}   minority recall ${r.recalls[FOCAL_EPOCHS - 1].toFixed(3)}`,
    );
  }
  for (const name of ['BCE', 'focal']) {
    const [binary, twoClass] = ['binary', 'two-class'].map((head) => results.find((r) => r.head === head && r.name === name)!);
    const difference = Math.max(...binary.curve.map((v, k) => Math.abs(v - twoClass.curve[k])));
    console.log(`${name}: max |loss (binary head) - loss (two-class head)| over ${FOCAL_EPOCHS} steps: ${difference.toExponential(2)}`);
  }

  const COLORS = { BCE: '#1f77b4', focal: '#d62728' };
  const panel = (head: string): Panel => ({
    title: `${head} head`,
    yLabel: 'loss / first loss, and minority recall',
    yMax: 1,
    curves: results
      .filter((r) => r.head === head)
      .flatMap((r) => [
        { label: `${r.name} loss / first loss`, color: COLORS[r.name as keyof typeof COLORS], values: r.curve.map((v) => v / r.curve[0]) },
        { label: `${r.name} minority recall`, color: COLORS[r.name as keyof typeof COLORS], values: r.recalls, dashed: true },
      ]),
  });
  const output = path.join(__dirname, 'output', 'imbalanced-focal.svg');
  fs.writeFileSync(output, svgChart([panel('binary'), panel('two-class')], FOCAL_EPOCHS));
  console.log(`loss and recall curves written to ${path.relative(process.cwd(), output)}`);
  tf.dispose([x, y, twoClassLabels, positives, initial]);
}

main()
  .then(imbalancedRun)
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
