/**
 * The matchers of `tfjs-loss-adapter/jest` that check a loss against a PyTorch fixture recorded by
 * `python/record_fixture.py` (`npx tfjs-loss-adapter fixture-script` prints its path):
 *
 * ```ts jest
 * import { binaryCrossEntropyWithLogits, crossEntropy } from 'tfjs-loss-adapter';
 * import 'tfjs-loss-adapter/jest';
 *
 * test('the losses match PyTorch', async () => {
 *   expect(crossEntropy).toMatchTorchFixture('examples/fixtures/cross-entropy.json');
 *   expect(binaryCrossEntropyWithLogits).toMatchTorchFixture('examples/fixtures/bce-with-logits.json', { rtol: 1e-4 });
 *   await expect(crossEntropy).toMatchTorchFixtureAsync('examples/fixtures/cross-entropy.json');   // reads only with await data() (webgpu)
 * });
 * ```
 */
import {
  checkTorchFixture,
  checkTorchFixtureAsync,
  FixtureFunction,
  TorchFixture,
  TorchFixtureOptions,
  TorchFixtureReport,
} from '../check/torchFixture';
import { readTorchFixture } from '../check/torchFixtureFile';
import type { MatcherContext, MatcherResult } from './index';

/** The received loss and the fixture, read from its path (relative to the working directory) when given one. */
function prepare(matcher: string, received: unknown, fixture: string | TorchFixture): [FixtureFunction, TorchFixture] {
  if (typeof received !== 'function')
    throw new Error(`${matcher}: the received value must be a loss function (...inputs, options) => tf.Tensor, got ${typeof received}`);
  return [received as FixtureFunction, typeof fixture === 'string' ? readTorchFixture(fixture) : fixture];
}

function result(context: MatcherContext, matcher: string, fixture: string | TorchFixture, report: TorchFixtureReport): MatcherResult {
  const source = typeof fixture === 'string' ? `'${fixture}'` : 'fixture';
  const details = report.passed ? report.summary : [report.summary, ...report.failures.slice(1)].join('\n');
  return { pass: report.passed, message: () => `expect(loss)${context.isNot ? '.not' : ''}.${matcher}(${source})\n\n${details}` };
}

function toMatchTorchFixture(
  this: MatcherContext,
  received: unknown,
  fixture: string | TorchFixture,
  options: TorchFixtureOptions = {},
): MatcherResult {
  const [loss, parsed] = prepare('toMatchTorchFixture', received, fixture);
  return result(this, 'toMatchTorchFixture', fixture, checkTorchFixture(loss, parsed, options));
}

async function toMatchTorchFixtureAsync(
  this: MatcherContext,
  received: unknown,
  fixture: string | TorchFixture,
  options: TorchFixtureOptions = {},
): Promise<MatcherResult> {
  const [loss, parsed] = prepare('toMatchTorchFixtureAsync', received, fixture);
  return result(this, 'toMatchTorchFixtureAsync', fixture, await checkTorchFixtureAsync(loss, parsed, options));
}

/** `toMatchTorchFixture`, one of `matchers`. */
export const torchFixtureMatchers = { toMatchTorchFixture };

/** `toMatchTorchFixtureAsync`, one of `asyncMatchers`. */
export const torchFixtureAsyncMatchers = { toMatchTorchFixtureAsync };
