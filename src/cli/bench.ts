import { spawnSync } from 'child_process';
import { existsSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs-core';
import { binaryToTwoClassLogits } from '../adapter/twoClass';
import { setKernelPath, getKernelPath } from '../kernels/dispatch';
import { binaryCrossEntropyWithLogits } from '../losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../losses/crossEntropy';
import { klDivergence } from '../losses/klDivergence';
import { sigmoidFocalLoss } from '../losses/sigmoidFocalLoss';
import { softmaxFocalLoss } from '../losses/softmaxFocalLoss';
import { seededRandom } from '../check/random';
import { Command, oneOf, switchOption, text, valueOption } from './args';
import { KNOWN_BACKENDS, loadBackends, selectBackends } from './backends';

/**
 * `tfjs-loss-adapter bench`: forward + backward (value and gradient of the logits through
 * `tf.valueAndGrad`, every tensor disposed) of our losses against tfjs' built-ins, tfjs-layers' losses
 * and PyTorch (one thread), on each backend asked for, all JavaScript timings in this one process.
 *
 * Each implementation of a case is warmed up, then timed in interleaved rounds (one run of each per
 * round, so that a change in machine load hits all of them alike) until it has its repeats; the table
 * gives medians. The inputs are made once, outside the timed region: that includes the one-hot labels
 * the built-in needs (so it is not charged for making them) and the probabilities tfjs-layers' losses
 * take are computed inside (a model with logits must do that softmax or sigmoid).
 */

export interface BenchOptions {
  /** tfjs backends to time on, each already registered (e.g. by `loadBackends`). */
  backends: string[];
  /** Smoke test: the small shapes only, one warm-up, three repeats. */
  quick?: boolean;
  /** Time PyTorch through `/usr/bin/python3` (default true; skipped with a note when it has no torch). */
  torch?: boolean;
  /** The Python with torch. Default `/usr/bin/python3`. */
  python?: string;
  /** Milliseconds of timed runs per implementation and case (default 2000, quick 200); repeats are 3 to 50 within it. */
  budgetMs?: number;
  /** Only the cases whose name contains this, e.g. `[4096,1000]` or `BCE`. */
  only?: string;
  /** Progress lines (one per case), e.g. to stderr. */
  log?: (line: string) => void;
}

/** One implementation's numbers on one case. */
export interface BenchTiming {
  /** Median milliseconds of one forward + backward. */
  medianMs: number;
  repeats: number;
  /**
   * Peak bytes of live tensors during forward + backward, less those alive before (the inputs),
   * divided by the bytes of the logits: the memory the loss costs, gradient included.
   */
  peakOverLogits: number;
}

export interface BenchRow {
  backend: string;
  /** e.g. `softmax CE [4096,1000]`. */
  case: string;
  kind: 'softmax-ce' | 'bce-with-logits' | 'binary-as-two-class' | 'sigmoid-focal' | 'softmax-focal' | 'kl-div';
  shape: number[];
  /** Our loss on the path `setKernelPath('auto')` picks for this backend. */
  ours: BenchTiming;
  /** Our composite (device) path, timed on this backend for comparison; null when the losses do not route to it. */
  oursComposite: BenchTiming | null;
  builtin: BenchTiming;
  /** tfjs-layers' loss (null when it has no counterpart or is not installed). */
  layers: BenchTiming | null;
  /** PyTorch median ms, 1 thread (null when skipped). */
  torchMs: number | null;
  /** builtin.medianMs / ours.medianMs: above 1, ours is faster. */
  builtinOverOurs: number;
  /** torchMs / ours.medianMs: above 1, ours is faster; null when PyTorch was skipped. */
  torchOverOurs: number | null;
}

export interface BenchReport {
  machine: {
    cpu: string;
    cores: number;
    memoryGiB: number;
    platform: string;
    node: string;
    tfjs: string;
    loadAverageStart: number[];
    loadAverageEnd: number[];
  };
  torch: { version: string; threads: number } | { skipped: string };
  quick: boolean;
  rows: BenchRow[];
  notes: string[];
}

interface BenchCase {
  name: string;
  kind: BenchRow['kind'];
  shape: number[];
  /** The case as bench/torch_bench.py reads it. */
  torch: { kind: 'ce' | 'bce' | 'two-class' | 'sigmoid-focal' | 'softmax-focal' | 'kl-div'; shape: number[] };
}

function cases(quick: boolean): BenchCase[] {
  const ce = (n: number, c: number): BenchCase => ({
    name: `softmax CE [${n},${c}]`,
    kind: 'softmax-ce',
    shape: [n, c],
    torch: { kind: 'ce', shape: [n, c] },
  });
  const bce = (n: number): BenchCase => ({
    name: `BCE-with-logits [${n}]`,
    kind: 'bce-with-logits',
    shape: [n],
    torch: { kind: 'bce', shape: [n] },
  });
  const twoClass = (n: number): BenchCase => ({
    name: `binary as two-class [${n}]→[${n},2]`,
    kind: 'binary-as-two-class',
    shape: [n],
    torch: { kind: 'two-class', shape: [n] },
  });
  const other = (kind: 'sigmoid-focal' | 'softmax-focal' | 'kl-div', label: string, shape: number[]): BenchCase => ({
    name: `${label} [${shape.join(',')}]`,
    kind,
    shape,
    torch: { kind, shape },
  });
  const newer = [
    other('sigmoid-focal', 'sigmoid focal', [65536]),
    other('softmax-focal', 'softmax focal', [4096, 100]),
    other('kl-div', 'KL batchmean', [4096, 100]),
  ];
  if (quick) return [ce(1024, 10), bce(65536), twoClass(65536)];
  return [
    ce(1024, 10),
    ce(4096, 1000),
    ce(16384, 100),
    ce(65536, 2),
    bce(65536),
    bce(1048576),
    twoClass(65536),
    twoClass(1048576),
    ...newer,
  ];
}

/** Seeded uniform numbers in [0, 1): the same inputs on every backend and run. */
const uniformStream = (seed: number): (() => number) => seededRandom(seed).uniform;

interface Inputs {
  logits: tf.Tensor;
  labels: tf.Tensor; // int32 class indices ([N]) for CE, softmax focal and two-class; float {0, 1} targets for BCE and sigmoid focal; probabilities for KL
  extra: tf.Tensor[]; // what the built-ins need made in advance: one-hot labels
}

/** One forward + backward: returns the tensors it made (value and gradient), for the caller to dispose. */
type Step = () => tf.Tensor[];

function valueAndGradient(loss: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): Step {
  const f = tf.valueAndGrad((z: tf.Tensor) => loss(z) as tf.Scalar);
  return () => {
    const { value, grad } = f(x);
    return [value, grad];
  };
}

/** `tf.losses` and `tf.metrics` of the union package, present when @tensorflow/tfjs (and so tfjs-layers) is loaded. */
interface UnionApi {
  losses: {
    softmaxCrossEntropy(onehotLabels: tf.Tensor, logits: tf.Tensor): tf.Tensor;
    sigmoidCrossEntropy(
      multiClassLabels: tf.Tensor,
      logits: tf.Tensor,
      weights?: tf.Tensor,
      labelSmoothing?: number,
      reduction?: tf.Reduction,
    ): tf.Tensor;
  };
  metrics?: {
    categoricalCrossentropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor;
    binaryCrossentropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor;
  };
}

function unionApi(): UnionApi {
  // The built-in losses live in tfjs-core (tf.losses); tfjs-layers' in the union package's tf.metrics.
  const core = tf as unknown as UnionApi;
  try {
    const union = require('@tensorflow/tfjs') as UnionApi;
    return { losses: core.losses, metrics: union.metrics };
  } catch {
    return { losses: core.losses };
  }
}

function makeInputs(c: BenchCase): Inputs {
  const next = uniformStream(1);
  const n = c.shape[0];
  const size = c.shape.reduce((a, b) => a * b, 1);
  const logits = tf.tensor(
    Float32Array.from({ length: size }, () => (next() * 2 - 1) * 5),
    c.shape,
  );
  if (c.kind === 'kl-div') {
    // Log-probabilities as the input, a distribution per row as the target.
    const logProbabilities = tf.tidy(() => tf.logSoftmax(logits));
    const target = tf.tidy(() =>
      tf.softmax(
        tf.tensor(
          Float32Array.from({ length: size }, () => (next() * 2 - 1) * 3),
          c.shape,
        ),
      ),
    );
    logits.dispose();
    return { logits: logProbabilities, labels: target, extra: [] };
  }
  if (c.kind === 'softmax-ce' || c.kind === 'softmax-focal') {
    const classes = c.shape[1];
    const labels = tf.tensor1d(
      Int32Array.from({ length: n }, () => Math.floor(next() * classes)),
      'int32',
    );
    return { logits, labels, extra: [tf.tidy(() => tf.cast(tf.oneHot(labels, classes), 'float32'))] };
  }
  const bits = Int32Array.from({ length: n }, () => (next() < 0.5 ? 0 : 1));
  if (c.kind === 'bce-with-logits' || c.kind === 'sigmoid-focal') {
    const labels = tf.tensor1d(Float32Array.from(bits), 'float32');
    return { logits, labels, extra: [] };
  }
  const labels = tf.tensor1d(bits, 'int32');
  return { logits, labels, extra: [tf.tidy(() => tf.cast(tf.oneHot(labels, 2), 'float32'))] };
}

interface Implementation {
  name: 'ours' | 'oursComposite' | 'builtin' | 'layers';
  step: Step;
  kernelPath: 'auto' | 'composite';
}

function implementations(c: BenchCase, inputs: Inputs, api: UnionApi): Implementation[] {
  const { logits, labels, extra } = inputs;
  const list: Implementation[] = [];
  const add = (name: Implementation['name'], loss: (x: tf.Tensor) => tf.Tensor, kernelPath: Implementation['kernelPath'] = 'auto') =>
    list.push({ name, step: valueAndGradient(loss, logits), kernelPath });
  if (c.kind === 'softmax-ce') {
    const [oneHot] = extra;
    add('ours', (x) => crossEntropy(x, labels));
    add('oursComposite', (x) => crossEntropy(x, labels), 'composite');
    add('builtin', (x) => api.losses.softmaxCrossEntropy(oneHot, x));
    const metrics = api.metrics;
    if (metrics !== undefined) add('layers', (x) => tf.mean(metrics.categoricalCrossentropy(oneHot, tf.softmax(x))));
  } else if (c.kind === 'bce-with-logits') {
    add('ours', (x) => binaryCrossEntropyWithLogits(x, labels));
    add('oursComposite', (x) => binaryCrossEntropyWithLogits(x, labels), 'composite');
    add('builtin', (x) => api.losses.sigmoidCrossEntropy(labels, x));
    const metrics = api.metrics;
    if (metrics !== undefined) add('layers', (x) => tf.mean(metrics.binaryCrossentropy(labels, tf.sigmoid(x))));
  } else if (c.kind === 'sigmoid-focal') {
    // tfjs has no focal loss: the closest is the composite of torchvision's formula on tf.losses.sigmoidCrossEntropy.
    add('ours', (x) => sigmoidFocalLoss(x, labels, { reduction: 'mean' }));
    add('oursComposite', (x) => sigmoidFocalLoss(x, labels, { reduction: 'mean' }), 'composite');
    add('builtin', (x) => {
      const p = tf.sigmoid(x);
      const ce = api.losses.sigmoidCrossEntropy(labels, x, undefined, 0, tf.Reduction.NONE);
      const oneMinusPt = tf.add(tf.mul(tf.sub(1, p), labels), tf.mul(p, tf.sub(1, labels)));
      const alphaT = tf.add(tf.mul(labels, 0.25), tf.mul(tf.sub(1, labels), 0.75));
      return tf.mean(tf.mul(tf.mul(alphaT, ce), tf.square(oneMinusPt)));
    });
  } else if (c.kind === 'softmax-focal') {
    // The composite of the formula: -Σ_c t_c·(1 - p_c)^2·logSoftmax(z)_c, averaged.
    const [oneHot] = extra;
    add('ours', (x) => softmaxFocalLoss(x, labels));
    add('oursComposite', (x) => softmaxFocalLoss(x, labels), 'composite');
    add('builtin', (x) => {
      const lp = tf.logSoftmax(x);
      return tf.mean(tf.neg(tf.sum(tf.mul(tf.mul(oneHot, tf.square(tf.sub(1, tf.exp(lp)))), lp), 1)));
    });
  } else if (c.kind === 'kl-div') {
    // The composite Σ t·(log t - x) / N (tfjs-layers' KL is not exported).
    add('ours', (x) => klDivergence(x, labels, { reduction: 'batchmean' }));
    add('oursComposite', (x) => klDivergence(x, labels, { reduction: 'batchmean' }), 'composite');
    add('builtin', (x) => tf.div(tf.sum(tf.mul(labels, tf.sub(tf.log(labels), x))), c.shape[0]));
  } else {
    // The binary head's [N] logits through the adapter and cross-entropy; the built-in gets the same [N, 2] from tf.stack.
    const [oneHot] = extra;
    const twoClass = (x: tf.Tensor) => tf.stack([tf.zerosLike(x), x], 1);
    add('ours', (x) => crossEntropy(binaryToTwoClassLogits(x), labels));
    add('oursComposite', (x) => crossEntropy(binaryToTwoClassLogits(x), labels), 'composite');
    add('builtin', (x) => api.losses.softmaxCrossEntropy(oneHot, twoClass(x)));
    const metrics = api.metrics;
    if (metrics !== undefined) add('layers', (x) => tf.mean(metrics.categoricalCrossentropy(oneHot, tf.softmax(twoClass(x)))));
  }
  return list;
}

function runStep(impl: Implementation): number {
  setKernelPath(impl.kernelPath);
  const start = performance.now();
  const made = impl.step();
  // On an asynchronous backend the data must be ready before the clock stops.
  for (const t of made) t.dataSync();
  const elapsed = performance.now() - start;
  tf.dispose(made);
  return elapsed;
}

interface EngineInternals {
  state: { numBytes: number };
  trackTensor?: (...args: unknown[]) => unknown;
}

/**
 * One step under tf.profile: the peak bytes of live tensors, above those alive before it, and the
 * kernels that ran. tf.profile records the engine's byte count after each kernel; tensors made outside
 * kernels (a custom gradient's `tf.tensor(...)`) are caught by also watching the engine's tensor registration.
 */
async function profileStep(impl: Implementation): Promise<{ peakBytes: number; kernels: string[] }> {
  setKernelPath(impl.kernelPath);
  const engine = tf.engine() as unknown as EngineInternals;
  const before = tf.memory().numBytes;
  let watermark = before;
  const original = engine.trackTensor;
  if (typeof original === 'function') {
    engine.trackTensor = (...args: unknown[]) => {
      const result = original.apply(engine, args);
      watermark = Math.max(watermark, engine.state.numBytes);
      return result;
    };
  }
  try {
    const profile = await tf.profile(() => {
      const made = impl.step();
      tf.dispose(made);
    });
    return { peakBytes: Math.max(profile.peakBytes, watermark) - before, kernels: profile.kernels.map((k) => k.name) };
  } finally {
    if (typeof original === 'function') engine.trackTensor = original;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Times every implementation of a case. The composite implementation is dropped when the losses do not
 * route to it (no `Exp` kernel ran: they called the fused kernel), so that its column never repeats the fused numbers.
 */
async function timeCase(
  c: BenchCase,
  options: Required<Pick<BenchOptions, 'quick' | 'budgetMs'>>,
  api: UnionApi,
): Promise<Map<Implementation['name'], BenchTiming>> {
  const inputs = makeInputs(c);
  // The logits the loss sees: for the binary-as-two-class path, the [N, 2] the adapter makes.
  const logitBytes = inputs.logits.size * 4 * (c.kind === 'binary-as-two-class' ? 2 : 1);
  const peaks = new Map<Implementation['name'], number>();
  const impls: Implementation[] = [];
  for (const impl of implementations(c, inputs, api)) {
    const profiled = await profileStep(impl); // also the first warm-up
    if (impl.name === 'oursComposite' && !profiled.kernels.includes('Exp')) continue;
    peaks.set(impl.name, profiled.peakBytes);
    impls.push(impl);
  }
  const repeats = new Map<Implementation['name'], number>();
  for (const impl of impls) {
    const last = runStep(impl);
    repeats.set(impl.name, options.quick ? 3 : Math.max(3, Math.min(50, Math.floor(options.budgetMs / Math.max(last, 1e-3)))));
  }
  const times = new Map<Implementation['name'], number[]>(impls.map((impl) => [impl.name, []]));
  for (let round = 0; impls.some((impl) => times.get(impl.name)!.length < repeats.get(impl.name)!); round++) {
    for (const impl of impls) if (round < repeats.get(impl.name)!) times.get(impl.name)!.push(runStep(impl));
  }
  const result = new Map<Implementation['name'], BenchTiming>();
  for (const impl of impls) {
    result.set(impl.name, {
      medianMs: median(times.get(impl.name)!),
      repeats: times.get(impl.name)!.length,
      peakOverLogits: peaks.get(impl.name)! / logitBytes,
    });
  }
  tf.dispose([inputs.logits, inputs.labels, ...inputs.extra]);
  return result;
}

/** bench/torch_bench.py of this repository, found upwards from this file (src/cli or dist/cjs/cli); not in the published package. */
function torchScript(): string | null {
  for (let dir = __dirname, level = 0; level < 8; dir = path.dirname(dir), level++) {
    const candidate = path.join(dir, 'bench', 'torch_bench.py');
    if (existsSync(candidate)) return candidate;
  }
  return null;
}

function runTorch(all: BenchCase[], options: BenchOptions): { info: BenchReport['torch']; results: Record<string, number> } {
  if (options.torch === false) return { info: { skipped: 'not asked for (torch: false)' }, results: {} };
  const script = torchScript();
  if (script === null)
    return { info: { skipped: 'bench/torch_bench.py not found (it is in the repository, not the package)' }, results: {} };
  const python = options.python ?? '/usr/bin/python3';
  const quick = options.quick === true;
  const request = all.map((c) => ({ name: c.name, ...c.torch, warmup: quick ? 1 : 3, repeats: quick ? 3 : 21 }));
  const child = spawnSync(python, [script], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    maxBuffer: 1 << 20,
    env: { ...process.env, OMP_NUM_THREADS: '1', MKL_NUM_THREADS: '1' },
  });
  if (child.error !== undefined) return { info: { skipped: `${python} could not run (${child.error.message})` }, results: {} };
  if (child.status !== 0) {
    const reason = /No module named '?torch'?/.test(child.stderr)
      ? `${python} has no torch`
      : `torch_bench.py exited ${child.status}: ${child.stderr.trim().split('\n').pop()}`;
    return { info: { skipped: reason }, results: {} };
  }
  const parsed = JSON.parse(child.stdout) as { torch: string; threads: number; results: Record<string, number> };
  return { info: { version: parsed.torch, threads: parsed.threads }, results: parsed.results };
}

/**
 * Runs the benchmark on `options.backends` (each must be registered; the current backend is restored
 * afterwards) and returns every number; `formatBenchReport` prints it as Markdown. PyTorch runs after
 * the JavaScript timings, in a child process, never at the same time.
 */
export async function runBench(options: BenchOptions): Promise<BenchReport> {
  const quick = options.quick === true;
  const budgetMs = options.budgetMs ?? (quick ? 200 : 2000);
  const log = options.log ?? (() => undefined);
  const all = cases(quick).filter((c) => options.only === undefined || c.name.includes(options.only));
  if (all.length === 0)
    throw new Error(
      `bench: no case matches '${options.only}' (cases: ${cases(quick)
        .map((c) => c.name)
        .join('; ')})`,
    );
  const api = unionApi();
  const previousBackend = tf.getBackend();
  const previousPath = getKernelPath();
  const loadAverageStart = os.loadavg();
  const timings: Array<{ backend: string; c: BenchCase; t: Map<Implementation['name'], BenchTiming> }> = [];
  try {
    for (const backend of options.backends) {
      if (!(await tf.setBackend(backend))) throw new Error(`backend '${backend}' could not be initialised`);
      await tf.ready();
      for (const c of all) {
        log(`bench: ${backend} ${c.name}`);
        timings.push({ backend, c, t: await timeCase(c, { quick, budgetMs }, api) });
      }
    }
  } finally {
    setKernelPath(previousPath);
    await tf.setBackend(previousBackend);
  }
  log('bench: PyTorch');
  const torch = runTorch(all, options);
  const rows: BenchRow[] = timings.map(({ backend, c, t }) => {
    const ours = t.get('ours')!;
    const builtin = t.get('builtin')!;
    const torchMs = torch.results[c.name] ?? null;
    return {
      backend,
      case: c.name,
      kind: c.kind,
      shape: c.shape,
      ours,
      oursComposite: t.get('oursComposite') ?? null,
      builtin,
      layers: t.get('layers') ?? null,
      torchMs,
      builtinOverOurs: builtin.medianMs / ours.medianMs,
      torchOverOurs: torchMs === null ? null : torchMs / ours.medianMs,
    };
  });
  const notes = [
    'Forward + backward: value and gradient of the logits through tf.valueAndGrad, all tensors disposed; medians after warm-up, implementations interleaved round by round.',
    "ours: the path setKernelPath('auto') picks (fused on cpu, wasm and tensorflow); composite: our device path (tfjs ops, closed-form gradient), timed here for comparison.",
    'built-in: tf.losses.softmaxCrossEntropy with one-hot labels made in advance, tf.losses.sigmoidCrossEntropy; binary as two-class: [N, 2] from tf.stack([0, z]).',
    'tfjs-layers: tf.metrics.categoricalCrossentropy (one-hot labels) / binaryCrossentropy on tf.softmax / tf.sigmoid of the logits (they take probabilities, and clip them), averaged.',
    "focal losses and KL (tfjs has none): 'built-in' is the composite of tfjs ops of the same formula (sigmoid focal on tf.losses.sigmoidCrossEntropy, α 0.25, γ 2; softmax focal on tf.logSoftmax, γ 2; Σ t·(log t - x) / N); tfjs-layers exports none of them.",
    'peak/logits: peak bytes of live tensors during forward + backward above those alive before (inputs), over the bytes of the logits the loss sees ([N, 2] for binary as two-class); from tf.profile plus tensors made outside kernels.',
  ];
  if (rows.some((r) => r.oursComposite === null))
    notes.push("composite —: the losses called the fused kernel under setKernelPath('composite') (not routed to the composite path).");
  if ('skipped' in torch.info) notes.push(`PyTorch skipped: ${torch.info.skipped}.`);
  else
    notes.push(
      `PyTorch ${torch.info.version}, ${torch.info.threads} thread, float32, in a child process after the JavaScript timings (bench/torch_bench.py).`,
    );
  const cpus = os.cpus();
  return {
    machine: {
      cpu: cpus[0]?.model ?? 'unknown',
      cores: cpus.length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      platform: `${os.platform()} ${os.release()}`,
      node: process.version,
      tfjs: tf.version_core,
      loadAverageStart,
      loadAverageEnd: os.loadavg(),
    },
    torch: torch.info,
    quick,
    rows,
    notes,
  };
}

function ms(x: number): string {
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

function ratio(x: number | null): string {
  if (x === null) return '—';
  return x >= 10 ? `${x.toFixed(0)}x` : `${x.toFixed(2)}x`;
}

/** The report as Markdown: the machine, one table row per backend and case, and the notes. */
export function formatBenchReport(report: BenchReport): string {
  const m = report.machine;
  const load = (l: number[]) => l.map((v) => v.toFixed(2)).join(' ');
  const torch = 'skipped' in report.torch ? 'PyTorch: skipped' : `PyTorch ${report.torch.version} (${report.torch.threads} thread)`;
  const lines = [
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.platform}; Node ${m.node}, tfjs ${m.tfjs}, ${torch}. Load average ${load(m.loadAverageStart)} at start, ${load(m.loadAverageEnd)} at end.${report.quick ? ' Quick mode (smoke test: 3 repeats).' : ''}`,
    '',
    '| backend | case | ours ms | composite ms | built-in ms | tfjs-layers ms | PyTorch ms | built-in/ours | PyTorch/ours | peak/logits ours | peak/logits built-in |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of report.rows) {
    lines.push(
      `| ${r.backend} | ${r.case} | ${ms(r.ours.medianMs)} | ${r.oursComposite === null ? '—' : ms(r.oursComposite.medianMs)} | ${ms(r.builtin.medianMs)} | ${r.layers === null ? '—' : ms(r.layers.medianMs)} | ${r.torchMs === null ? '—' : ms(r.torchMs)} | ${ratio(r.builtinOverOurs)} | ${ratio(r.torchOverOurs)} | ${r.ours.peakOverLogits.toFixed(2)} | ${r.builtin.peakOverLogits.toFixed(2)} |`,
    );
  }
  lines.push('', ...report.notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

/** The options of `tfjs-loss-adapter bench`, one line each. */
const BENCH_OPTIONS = {
  backend: valueOption(oneOf([...KNOWN_BACKENDS, 'all']), 'the backends (default: every available one)'),
  quick: switchOption('the small shapes only, three repeats (a smoke test)'),
  only: valueOption(text('CASE', 'part of a case name'), 'only the cases whose name contains CASE, e.g. [4096,1000] or BCE'),
  json: switchOption('prints the report as JSON'),
};

/** `tfjs-loss-adapter bench`: the performance table. */
export const benchCommand: Command<typeof BENCH_OPTIONS> = {
  description: [
    'times forward + backward against the tfjs built-ins and tfjs-layers (and PyTorch 1 thread when',
    '/usr/bin/python3 has torch), on every available backend unless --backend says otherwise.',
  ].join('\n'),
  options: BENCH_OPTIONS,
  async run(options, output) {
    const { available, unavailable } = await loadBackends();
    const report = await runBench({
      backends: selectBackends(options.backend ?? 'all', available, unavailable),
      quick: options.quick,
      only: options.only,
      log: (line) => output.err(line),
    });
    output.out(options.json ? JSON.stringify(report, null, 2) : formatBenchReport(report));
    return 0;
  },
};
