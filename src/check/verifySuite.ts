import * as tf from '@tensorflow/tfjs-core';
import { binaryToTwoClassLogits, twoClassToBinaryLogits, twoClassToBinaryProbs } from '../adapter/twoClass';
import { classificationLoss } from '../adapter/classificationLoss';
import type { Reduction } from '../core/options';
import { binaryCrossEntropy } from '../losses/binaryCrossEntropy';
import { binaryCrossEntropyWithLogits } from '../losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../losses/crossEntropy';
import { nllLoss } from '../losses/nllLoss';
import { sigmoidFocalLoss } from '../losses/sigmoidFocalLoss';
import { softmaxFocalLoss } from '../losses/softmaxFocalLoss';
import { CheckAccumulator, CheckResult, describeTolerance, relativeError } from './checkResult';
import { LossCase, randomCase } from './cases';
import { equivalenceSteps, LossSide } from './equivalence';
import { gradcheckSteps, TensorFunction } from './gradcheck';
import { gradgradcheckSteps } from './gradgradcheck';
import { SeededRandom, seededRandom, streamSeed } from './random';
import { Reads, runAsync, runSync } from './reads';
import { referenceChecks } from './referenceChecks';

export type { CheckResult } from './checkResult';

const REDUCTIONS: Reduction[] = ['mean', 'sum', 'none'];

const asFloat = (t: tf.Tensor) => tf.cast(t, 'float32');

/** Logits `scale·(2u - 1)` of shape `[N, ...classes]` and seeded class indices (0 and 1 for a binary head), for every batch size, scale and reduction. */
function identityCases(random: SeededRandom, classes: number[], scales: number[]): Array<{ reduction: Reduction; cases: LossCase[] }> {
  return REDUCTIONS.map((reduction) => {
    const cases: LossCase[] = [];
    for (const batch of [1, 7, 100, 1000]) {
      for (const scale of scales) {
        const shape = [batch, ...classes];
        const logits = Float32Array.from({ length: batch * (classes[0] ?? 1) }, () => scale * (2 * random.uniform() - 1));
        const labels = Int32Array.from({ length: batch }, () => random.integer(classes[0] ?? 2));
        cases.push({ name: `N=${batch} |z|<=${scale}`, input: tf.tensor(logits, shape), target: tf.tensor1d(labels, 'int32') });
      }
    }
    return { reduction, cases };
  });
}

/**
 * An identity `a == b` in value and in gradient wrt the shared logits, through `checkEquivalence`, for
 * every reduction; one row.
 */
function* identityCheck(
  check: string,
  groups: Array<{ reduction: Reduction; cases: LossCase[] }>,
  sides: (reduction: Reduction) => [LossSide, LossSide],
  tolerance: { rtol: number; atol: number },
  seed: number,
): Reads<CheckResult> {
  const row = new CheckAccumulator(check, describeTolerance(tolerance), true);
  for (const { reduction, cases } of groups) {
    try {
      const [a, b] = sides(reduction);
      const report = yield* equivalenceSteps(a, b, cases, { ...tolerance, seed });
      row.add({
        cases: report.cases,
        valueError: relativeError(report.worstValue, tolerance.rtol),
        gradientError: relativeError(report.worstGradient, tolerance.rtol),
        vacuous: report.vacuous,
        failure: failsBeyondVacuity(report) ? `${reduction}: ${report.summary}` : null,
      });
    } finally {
      tf.dispose(cases.flatMap((c) => [c.input, c.target]));
    }
  }
  return row.done();
}

/**
 * Whether a report fails for more than being vacuous. Vacuity is judged over the whole row: a case
 * whose two sides are genuinely 0 compares nothing but is no failure, unless every case of the row is.
 */
function failsBeyondVacuity(report: { passed: boolean; vacuous: boolean; failures: string[] }): boolean {
  return report.failures.length > (report.vacuous ? 1 : 0);
}

/**
 * The seed identity, `CE(z, y) == BCEWithLogits(z1 - z0, y) == BCE(softmax(z)[:, 1], y)`, and the
 * adapter's, `BCEWithLogits(s, y) == CE([0, s], y)`, in value and in gradient wrt the logits, for batch
 * sizes 1 to 1000 and every reduction.
 *
 * Tolerances from float32 conditioning: `z1 - z0` is rounded to float32 (relative 6e-8), so the
 * logit forms agree to rtol 1e-5 at every scale up to |z| = 1e4. The probability form rounds
 * `p = softmax(z)[:, 1]` to float32, which costs `eps32 / min(p, 1-p)` relatively in the loss and its
 * gradient; it is checked for |z| <= 3 (min(p, 1-p) >= 2.5e-3) with rtol 1e-4, and is no identity at
 * all once float32 saturates p to 0 or 1 (from |z1 - z0| of about 17), in PyTorch as here.
 */
