import {
  ReferenceResult,
  ReferenceTensor,
  referenceBinaryCrossEntropy,
  referenceBinaryCrossEntropyWithLogits,
  referenceCrossEntropy,
  referenceNllLoss,
} from '../../src/check/reference';
import { referenceKlDivergence, referenceSigmoidFocalLoss, referenceSoftmaxFocalLoss } from '../../src/check/referenceFocal';
import { FixtureOption, FixtureTensor, fixtureValues, TorchFixtureCase } from '../../src/check/torchFixture';
import type { LibraryLoss } from '../../src/cli/fixtures';
import { LossInputError } from '../../src/core/errors';
import { closeTo, FIXTURE_LOSSES, loadFixtures } from '../helpers/fixtures';

/**
 * The float64 reference against every PyTorch fixture. Both sides compute in float64 from the same
 * float32 numbers, so they agree to rounding: 1e-12 relative. The absolute floor 1e-14 is a few float64
 * ulps of 30 (3.6e-15 each): where a loss is a tiny difference of such terms, e.g. BCE-with-logits
 * at x = -30, y = 0 (exactly log(1 + e^-30) = 9.3576e-14), PyTorch computes `-30 + (30 + log(1 + e^-30))`
 * and gets 9.237e-14 with posWeight, 9.348e-14 without, while the reference never lets the terms cancel.
 */
const RTOL = 1e-12;
const ATOL = 1e-14;
/**
 * torchvision's sigmoid focal loss forms `1 - p_t` by a subtraction in float64, which loses digits
 * where it is small: against the exact number its gradients are off by up to 1.2e-9 (the fixture
 * generator checks them to 1e-8), so its fixtures are compared at that floor. The softmax focal
 * fixtures' autograd through a log-sum-exp of the other classes rounds at logits near 100 to 8e-12.
 */
const TOLERANCE: Partial<Record<LibraryLoss, { rtol: number; atol: number }>> = {
  sigmoidFocalLoss: { rtol: 1e-9, atol: 1e-8 },
  softmaxFocalLoss: { rtol: 1e-10, atol: ATOL },
};

type ReferenceFunction = (
  input: ReferenceTensor,
  target: ReferenceTensor,
  options: object,
  upstream?: ArrayLike<number>,
) => ReferenceResult;

const REFERENCES: Record<LibraryLoss, ReferenceFunction> = {
  binaryCrossEntropy: referenceBinaryCrossEntropy,
  binaryCrossEntropyWithLogits: referenceBinaryCrossEntropyWithLogits,
  crossEntropy: referenceCrossEntropy,
  nllLoss: referenceNllLoss,
  sigmoidFocalLoss: referenceSigmoidFocalLoss,
  softmaxFocalLoss: referenceSoftmaxFocalLoss,
  klDivergence: referenceKlDivergence,
};

/** A fixture tensor as the reference takes it: float32 numbers exactly as PyTorch used them. */
function referenceTensor(t: FixtureTensor): ReferenceTensor {
  const values = fixtureValues(t);
  return { shape: t.shape, values: t.dtype === 'float32' ? Float32Array.from(values) : values };
}

const isFixtureTensor = (option: FixtureOption): option is FixtureTensor =>
  typeof option === 'object' && option !== null && !Array.isArray(option);

function runReference(loss: LibraryLoss, c: TorchFixtureCase): ReferenceResult {
  const [input, target] = c.inputs.map(referenceTensor);
  const options = Object.fromEntries(Object.entries(c.options).map(([k, o]) => [k, isFixtureTensor(o) ? referenceTensor(o) : o]));
  return REFERENCES[loss](input, target, options, c.upstream === null ? undefined : referenceTensor(c.upstream).values);
}

function expectClose(actual: ArrayLike<number>, expected: FixtureTensor, what: string, loss: LibraryLoss): void {
  const { rtol, atol } = TOLERANCE[loss] ?? { rtol: RTOL, atol: ATOL };
  const check = closeTo(actual, fixtureValues(expected), rtol, atol);
  expect(check.pass ? 'close' : `${what}: ${check.message}`).toBe('close');
}

for (const loss of FIXTURE_LOSSES) {
  describe(`reference ${loss} against PyTorch fixtures`, () => {
    const fixture = loadFixtures(loss);
    it('has cases', () => expect(fixture.cases.length).toBeGreaterThan(50));
    test.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
      const result = runReference(loss, c);
      expect(result.value.shape).toEqual(c.value.shape);
      expectClose(result.value.values, c.value, 'value', loss);
      // PyTorch differentiates a float target (not float32 class indices); the reference does the same.
      expect(Object.keys(c.gradients)).toEqual(result.grad.target === null ? ['input'] : ['input', 'target']);
      expectClose(result.grad.input, c.gradients.input, 'gradient of input', loss);
      if (result.grad.target !== null) expectClose(result.grad.target, c.gradients.target, 'gradient of target', loss);
    });
  });
}

