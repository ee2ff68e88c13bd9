import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describeEachBackend } from '../helpers/backends';
import {
  CaseData,
  differentiatesTarget,
  disposeCase,
  errorScales,
  expand,
  firstMismatch,
  LibraryResult,
  LossName,
  Recipe,
  recipeArb,
  reference,
  runLibrary,
  UNDERFLOW,
} from './fuzzCases';

/**
 * Property-based tests: random cases of every loss (rank 1 to 4, 1 to 64 classes, every option, logits
 * of magnitude 1e-6 to 1e4) against the float64 reference, and invariants that hold whatever the case.
 *
 * Runs: `FUZZ_RUNS` cases per loss per backend for the reference comparison (default 1000; `npm run fuzz`
 * runs 100,000), a quarter of that for each invariant. Seed: `FUZZ_SEED`; else, under CI (`CI` set), a
 * fixed one, so that a CI run is repeatable; else a new one each run, so that local runs explore. Printed; a failure prints fast-check's seed, path and counterexample, and the command that replays it
 * (`FUZZ_SEED=... FUZZ_PATH=... TFJS_BACKENDS=... npx jest __tests__/reliability/properties.test.ts -t '...'`).
 *
 * Tolerance: `|library - reference| <= RTOL·max(|reference|, scale) + 2^-100`, where `scale` is the size
 * of the terms that cancel in that element (see `errorScales`). RTOL is 1e-6 on cpu and wasm (the fused
 * host kernels). Measured over 100,000 cases per loss per backend (scratch harness, seeds 7 and 11), the
 * worst error as a fraction of that scale was, on cpu and on wasm alike: crossEntropy 1.4e-7,
 * nllLoss 1.1e-7, binaryCrossEntropy 1.2e-7 (one or two float32 roundings), binaryCrossEntropyWithLogits
 * 3.3e-7 (its fast softplus/sigmoid). 1e-6 leaves a margin of 3 or more and still fails any real error
 * in a formula, which is of the order of the value itself.
 */
const RTOL: Record<string, number> = { cpu: 1e-6, wasm: 1e-6, tensorflow: 1e-6 };

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const INVARIANT_RUNS = Math.max(1, Math.round(RUNS / 4));
const CI_SEED = 20261128;
const SEED =
  process.env.FUZZ_SEED !== undefined
    ? Number(process.env.FUZZ_SEED)
    : process.env.CI
      ? CI_SEED
      : (Date.now() ^ (Math.random() * 0x7fffffff)) >>> 0;
const PATH = process.env.FUZZ_PATH;
const LOSSES: LossName[] = ['crossEntropy', 'nllLoss', 'binaryCrossEntropy', 'binaryCrossEntropyWithLogits'];

console.log(
  `property tests: seed ${SEED}${PATH === undefined ? '' : `, path ${PATH}`}; ${RUNS} cases per loss per backend (replay with FUZZ_SEED=${SEED})`,
);

/** Runs a property; on failure throws fast-check's report (seed, path, counterexample, the error) and the replay command. */
function assertProperty<T>(
  testName: string,
  backend: string,
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => void,
  numRuns: number,
): void {
  const details = fc.check(fc.property(arbitrary, predicate), { numRuns, seed: SEED, path: PATH, endOnFailure: true });
  if (details.failed) {
    const replay = `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath} TFJS_BACKENDS=${backend} npx jest __tests__/reliability/properties.test.ts -t '${testName}'`;
    const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
    throw new Error(`${fc.defaultReportMessage(details)}\n\nError: ${cause}\n\nReplay: ${replay}`);
  }
}

/** Runs the library on a case, failing when the call leaves a tensor behind. */
function runChecked(recipe: Recipe, data: CaseData, upstreamScale = 1): LibraryResult {
  const before = tf.memory().numTensors;
  const result = runLibrary(recipe, data, upstreamScale);
  const leaked = tf.memory().numTensors - before;
  if (leaked !== 0) throw new Error(`${leaked} tensor(s) left behind by the value and gradient`);
  return result;
}

function fail(message: string | null): void {
  if (message !== null) throw new Error(message);
}