export function* identityChecks(seed: number): Reads<CheckResult[]> {
  const random = seededRandom(streamSeed(seed, 1));
  const logitTolerance = { rtol: 1e-5, atol: 1e-7 };
  const ce = (reduction: Reduction): LossSide => ({ name: 'CE(z, y)', loss: (z, y) => crossEntropy(z, y, { reduction }) });
  return [
    yield* identityCheck(
      'CE(z, y) == BCEWithLogits(z1 - z0, y)',
      identityCases(random, [2], [1, 10, 100, 1e4]),
      (reduction) => [
        ce(reduction),
        {
          name: 'BCEWithLogits(z1 - z0, y)',
          loss: (s, y) => binaryCrossEntropyWithLogits(s, y, { reduction }),
          input: twoClassToBinaryLogits,
          target: asFloat,
        },
      ],
      logitTolerance,
      seed,
    ),
    yield* identityCheck(
      'CE(z, y) == BCE(softmax(z)[:,1], y)',
      identityCases(random, [2], [0.1, 1, 3]),
      (reduction) => [
        ce(reduction),
        {
          name: 'BCE(softmax(z)[:,1], y)',
          loss: (p, y) => binaryCrossEntropy(p, y, { reduction }),
          input: (z) => twoClassToBinaryProbs(tf.softmax(z)),
          target: asFloat,
        },
      ],
      { rtol: 1e-4, atol: 1e-7 },
      seed,
    ),
    yield* identityCheck(
      'BCEWithLogits(s, y) == CE([0, s], y)',
      identityCases(random, [], [1, 10, 100, 1e4]),
      (reduction) => [
        { name: 'BCEWithLogits(s, y)', loss: (s, y) => binaryCrossEntropyWithLogits(s, y, { reduction }), target: asFloat },
        { name: 'CE([0, s], y)', loss: (z, y) => crossEntropy(z, y, { reduction }), input: binaryToTwoClassLogits },
      ],
      logitTolerance,
      seed,
    ),
  ];
}

/**
 * The focal losses' identities, in value and in gradient wrt the logits, for batch sizes 1 to 1000 and
 * every reduction:
 *
 * - the binary-as-two-class identity of focal loss, `sigmoidFocalLoss(s, y, {alpha, gamma})` ==
 *   `softmaxFocalLoss([0, s], y, {weight: [1 - alpha, alpha], gamma})`; for 'mean', where the weighted
 *   softmax loss divides by `Σ w[y]` and the binary one by N, the two-class side is `classificationLoss`
 *   with `binaryAsTwoClass`, which keeps the binary head's mean;
 * - `softmaxFocalLoss` with `gamma: 0` is `crossEntropy`, with class weights and label smoothing.
 *
 * Both sides compute in float64 from the same float32 logits (the two-class side through `[0, s]`,
 * exact), so they agree to rtol 1e-5 at every scale up to |z| = 1e4.
 */
export function* focalIdentityChecks(seed: number): Reads<CheckResult[]> {
  const random = seededRandom(streamSeed(seed, 1, 2));
  const tolerance = { rtol: 1e-5, atol: 1e-7 };
  const [alpha, gamma] = [0.25, 2];
  const classWeight = [0.5, 1, 2, 1, 0.25];
  const ceOptions = { weight: classWeight, labelSmoothing: 0.1 };
  return [
    yield* identityCheck(
      'sigmoidFocal(s, y) == softmaxFocal([0, s], y, w=[1-α, α])',
      identityCases(random, [], [1, 10, 100, 1e4]),
      (reduction) => [
        { name: 'sigmoidFocal(s, y)', loss: (s, y) => sigmoidFocalLoss(s, y, { alpha, gamma, reduction }), target: asFloat },
        reduction === 'mean'
          ? {
              name: 'classificationLoss(s, y, binaryAsTwoClass)',
              loss: (s, y) => classificationLoss(s, y, { focalAlpha: alpha, focalGamma: gamma, binaryAsTwoClass: true }),
            }
          : {
              name: 'softmaxFocal([0, s], y, w=[1-α, α])',
              loss: (z, y) => softmaxFocalLoss(z, y, { weight: [1 - alpha, alpha], gamma, reduction }),
              input: binaryToTwoClassLogits,
            },
      ],
      tolerance,
      seed,
    ),
    yield* identityCheck(
      'softmaxFocal(z, y, γ=0) == CE(z, y)',
      identityCases(random, [classWeight.length], [1, 10, 100, 1e4]),
      (reduction) => [
        { name: 'softmaxFocal(z, y, γ=0)', loss: (z, y) => softmaxFocalLoss(z, y, { ...ceOptions, gamma: 0, reduction }) },
        { name: 'CE(z, y)', loss: (z, y) => crossEntropy(z, y, { ...ceOptions, reduction }) },
      ],
      tolerance,
      seed,
    ),
  ];
}