describe('reference: gradients against central differences in float64', () => {
  // Independent of PyTorch: each gradient is the derivative of the reference's own value.
  const h = 1e-6;
  function numericalGradient(f: (x: Float64Array) => number, at: Float64Array): Float64Array {
    return at.map((_, k) => {
      const plus = Float64Array.from(at);
      const minus = Float64Array.from(at);
      plus[k] += h;
      minus[k] -= h;
      return (f(plus) - f(minus)) / (2 * h);
    });
  }
  const scalar = (r: ReferenceResult) => r.value.values[0];
  const logits = { shape: [2, 3, 2], values: Float64Array.of(0.3, -1.2, 2.0, 0.1, -0.4, 0.9, 1.1, -2.2, 0.0, 0.7, 0.5, -0.3) };

  it('crossEntropy with probability targets, weight, smoothing and channels-last', () => {
    const target = { shape: [2, 3, 2], values: Float64Array.of(0.2, 0.5, 0.3, 0.1, 0.5, 0.4, 0.6, 0.3, 0.1, 0.2, 0.3, 0.5) };
    const options = { weight: { shape: [2], values: [0.5, 2] }, labelSmoothing: 0.2, classAxis: -1 };
    const r = referenceCrossEntropy(logits, target, options);
    const dInput = numericalGradient(
      (x) => scalar(referenceCrossEntropy({ shape: logits.shape, values: x }, target, options)),
      logits.values,
    );
    const dTarget = numericalGradient(
      (t) => scalar(referenceCrossEntropy(logits, { shape: target.shape, values: t }, options)),
      target.values,
    );
    expect(closeTo(r.grad.input, dInput, 1e-7, 1e-9).message).toBe('');
    expect(closeTo(r.grad.target ?? [], dTarget, 1e-7, 1e-9).message).toBe('');
  });

  it('crossEntropy with class indices, weight, smoothing and an ignored target, per-sample upstream', () => {
    const target = { shape: [2, 2], values: [2, -100, 0, 1] };
    const upstream = [0.5, -1, 2, 0.25];
    const options = { weight: { shape: [3], values: [0.5, 2, 1.5] }, labelSmoothing: 0.1, reduction: 'none' as const };
    const weighted = (r: ReferenceResult) => upstream.reduce((sum, u, k) => sum + u * r.value.values[k], 0);
    const r = referenceCrossEntropy(logits, target, options, upstream);
    const dInput = numericalGradient(
      (x) => weighted(referenceCrossEntropy({ shape: logits.shape, values: x }, target, options)),
      logits.values,
    );
    expect(closeTo(r.grad.input, dInput, 1e-7, 1e-9).message).toBe('');
  });

  it('binaryCrossEntropyWithLogits and binaryCrossEntropy with broadcast weight and posWeight', () => {
    const x = { shape: [2, 3], values: Float64Array.of(0.3, -1.2, 2.0, 0.1, -0.4, 0.9) };
    const p = { shape: [2, 3], values: Float64Array.of(0.3, 0.8, 0.5, 0.1, 0.45, 0.9) };
    const y = { shape: [2, 3], values: Float64Array.of(0.2, 1, 0, 0.7, 0.5, 1) };
    const options = { weight: { shape: [2, 1], values: [0.5, 2] }, posWeight: { shape: [3], values: [1.5, 0.5, 3] } };
    for (const [f, input, opts] of [
      [referenceBinaryCrossEntropyWithLogits, x, options],
      [referenceBinaryCrossEntropy, p, { weight: options.weight }],
    ] as const) {
      const r = f(input, y, opts);
      const dInput = numericalGradient((v) => scalar(f({ shape: input.shape, values: v }, y, opts)), input.values);
      const dTarget = numericalGradient((t) => scalar(f(input, { shape: y.shape, values: t }, opts)), y.values);
      expect(closeTo(r.grad.input, dInput, 1e-7, 1e-9).message).toBe('');
      expect(closeTo(r.grad.target ?? [], dTarget, 1e-7, 1e-9).message).toBe('');
    }
  });
});

describe('reference: invalid arguments', () => {
  const input = { shape: [2, 3], values: [0, 0, 0, 0, 0, 0] };
  it.each([
    ['an out-of-range class index', () => referenceCrossEntropy(input, { shape: [2], values: [0, 3] })],
    ['a target of the wrong shape', () => referenceNllLoss(input, { shape: [3], values: [0, 1, 2] })],
    [
      'a weight of the wrong length',
      () => referenceCrossEntropy(input, { shape: [2], values: [0, 1] }, { weight: { shape: [2], values: [1, 1] } }),
    ],
    [
      'a posWeight that does not broadcast',
      () => referenceBinaryCrossEntropyWithLogits(input, input, { posWeight: { shape: [2], values: [1, 1] } }),
    ],
    ['an upstream of the wrong length', () => referenceBinaryCrossEntropy(input, input, { reduction: 'none' }, [1, 2])],
    ['ignoreIndex with probability targets', () => referenceCrossEntropy(input, input, { ignoreIndex: 0 })],
  ])('rejects %s', (_what, call) => {
    expect(call).toThrow(LossInputError);
  });
});
