import * as tf from '@tensorflow/tfjs';
import { readFileSync } from 'fs';
import { join } from 'path';
import {
  checkTorchFixture,
  checkTorchFixtureAsync,
  fixtureValues,
  parseTorchFixture,
  TorchFixture,
  TorchFixtureCase,
} from '../../src/check/torchFixture';
import { loadLoss } from '../../src/cli/loadLoss';
import { binaryCrossEntropyWithLogits } from '../../src/losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { nllLoss } from '../../src/losses/nllLoss';
import { describeEachBackend, expectNoLeak } from '../helpers/backends';

const ROOT = join(__dirname, '..', '..');
/** A fixture file as JSON (a fresh copy each time, so a test may change it). */
const readJson = (path: string) => JSON.parse(readFileSync(join(ROOT, path), 'utf8')) as TorchFixture;
const CE = 'examples/fixtures/cross-entropy.json';
const NON_FINITE = '__tests__/check/fixtures/non-finite.json';
const LIBRARY: Record<string, typeof crossEntropy> = { crossEntropy, nllLoss, binaryCrossEntropyWithLogits };
const SMOOTHING_LOSS = join(__dirname, '..', 'cli', 'fixtures', 'smoothing-loss.js');

/** `fixture` with the first number of `tensor` (of its first case) multiplied by 1 + 1e-3. */
function perturbed(fixture: TorchFixture, tensor: (c: TorchFixtureCase) => { values: unknown[] }): TorchFixture {
  const values = tensor(fixture.cases[0]).values;
  const k = values.findIndex((v) => typeof v === 'number' && Math.abs(v) > 1e-3);
  values[k] = (values[k] as number) * (1 + 1e-3);
  return fixture;
}