interface GradcheckCase {
  /** The options drawn, for the failure message. */
  options: string;
  f: TensorFunction;
  /** Logits first, then the target. */
  inputs: tf.Tensor[];
}

interface GradcheckSubject {
  check: string;
  /** Which inputs to differentiate; default every float32 one. */
  wrt?: number[];
  draw: (random: SeededRandom) => GradcheckCase;
}

const GRADCHECK_CASES_PER_LOSS = 12;

const drawReduction = (random: SeededRandom): Reduction => REDUCTIONS[random.integer(3)];
const drawSmoothing = (random: SeededRandom): number => (random.uniform() < 0.5 ? 0 : 0.2);

/**
 * Probabilities in [0.05, 0.95]: inside, a central difference of BCE's `log p` with gradcheck's step
 * stays accurate. Nearer 0 or 1 the step must shrink to stay in [0, 1], and truncation approaches the
 * tolerance (measured: 0.9 of it over 120 seeds with sigmoid(2·normal) draws); the edges are checked
 * against the float64 reference and PyTorch instead.
 */
function probabilities(random: SeededRandom, shape: number[]): tf.Tensor {
  return tf.tensor(
    Float32Array.from({ length: tf.util.sizeFromShape(shape) }, () => 0.05 + 0.9 * random.uniform()),
    shape,
  );
}

const NLL_OF_LOG_SOFTMAX: GradcheckSubject = {
  check: 'nllLoss of logSoftmax',
  draw: (random) => {
    const reduction = drawReduction(random);
    const { input, target } = randomCase(random, { kind: 'multiclass' });
    return { options: reduction, f: (z, y) => nllLoss(tf.logSoftmax(z), y, { reduction }), inputs: [input, target] };
  },
};

/** The losses and the adapter path through every float argument, with seeded options: what `gradcheck` sees of each. */
const GRADCHECK_SUBJECTS: GradcheckSubject[] = [
  {
    check: 'crossEntropy, class indices, class weights',
    draw: (random) => {
      const [reduction, labelSmoothing] = [drawReduction(random), drawSmoothing(random)];
      const { input, target } = randomCase(random, { kind: 'multiclass' });
      const weight = Array.from({ length: input.shape[1] ?? 1 }, () => 0.5 + random.uniform());
      return {
        options: `${reduction}, ε=${labelSmoothing}`,
        f: (z, y) => crossEntropy(z, y, { reduction, labelSmoothing, weight }),
        inputs: [input, target],
      };
    },
  },
  {
    check: 'crossEntropy, class probabilities',
    draw: (random) => {
      const [reduction, labelSmoothing] = [drawReduction(random), drawSmoothing(random)];
      const { input, target } = randomCase(random, { kind: 'multiclass' });
      target.dispose();
      const soft = tf.tidy(() => tf.softmax(tf.mul(probabilities(random, input.shape), 4)));
      return {
        options: `${reduction}, ε=${labelSmoothing}`,
        f: (z, t) => crossEntropy(z, t, { reduction, labelSmoothing }),
        inputs: [input, soft],
      };
    },
  },
  NLL_OF_LOG_SOFTMAX,
  {
    check: 'binaryCrossEntropy, soft targets',
    draw: (random) => {
      const reduction = drawReduction(random);
      const shape = [1 + random.integer(16)];
      return {
        options: reduction,
        f: (p, y) => binaryCrossEntropy(p, y, { reduction }),
        inputs: [probabilities(random, shape), probabilities(random, shape)],
      };
    },
  },
  {
    check: 'binaryCrossEntropyWithLogits, posWeight, soft targets',
    draw: (random) => {
      const reduction = drawReduction(random);
      const { input, target } = randomCase(random, { kind: 'binary' });
      target.dispose();
      const posWeight = [0.5 + 3 * random.uniform()];
      return {
        options: `${reduction}, posWeight ${posWeight}`,
        f: (s, y) => binaryCrossEntropyWithLogits(s, y, { reduction, posWeight }),
        inputs: [input, probabilities(random, input.shape)],
      };
    },
  },
  {
    check: 'classificationLoss, binary head as two classes',
    wrt: [0],
    draw: (random) => {
      const [reduction, labelSmoothing] = [drawReduction(random), drawSmoothing(random)];
      const { input, target } = randomCase(random, { kind: 'binary' });
      return {
        options: `${reduction}, ε=${labelSmoothing}`,
        f: (s, y) => classificationLoss(s, y, { reduction, labelSmoothing, binaryAsTwoClass: true }),
        inputs: [input, target],
      };
    },
  },
];

/**
 * The second-order subjects: the same, but NLL after `log` of probabilities instead of tf.logSoftmax,
 * whose gradient tfjs computes from its saved output, which a second derivative does not reach.
 */
