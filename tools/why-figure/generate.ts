// The "why" figure, docs/images/why.svg: on a positive sample's logit z from -30 to 10, the loss and its
// gradient as tfjs-layers' 'binaryCrossentropy' computes them on sigmoid(z), as PyTorch's
// F.binary_cross_entropy_with_logits computes them (recorded by torch_values.py into torch_values.json),
// and as this library's binaryCrossEntropyWithLogits computes them.
//
//   npx tsx tools/why-figure/generate.ts      writes docs/images/why.svg (no torch needed)
//
// The SVG is written by hand (no plotting dependency) with fixed number formatting, so that running the
// script again gives the same bytes; __tests__/tools/whyFigure.test.ts checks that the committed file is
// what whyFigure() draws.
import * as tf from '@tensorflow/tfjs';
import { readFileSync, writeFileSync } from 'fs';
import { join } from 'path';
import { binaryCrossEntropyWithLogits } from '../../src/losses/binaryCrossEntropyWithLogits';

export const SVG_PATH = join(__dirname, '..', '..', 'docs', 'images', 'why.svg');
const TORCH_PATH = join(__dirname, 'torch_values.json');

/** The sweep: logits from START to STOP in steps of STEP (torch_values.py draws the same). */
const START = -30;
const STOP = 10;
const STEP = 0.25;

export interface Curve {
  loss: number[];
  gradient: number[];
}

export interface WhyCurves {
  z: number[];
  /** tfjs-layers' binaryCrossentropy (what `loss: 'binaryCrossentropy'` and tf.metrics.binaryCrossentropy compute) on sigmoid(z). */
  builtIn: Curve;
  /** PyTorch 1.13's F.binary_cross_entropy_with_logits, float32, from torch_values.json. */
  pytorch: Curve & { version: string };
  /** This library's binaryCrossEntropyWithLogits on z. */
  ours: Curve;
}

/** PyTorch's curve as torch_values.py recorded it; throws if it was recorded on another sweep. */
export function torchCurve(): Curve & { z: number[]; version: string } {
  const record = JSON.parse(readFileSync(TORCH_PATH, 'utf8')) as { torch: string; z: number[]; loss: number[]; gradient: number[] };
  const count = Math.round((STOP - START) / STEP) + 1;
  const expected = Array.from({ length: count }, (_, i) => START + i * STEP);
  if (record.z.length !== count || record.z.some((v, i) => v !== expected[i])) {
    throw new Error(`${TORCH_PATH} was recorded on another sweep: run /usr/bin/python3 tools/why-figure/torch_values.py`);
  }
  return { z: record.z, loss: record.loss, gradient: record.gradient, version: record.torch };
}

/** The loss of each logit and its derivative, for a target of 1, by tf.grad of the sum. */
function curveOf(loss: (z: tf.Tensor, y: tf.Tensor) => tf.Tensor, zValues: number[]): Curve {
  return tf.tidy(() => {
    const z = tf.tensor1d(zValues);
    const y = tf.onesLike(z);
    const values = loss(z, y);
    const gradient = tf.grad((v: tf.Tensor) => tf.sum(loss(v, y)))(z);
    return { loss: Array.from(values.dataSync()), gradient: Array.from(gradient.dataSync()) };
  });
}

/** The three curves, computed on the cpu backend (the backend this sets). */
export async function whyCurves(): Promise<WhyCurves> {
  if (!(await tf.setBackend('cpu'))) throw new Error('the tfjs cpu backend failed to initialise');
  const torch = torchCurve();
  // tfjs-layers' loss takes probabilities [batch, 1] and returns one loss per sample: a sigmoid head.
  const builtIn = curveOf((z, y) => tf.metrics.binaryCrossentropy(y.reshape([-1, 1]), tf.sigmoid(z).reshape([-1, 1])), torch.z);
  const ours = curveOf((z, y) => binaryCrossEntropyWithLogits(z, y, { reduction: 'none' }), torch.z);
  return { z: torch.z, builtIn, ours, pytorch: { loss: torch.loss, gradient: torch.gradient, version: torch.version } };
}

/** Where tfjs-layers' clip starts: sigmoid(z) = 1e-7, i.e. z = log(1e-7 / (1 - 1e-7)) = -16.118. */
export const CLIP_LOGIT = Math.log(1e-7 / (1 - 1e-7));