/** Whether 'mean' divides by zero in this case (every target ignored or of weight 0, or an empty batch): PyTorch's NaN. */
function meanOverNothing(recipe: Recipe, data: CaseData): boolean {
  if (recipe.reduction !== 'mean') return false;
  if (recipe.loss === 'crossEntropy' || recipe.loss === 'nllLoss') {
    if (differentiatesTarget(recipe)) return data.target.values.length === 0;
    let denominator = 0;
    for (const y of data.target.values) if (y !== recipe.ignoreIndex) denominator += data.weight === null ? 1 : data.weight.values[y];
    return denominator === 0;
  }
  return data.input.values.length === 0;
}

describeEachBackend('property-based', (backend) => {
  const rtol = RTOL[backend] ?? 1e-6;

  describe.each(LOSSES)('%s', (loss) => {
    it(`agrees with the float64 reference in value and gradients (${RUNS} cases)`, () => {
      assertProperty(
        `${loss} agrees`,
        backend,
        recipeArb(loss),
        (recipe) => {
          const data = expand(recipe);
          try {
            const library = runChecked(recipe, data);
            const expected = reference(recipe, data);
            const scales = errorScales(recipe, data);
            expect(library.valueShape).toEqual(expected.value.shape);
            fail(firstMismatch('value', library.value, expected.value.values, scales.value, rtol));
            fail(firstMismatch('gradient of the input', library.input, expected.grad.input, scales.input, rtol));
            if (expected.grad.target !== null)
              fail(firstMismatch('gradient of the target', library.target ?? [], expected.grad.target, scales.target, rtol));
          } finally {
            disposeCase(data);
          }
        },
        RUNS,
      );
    });

    it(`has a gradient linear in the upstream gradient: exactly homogeneous under powers of 2, additive to rounding (${INVARIANT_RUNS} cases)`, () => {
      const arbitrary = fc.tuple(recipeArb(loss), fc.integer({ min: -4, max: 4 }), fc.integer({ min: 0, max: 0x7fffffff }));
      assertProperty(
        `${loss} has a gradient linear`,
        backend,
        arbitrary,
        ([recipe, power, otherSeed]) => {
          const data = expand(recipe);
          try {
            const base = runChecked(recipe, data);
            const scaled = runChecked(recipe, data, 2 ** power);
            const exact = (a: ArrayLike<number>, b: ArrayLike<number>) =>
              Array.from(a).every((v, i) => Object.is(v, 2 ** power * b[i]) || Math.abs(v - 2 ** power * b[i]) <= UNDERFLOW);
            if (!exact(scaled.input, base.input) || (base.target !== null && !exact(scaled.target ?? [], base.target))) {
              throw new Error(`gradient for 2^${power}·upstream is not 2^${power} times the gradient`);
            }
            // Additivity: the gradient for u1 + u2 against the sum of the gradients for u1 and u2.
            const other = expand({ ...recipe, dataSeed: otherSeed }).upstream;
            const sum = { ...data, upstream: data.upstream.map((u, i) => u + other[i]) };
            const second = { ...data, upstream: other };
            const both = runChecked(recipe, sum);
            const [g1, g2] = [base, runChecked(recipe, second)];
            const s1 = errorScales(recipe, data);
            const s2 = errorScales(recipe, second);
            const added = g1.input.map((g, i) => g + g2.input[i]);
            const scale = s1.input.map((s, i) => s + s2.input[i] + Math.abs(g1.input[i]) + Math.abs(g2.input[i]));
            fail(firstMismatch('gradient of the input for u1 + u2', both.input, added, scale, 2 * rtol));
          } finally {
            disposeCase(data);
          }
        },
        INVARIANT_RUNS,
      );
    });

    it(`is finite in value and gradients for finite inputs, where PyTorch is (${INVARIANT_RUNS} cases)`, () => {
      assertProperty(
        `${loss} is finite`,
        backend,
        recipeArb(loss),
        (recipe) => {
          const data = expand(recipe);
          try {
            const library = runChecked(recipe, data);
            if (meanOverNothing(recipe, data)) {
              if (!Number.isNaN(library.value[0])) throw new Error(`mean over no target: ${library.value[0]}, PyTorch gives NaN`);
              return;
            }
            const infinite = (name: string, values: ArrayLike<number>) => {
              const at = Array.from(values).findIndex((v) => !Number.isFinite(v));
              if (at >= 0) throw new Error(`${name}[${at}] is ${values[at]}`);
            };
            infinite('value', library.value);
            infinite('gradient of the input', library.input);
            // BCE's target gradient is -w·logit(x): ±Infinity at probabilities of exactly 0 and 1, as in PyTorch.
            if (library.target !== null) {
              const x = data.input.values;
              infinite(
                'gradient of the target',
                recipe.loss === 'binaryCrossEntropy' ? library.target.filter((_, e) => x[e] > 0 && x[e] < 1) : library.target,
              );
            }
          } finally {
            disposeCase(data);
          }
        },
        INVARIANT_RUNS,
      );
    });

    it(`is never negative, with non-negative weights and targets (${INVARIANT_RUNS} cases)`, () => {
      assertProperty(
        `${loss} is never negative`,
        backend,
        recipeArb(loss),
        (recipe) => {
          const data = expand(recipe);
          // nll_loss is non-negative for log-probabilities, i.e. inputs <= 0.
          if (loss === 'nllLoss') data.input.values = data.input.values.map((v) => -Math.abs(v));
          try {
            const library = runChecked(recipe, data);
            const negative = Array.from(library.value).findIndex((v) => v < 0 || (Number.isNaN(v) && !meanOverNothing(recipe, data)));
            if (negative >= 0) throw new Error(`value[${negative}] is ${library.value[negative]}`);
          } finally {
            disposeCase(data);
          }
        },
        INVARIANT_RUNS,
      );
    });
  });

  describe('crossEntropy', () => {
    it(`is unchanged by adding a constant to each sample's logits, and its gradient rows sum to 0 (${INVARIANT_RUNS} cases)`, () => {
      const arbitrary = fc.tuple(recipeArb('crossEntropy'), fc.integer({ min: 0, max: 0x7fffffff }));
      assertProperty(
        'crossEntropy is unchanged by adding a constant',
        backend,
        arbitrary,
        ([recipe, shiftSeed]) => {
          const data = expand(recipe);
          // Logits on a grid of 1/256 below 2^12 and whole shifts below 2^10: every shifted logit is exact in float32.
          data.input.values = data.input.values.map((v) => Math.max(-4096, Math.min(4096, Math.round(v * 256) / 256)));
          const { shape } = recipe;
          const axis = shape.length === 1 ? 0 : recipe.classAxis === 1 ? 1 : shape.length - 1;
          const classes = shape[axis];
          const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
          const shiftRandom = expand({ ...recipe, dataSeed: shiftSeed, magnitude: 1 }).input.values;
          const shifts = (e: number) => Math.round(shiftRandom[Math.floor(e / (classes * inner)) * inner + (e % inner)] * 300);
          const shifted: CaseData = { ...data, input: { ...data.input, values: data.input.values.map((v, e) => v + shifts(e)) } };
          try {
            const [plain, moved] = [runChecked(recipe, data), runChecked(recipe, shifted)];
            const scales = errorScales(recipe, shifted);
            fail(firstMismatch('value after the shift', moved.value, plain.value, scales.value, 2 * rtol));
            fail(firstMismatch('gradient after the shift', moved.input, plain.input, scales.input, 2 * rtol));
            // Row sums: Σ_c ∂loss/∂z_c = 0, to rounding of the row's terms (a mean over no weight is NaN, as in PyTorch).
            if (meanOverNothing(recipe, data)) return;
            for (let e = 0; e < plain.input.length; e += 1) {
              const o = Math.floor(e / (classes * inner));
              if (Math.floor(e / inner) % classes !== 0) continue; // one visit per sample, at its class 0
              let sum = 0;
              let size = 0;
              for (let c = 0; c < classes; c++) {
                const at = (o * classes + c) * inner + (e % inner);
                sum += plain.input[at];
                size += Math.abs(plain.input[at]) + scales.input[at];
              }
              if (!(Math.abs(sum) <= 4 * rtol * size + UNDERFLOW))
                throw new Error(`gradient row of sample at element ${e} sums to ${sum} (row size ${size})`);
            }
          } finally {
            disposeCase(data);
          }
        },
        INVARIANT_RUNS,
      );
    });
  });
});