const GRADGRADCHECK_SUBJECTS: GradcheckSubject[] = GRADCHECK_SUBJECTS.map((subject) =>
  subject !== NLL_OF_LOG_SOFTMAX
    ? subject
    : {
        check: 'nllLoss of log',
        draw: (random) => {
          const reduction = drawReduction(random);
          const { input, target } = randomCase(random, { kind: 'multiclass' });
          const positive = probabilities(random, input.shape);
          input.dispose();
          return { options: reduction, f: (p, y) => nllLoss(tf.log(p), y, { reduction }), inputs: [positive, target] };
        },
      },
);

const GRADGRADCHECK_CASES_PER_LOSS = 3;

/**
 * `gradcheck` of every loss and of the adapter path, over seeded cases with seeded options: finite
 * differences in float32 against the closed-form gradients, with gradcheck's measured defaults.
 */
export function gradcheckChecks(seed: number): Reads<CheckResult[]> {
  return checkRows(seed, 3, 'gradcheck', gradcheckSteps, GRADCHECK_SUBJECTS, GRADCHECK_CASES_PER_LOSS);
}

/**
 * `gradgradcheck` of every loss and of the adapter path: second derivatives through `tf.grad` of
 * `tf.grad` against finite differences of the first, with gradgradcheck's measured defaults.
 */
export function gradgradcheckChecks(seed: number): Reads<CheckResult[]> {
  return checkRows(seed, 5, 'gradgradcheck', gradgradcheckSteps, GRADGRADCHECK_SUBJECTS, GRADGRADCHECK_CASES_PER_LOSS);
}

/** One row per subject: `steps` (gradcheck's or gradgradcheck's) over `cases` draws seeded from the streams `stream` and `stream + 1`. */
function* checkRows(
  seed: number,
  stream: number,
  check: string,
  steps: typeof gradcheckSteps,
  subjects: readonly GradcheckSubject[],
  cases: number,
): Reads<CheckResult[]> {
  const rows: CheckResult[] = [];
  for (const [k, subject] of subjects.entries()) {
    const row = new CheckAccumulator(`${check} ${subject.check}`, `error/tolerance <= 1 (${check})`, false);
    for (let n = 0; n < cases; n++) {
      const { options, f, inputs } = subject.draw(seededRandom(streamSeed(seed, stream, k, n)));
      try {
        const wrt = subject.wrt ?? inputs.flatMap((t, i) => (t.dtype === 'float32' ? [i] : []));
        const result = yield* steps(f, inputs, { seed: streamSeed(seed, stream + 1, k, n), wrt, names: ['input', 'target'] });
        const worst = result.worst;
        row.add({
          cases: 1,
          gradientError: worst === null ? 0 : worst.tolerance > 0 ? worst.error / worst.tolerance : Infinity,
          vacuous: result.vacuous,
          failure: failsBeyondVacuity(result) ? `case ${n} (${options}): ${result.summary}` : null,
        });
      } finally {
        tf.dispose(inputs);
      }
    }
    rows.push(row.done());
  }
  return rows;
}

/** Every check of the suite, whichever way its tensors are read. */
function* verifySuiteSteps(seed: number): Reads<CheckResult[]> {
  return [
    ...(yield* identityChecks(seed)),
    ...(yield* focalIdentityChecks(seed)),
    ...(yield* referenceChecks(seed)),
    ...(yield* gradcheckChecks(seed)),
    ...(yield* gradgradcheckChecks(seed)),
  ];
}

/**
 * Every check of the suite on the current backend, seeded: the same cases on every backend and run.
 * Browser-safe: the `verify` command runs it in Node, and a page can run it on webgl. A check whose
 * two sides are identically 0 in every case compared nothing: its row is vacuous and fails.
 *
 * ```js
 * const rows = runVerifySuite({ seed: 1 });   // about 3 s on cpu
 * console.log(rows.length, rows.every((row) => row.passed)); // => 22 true
 * console.log(rows[0].check); // => CE(z, y) == BCEWithLogits(z1 - z0, y)
 * ```
 */
export function runVerifySuite(options: { seed?: number } = {}): CheckResult[] {
  return runSync(verifySuiteSteps(options.seed ?? 1));
}

/**
 * `runVerifySuite`, reading tensors only with `await data()`: the form for backends that must not be
 * read synchronously (webgpu), with the same rows as `runVerifySuite` wherever both run.
 *
 * ```js
 * const rows = await runVerifySuiteAsync({ seed: 1 });   // on the current backend, webgpu say
 * console.log(rows.filter((row) => !row.passed).length); // => 0
 * ```
 */
export function runVerifySuiteAsync(options: { seed?: number } = {}): Promise<CheckResult[]> {
  return runAsync(verifySuiteSteps(options.seed ?? 1));
}
