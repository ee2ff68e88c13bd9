import { execFileSync } from 'child_process';
import * as path from 'path';
import { binaryCrossEntropyFromLogits } from '../../../src/kernels/host/binaryCrossEntropyWithLogits';
import { softmaxCrossEntropyWithIndices } from '../../../src/kernels/host/crossEntropy';
import { setSimdEnabled, simdKernels } from '../../../src/kernels/host/simd/simdKernels';
import type { Reduction } from '../../../src/core/options';
import { seededRandom } from '../../../src/check/random';

/**
 * The SIMD loops (WebAssembly) against the plain JavaScript loops of the same kernels: the same loss
 * and gradient within float32 rounding of the exponentials, on rows that need every code path (vector
 * body and tail, several blocks of rows, ignored rows, extreme and non-finite logits). Agreement with
 * the float64 reference, on both kernel paths, is in kernelPaths.test.ts.
 */

/** Seeded uniform numbers in [0, 1): the same inputs on every backend and run. */
const random = (seed: number): (() => number) => seededRandom(seed).uniform;

function run(
  simd: boolean,
  logits: Float32Array,
  target: Int32Array,
  classes: number,
  options: { weight?: Float32Array; labelSmoothing?: number; ignoreIndex?: number; reduction?: Reduction },
) {
  setSimdEnabled(simd);
  try {
    const rows = target.length;
    return softmaxCrossEntropyWithIndices(
      {
        logits,
        layout: { outer: rows, classes, inner: 1 },
        weight: options.weight ?? null,
        labelSmoothing: options.labelSmoothing ?? 0,
        reduction: options.reduction ?? 'mean',
        sampleShape: [rows],
        target,
        ignoreIndex: options.ignoreIndex ?? -100,
      },
      true,
    );
  } finally {
    setSimdEnabled(true);
  }
}

function expectSame(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  expect(a.length).toBe(b.length);
  let worst = 0;
  let at = -1;
  for (let k = 0; k < a.length; k++) {
    const same = Number.isNaN(b[k]) ? Number.isNaN(a[k]) : a[k] === b[k] || Math.abs(a[k] - b[k]) <= 1e-7 + 2e-6 * Math.abs(b[k]);
    if (!same && (at < 0 || Math.abs(a[k] - b[k]) > worst)) {
      worst = Math.abs(a[k] - b[k]);
      at = k;
    }
  }
  expect(at < 0 ? 'same' : `${what}: differs at ${at}: ${a[at]} vs ${b[at]}`).toBe('same');
}

describe('SIMD softmax rows', () => {
  it('loads (WebAssembly SIMD is in every Node this package supports)', () => {
    expect(simdKernels()).not.toBeNull();
  });

  it('is the binary of kernels.wat as compile.mjs builds it (binary.ts is not stale)', () => {
    const script = path.join(__dirname, '../../../src/kernels/host/simd/compile.mjs');
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  const cases: Array<{ name: string; rows: number; classes: number; options: Parameters<typeof run>[4]; special?: boolean }> = [
    { name: '1000 classes, two blocks of rows (2.2M logits)', rows: 2200, classes: 1000, options: {} },
    {
      name: '13 classes (vector body and a tail of 1), weights, smoothing, ignored rows, none',
      rows: 50,
      classes: 13,
      options: {
        weight: Float32Array.from({ length: 13 }, (_, c) => (c % 4) * 0.5),
        labelSmoothing: 0.2,
        ignoreIndex: 4,
        reduction: 'none',
      },
    },
    { name: '8 classes (no tail), sum', rows: 40, classes: 8, options: { reduction: 'sum' } },
    { name: '11 classes with ±1e4, ±Infinity and NaN logits, none', rows: 30, classes: 11, options: { reduction: 'none' }, special: true },
  ];
  for (const { name, rows, classes, options, special } of cases) {
    it(`${name}: the same loss and gradient as the JavaScript loops`, () => {
      const next = random(rows * classes);
      const logits = Float32Array.from({ length: rows * classes }, () => (next() * 2 - 1) * 8);
      if (special === true) {
        logits.set([1e4, -1e4], 0);
        logits.set([-Infinity], classes * 2 + 3); // one -Infinity: fine
        logits.set([Infinity], classes * 3 + 5); // +Infinity: NaN for that row, as PyTorch
        logits.set([NaN], classes * 4 + 1); // NaN: NaN for that row
        logits.fill(-Infinity, classes * 5, classes * 6); // a row of -Infinity: NaN
        logits.set([-90, -200], classes * 7); // exponentials that underflow float32
      }
      const target = Int32Array.from({ length: rows }, () => Math.floor(next() * classes));
      const simd = run(true, logits, target, classes, options);
      const plain = run(false, logits, target, classes, options);
      expectSame(simd.value, plain.value, 'loss');
      expectSame(simd.gradients![0], plain.gradients![0], 'gradient');
    });
  }
});

function runBinary(
  simd: boolean,
  input: Float32Array,
  target: Float32Array,
  options: { weight?: Float32Array; posWeight?: Float32Array; reduction?: Reduction },
) {
  setSimdEnabled(simd);
  try {
    const args = {
      input,
      target,
      weight: options.weight ?? null,
      posWeight: options.posWeight ?? null,
      reduction: options.reduction ?? 'mean',
      shape: [input.length],
    };
    return binaryCrossEntropyFromLogits(args, true);
  } finally {
    setSimdEnabled(true);
  }
}

describe('SIMD binary cross-entropy with logits', () => {
  const cases: Array<{ name: string; size: number; options: Parameters<typeof runBinary>[3]; special?: boolean }> = [
    { name: '300,001 elements: two blocks and a tail of 1', size: 300001, options: {} },
    { name: 'weight and posWeight, soft targets, none, a tail of 3', size: 203, options: { reduction: 'none' } },
    { name: '±1e4, ±Infinity, NaN and 0 logits, sum', size: 128, options: { reduction: 'sum' }, special: true },
  ];
  for (const { name, size, options, special } of cases) {
    it(`${name}: the same loss and gradients as the JavaScript loop`, () => {
      const next = random(size);
      const input = Float32Array.from({ length: size }, () => (next() * 2 - 1) * 12);
      const target = Float32Array.from({ length: size }, (_, k) => (k % 3 === 0 ? next() : k % 2));
      if (special === true) input.set([1e4, -1e4, Infinity, -Infinity, NaN, 0, -0, 30, -30, 88, -104], 0);
      const withWeights =
        options.reduction === 'none'
          ? {
              ...options,
              weight: Float32Array.from({ length: size }, (_, k) => (k % 5) * 0.5),
              posWeight: Float32Array.from({ length: size }, (_, k) => 0.5 + (k % 3)),
            }
          : options;
      const simd = runBinary(true, input, target, withWeights);
      const plain = runBinary(false, input, target, withWeights);
      expectSame(simd.value, plain.value, 'loss');
      expectSame(simd.gradients![0], plain.gradients![0], 'input gradient');
      expectSame(simd.gradients![1], plain.gradients![1], 'target gradient');
    });
  }
});