describeEachBackend('checkTorchFixture', () => {
  it('passes the library losses on PyTorch fixtures, reporting each quantity, and leaves no tensor behind', () => {
    const report = expectNoLeak(() => checkTorchFixture(crossEntropy, readJson(CE)));
    expect(report).toMatchObject({ passed: true, vacuous: false, failures: [] });
    expect(report.summary).toMatch(/^the case matches PyTorch \(max value error/);
    const [c] = report.cases;
    expect(c.quantities.map((q) => [q.quantity, q.shape, q.passed])).toEqual([
      ['value', [], true],
      ['gradient of input', [8, 4], true],
    ]);
    expect(c.quantities[1].worst).toMatchObject({ position: expect.stringMatching(/^\[\d, \d\]$/) });
    expect(report.maxGradientError).toBeLessThan(1e-6);
  });

  it('gives the same report asynchronously', async () => {
    const fixture = readJson('examples/fixtures/bce-with-logits.json');
    expect(await checkTorchFixtureAsync(binaryCrossEntropyWithLogits, fixture)).toEqual(
      checkTorchFixture(binaryCrossEntropyWithLogits, fixture),
    );
  });

  it('round-trips NaN and ±Infinity: inputs, values and gradients', () => {
    const fixture = parseTorchFixture(readJson(NON_FINITE));
    const values = fixture.cases.flatMap((c) => [c.inputs[0], c.value, c.gradients.input].flatMap(fixtureValues));
    expect([values.some(Number.isNaN), values.includes(Infinity), values.includes(-Infinity)]).toEqual([true, true, true]);
    for (const c of fixture.cases) {
      const report = expectNoLeak(() => checkTorchFixture(LIBRARY[c.call], { ...fixture, cases: [c] }));
      expect(report.failures).toEqual([]);
    }
    // NaN matches only NaN: a finite number where PyTorch has NaN fails.
    const ignored = fixture.cases.filter((c) => c.name === 'crossEntropy every target ignored mean');
    const report = checkTorchFixture((z: tf.Tensor) => tf.zerosLike(z).sum(), { ...fixture, cases: ignored });
    expect(report.failures[0]).toMatch(/value differs in 1 of 1 element; worst at \[\]: tfjs 0, PyTorch NaN/);
  });

  it.each([
    ['value', (c: TorchFixtureCase) => c.value, /^case 'crossEntropy 0': value differs in 1 of 1 element; worst at \[\]: tfjs /],
    [
      'a gradient',
      (c: TorchFixtureCase) => c.gradients.input,
      /^case 'crossEntropy 0': gradient of input differs in 1 of 32 elements; worst at \[0, 0\]/,
    ],
  ])('fails when a recorded %s is changed by 1e-3 relative, naming the quantity', (_what, tensor, message) => {
    const report = checkTorchFixture(crossEntropy, perturbed(readJson(CE), tensor));
    expect(report.passed).toBe(false);
    expect(report.failures).toHaveLength(1);
    expect(report.failures[0]).toMatch(message);
    expect(report.summary).toMatch(/^1 of 1 cases fail/);
  });

  it('fails a user loss that smooths labels with ε/(C + 1), and passes the one with ε/C', async () => {
    const correct = await loadLoss(SMOOTHING_LOSS, 'correct');
    const dividedByCPlusOne = await loadLoss(SMOOTHING_LOSS, 'dividedByCPlusOne');
    expect(checkTorchFixture(correct.loss, readJson(CE)).failures).toEqual([]);
    const report = checkTorchFixture(dividedByCPlusOne.loss, readJson(CE));
    expect(report.failures.map((f) => f.split(';')[0])).toEqual([
      "case 'crossEntropy 0': value differs in 1 of 1 element",
      "case 'crossEntropy 0': gradient of input differs in 31 of 32 elements",
    ]);
  });

  it('fails, with the reason, a function that throws, returns no tensor, gives another shape or cannot be differentiated', () => {
    const fixture = readJson(CE);
    const reasons = [
      () => {
        throw new Error('no such option');
      },
      () => 0.5,
      (z: tf.Tensor) => z.sum(1),
      (z: tf.Tensor, y: tf.Tensor, options: object) => tf.scalar(crossEntropy(z, y, options).dataSync()[0]), // read on the host
    ].map((fn) => expectNoLeak(() => checkTorchFixture(fn as never, fixture)).failures);
    expect(reasons).toEqual([
      ["case 'crossEntropy 0': crossEntropy throws: no such option"],
      ["case 'crossEntropy 0': crossEntropy returns 0.5, not a tf.Tensor"],
      ["case 'crossEntropy 0': value has shape [8], PyTorch's has shape []"],
      [expect.stringMatching(/^case 'crossEntropy 0': crossEntropy cannot be differentiated with respect to input: /)],
    ]);
  });

  it('fails a check in which both sides are identically 0 (vacuous)', () => {
    const fixture = readJson(NON_FINITE);
    const zeros = fixture.cases[3]; // every target ignored: PyTorch's gradient is 0
    zeros.value.values = [0];
    const report = checkTorchFixture((z: tf.Tensor) => tf.zerosLike(z).sum(), { ...fixture, cases: [zeros] });
    expect(report).toMatchObject({ passed: false, vacuous: true });
    expect(report.failures).toEqual([expect.stringMatching(/^vacuous: tfjs and PyTorch are both identically 0/)]);
  });

  it('honours the tolerance given', () => {
    const fixture = perturbed(readJson(CE), (c) => c.value);
    expect(checkTorchFixture(crossEntropy, fixture, { rtol: 2e-3 }).passed).toBe(true);
    expect(checkTorchFixture(crossEntropy, fixture, { gradient: { rtol: 2e-3 } }).passed).toBe(false);
  });
});

describe('parseTorchFixture', () => {
  const edited = (edit: (fixture: Record<string, unknown> & { cases: Array<Record<string, unknown>> }) => void) => {
    const fixture = readJson(CE) as unknown as Record<string, unknown> & { cases: Array<Record<string, unknown>> };
    edit(fixture);
    return fixture;
  };

  it.each([
    [null, /argument 'fixture\.format' must be 'tfjs-loss-adapter\/torch-fixture' \(a fixture recorded by record_fixture\.py\), got null/],
    [
      edited((f) => (f.version = 2)),
      /argument 'fixture\.version' must be 1, the fixture version this release of tfjs-loss-adapter reads, got 2/,
    ],
    [edited((f) => (f.cases = [])), /argument 'fixture\.cases' must be a non-empty list of cases, got an array of length 0/],
    [
      edited((f) => (f.cases[0].precision = 'half')),
      /argument 'fixture\.cases\[0\]\.precision' must be 'float64' or 'as-given', got "half"/,
    ],
    [
      edited((f) => (f.cases[0].value = { dtype: 'float64', shape: [2], values: [1] })),
      /argument 'fixture\.cases\[0\]\.value\.values' must be 2 values for shape \[2\], got an array of length 1/,
    ],
    [
      edited((f) => (f.cases[0].value = { dtype: 'complex64', shape: [], values: [1] })),
      /argument 'fixture\.cases\[0\]\.value\.dtype' must be one of float16, .*, bool, got "complex64"/,
    ],
    [
      edited((f) => (f.cases[0].value = { dtype: 'float64', shape: [], values: ['nan'] })),
      /argument 'fixture\.cases\[0\]\.value\.values\[0\]' must be a number, "NaN", "Infinity" or "-Infinity", got "nan"/,
    ],
    [
      edited((f) => ((f.cases[0].inputs as Array<{ values: number[] }>)[1].values[0] = 2 ** 40)),
      /argument 'fixture\.cases\[0\]\.inputs\[1\]\.values\[0\]' must be an integer in the int32 range, got 1099511627776/,
    ],
    [
      edited((f) => (f.cases[0].gradients = { logits: (f.cases[0].gradients as Record<string, unknown>).input })),
      /argument 'fixture\.cases\[0\]\.gradients\.logits' must be the gradient of an input or tensor option named 'logits', got "no such input or option"/,
    ],
    [
      edited((f) => f.cases.push(f.cases[0])),
      /argument 'fixture\.cases\[1\]\.name' must be a name no other case has, got "crossEntropy 0"/,
    ],
  ])('refuses what is not a fixture of version 1, naming the field (%#)', (json, message) => {
    expect(() => parseTorchFixture(json)).toThrow(message);
    expect(() => checkTorchFixture(crossEntropy, json)).toThrow(message);
  });
});