const WIDTH = 960;
const HEIGHT = 560;
const COLORS = {
  pytorch: '#f5b971',
  builtIn: '#c62828',
  ours: '#1a4f9c',
  clip: '#fbe3e1',
  text: '#1a1a1a',
  grid: '#e6e6e6',
  axis: '#555555',
};

interface Panel {
  left: number;
  top: number;
  width: number;
  height: number;
  yMin: number;
  yMax: number;
  yTicks: number[];
  yLabel: string;
  key: keyof Curve;
  /** A note on the built-in's flat segment, written just below it. */
  note: string;
  noteAt: number;
}

const fmt = (v: number) => v.toFixed(1);
const minus = (s: string) => s.replace('-', '\u2212');

function panelSvg(panel: Panel, curves: WhyCurves): string[] {
  const { left, top, width, height, yMin, yMax } = panel;
  const px = (z: number) => left + ((z - START) / (STOP - START)) * width;
  const py = (v: number) => top + ((yMax - v) / (yMax - yMin)) * height;
  const out: string[] = [];
  // The region where the built-in clips the probability, shaded.
  out.push(`<rect x="${fmt(left)}" y="${fmt(top)}" width="${fmt(px(CLIP_LOGIT) - left)}" height="${fmt(height)}" fill="${COLORS.clip}"/>`);
  for (const t of panel.yTicks) {
    const y = fmt(py(t));
    out.push(`<line x1="${left}" x2="${left + width}" y1="${y}" y2="${y}" stroke="${COLORS.grid}"/>`);
    out.push(`<text x="${left - 8}" y="${fmt(py(t) + 4)}" text-anchor="end">${minus(String(t))}</text>`);
  }
  for (let z = START; z <= STOP; z += 5) {
    const x = fmt(px(z));
    out.push(`<line x1="${x}" x2="${x}" y1="${top + height}" y2="${top + height + 5}" stroke="${COLORS.axis}"/>`);
    out.push(`<text x="${x}" y="${top + height + 20}" text-anchor="middle">${minus(String(z))}</text>`);
  }
  out.push(`<line x1="${left}" x2="${left}" y1="${top}" y2="${top + height}" stroke="${COLORS.axis}"/>`);
  out.push(`<line x1="${left}" x2="${left + width}" y1="${top + height}" y2="${top + height}" stroke="${COLORS.axis}"/>`);
  const clipX = fmt(px(CLIP_LOGIT));
  out.push(`<line x1="${clipX}" x2="${clipX}" y1="${top}" y2="${top + height}" stroke="${COLORS.builtIn}" stroke-dasharray="3 3"/>`);
  out.push(`<text x="${fmt(px(CLIP_LOGIT) + 5)}" y="${top + 16}" fill="${COLORS.builtIn}">\u03c3(z) = 1e\u22127</text>`);
  out.push(`<text x="${fmt(left + 6)}" y="${fmt(py(panel.noteAt) + 18)}" fill="${COLORS.builtIn}">${panel.note}</text>`);
  out.push(
    `<text x="${fmt(left + width / 2)}" y="${top + height + 40}" text-anchor="middle">logit z of a positive sample (target 1)</text>`,
  );
  const midY = fmt(top + height / 2);
  out.push(`<text x="${left - 44}" y="${midY}" text-anchor="middle" transform="rotate(-90 ${left - 44} ${midY})">${panel.yLabel}</text>`);
  const line = (values: number[], stroke: string, extra: string) =>
    `<polyline fill="none" stroke="${stroke}" ${extra} points="${values.map((v, i) => `${fmt(px(curves.z[i]))},${fmt(py(v))}`).join(' ')}"/>`;
  out.push(line(curves.pytorch[panel.key], COLORS.pytorch, 'stroke-width="8" stroke-linecap="round" stroke-linejoin="round"'));
  out.push(line(curves.builtIn[panel.key], COLORS.builtIn, 'stroke-width="2.5" stroke-linejoin="round"'));
  out.push(line(curves.ours[panel.key], COLORS.ours, 'stroke-width="2" stroke-dasharray="7 5"'));
  return out;
}

/** The SVG of the curves: two panels (loss, gradient), a title, a legend, on a white background. */
export function drawWhyFigure(curves: WhyCurves): string {
  const panelTop = 170;
  const panelHeight = 300;
  const panels: Panel[] = [
    {
      left: 80,
      top: panelTop,
      width: 370,
      height: panelHeight,
      yMin: 0,
      yMax: 32,
      yTicks: [0, 5, 10, 15, 20, 25, 30],
      yLabel: 'loss',
      key: 'loss',
      note: 'stuck at 16.12',
      noteAt: 16.12,
    },
    {
      left: 560,
      top: panelTop,
      width: 370,
      height: panelHeight,
      yMin: -1.1,
      yMax: 0.1,
      yTicks: [-1, -0.75, -0.5, -0.25, 0],
      yLabel: 'gradient \u2202loss/\u2202z',
      key: 'gradient',
      note: 'exactly 0',
      noteAt: 0,
    },
  ];
  const legend = [
    {
      color: COLORS.pytorch,
      extra: 'stroke-width="8" stroke-linecap="round"',
      label: `PyTorch ${curves.pytorch.version}: F.binary_cross_entropy_with_logits(z, 1)`,
    },
    {
      color: COLORS.ours,
      extra: 'stroke-width="2" stroke-dasharray="7 5"',
      label: 'tfjs-loss-adapter: binaryCrossEntropyWithLogits(z, 1), on top of PyTorch',
    },
    {
      color: COLORS.builtIn,
      extra: 'stroke-width="2.5"',
      label: "tfjs-layers: loss 'binaryCrossentropy' (tf.metrics.binaryCrossentropy) on sigmoid(z)",
    },
  ];
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="13" fill="${COLORS.text}">`,
    `<title>tfjs-layers binaryCrossentropy: zero gradient for confident mistakes, against PyTorch and tfjs-loss-adapter</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="34" text-anchor="middle" font-size="19" font-weight="bold">tfjs-layers' binaryCrossentropy stops learning from confident mistakes</text>`,
    `<text x="${WIDTH / 2}" y="58" text-anchor="middle">It clips the probability to [1e\u22127, 1 \u2212 1e\u22127]: once \u03c3(z) &lt; 1e\u22127 (z &lt; \u221216.12, shaded) its loss stays at 16.12 and its gradient is exactly 0.</text>`,
    `<text x="${WIDTH / 2}" y="78" text-anchor="middle">PyTorch's loss keeps growing and its gradient stays at \u22121; tfjs-loss-adapter's curves lie on PyTorch's.</text>`,
  ];
  legend.forEach((entry, i) => {
    const y = 108 + i * 20;
    out.push(`<line x1="200" x2="240" y1="${y}" y2="${y}" stroke="${entry.color}" ${entry.extra}/>`);
    out.push(`<text x="252" y="${y + 4}">${entry.label}</text>`);
  });
  for (const panel of panels) out.push(...panelSvg(panel, curves));
  out.push(
    `<text x="${WIDTH - 10}" y="${HEIGHT - 8}" text-anchor="end" font-size="11" fill="${COLORS.axis}">npx tsx tools/why-figure/generate.ts (tfjs cpu backend, float32)</text>`,
  );
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** The figure as committed in docs/images/why.svg. */
export async function whyFigure(): Promise<string> {
  return drawWhyFigure(await whyCurves());
}

/** max |a - b| / max(1, |b|) over two curves. */
export function maxRelativeDifference(a: number[], b: number[]): number {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.max(1, Math.abs(b[i]))));
}

async function main(): Promise<void> {
  const curves = await whyCurves();
  writeFileSync(SVG_PATH, drawWhyFigure(curves));
  const at = (z: number) => curves.z.indexOf(z);
  const row = (name: string, c: Curve, z: number) => `${name} loss ${c.loss[at(z)].toFixed(4)}, gradient ${c.gradient[at(z)].toFixed(4)}`;
  console.log(`wrote ${SVG_PATH}`);
  for (const z of [-20, -10, 0]) {
    console.log(`z = ${z}: ${row('tfjs-layers', curves.builtIn, z)}; ${row('PyTorch', curves.pytorch, z)}; ${row('ours', curves.ours, z)}`);
  }
  console.log(
    `ours against PyTorch: max difference ${maxRelativeDifference(curves.ours.loss, curves.pytorch.loss).toExponential(2)} (loss), ${maxRelativeDifference(curves.ours.gradient, curves.pytorch.gradient).toExponential(2)} (gradient), relative to max(1, |PyTorch|)`,
  );
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
