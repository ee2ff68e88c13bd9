import * as path from 'path';
import type { TorchFixture } from '../../src/check/torchFixture';
import { readTorchFixture } from '../../src/check/torchFixtureFile';
import { LIBRARY_LOSSES, LibraryLoss } from '../../src/cli/fixtures';

/**
 * The PyTorch golden fixtures written by tools/generate_fixtures.py, through the recorder users have
 * (python/record_fixture.py, docs/fixture-format.md), and a comparison of results with expected values.
 */

/** The losses with a fixture file `__tests__/fixtures/<loss>.json`: every loss `verify --fixtures` knows. */
export const FIXTURE_LOSSES = Object.keys(LIBRARY_LOSSES) as LibraryLoss[];

export function loadFixtures(loss: LibraryLoss): TorchFixture {
  return readTorchFixture(path.join(__dirname, '..', 'fixtures', `${loss}.json`));
}

export interface Closeness {
  pass: boolean;
  /** Empty when `pass`; else what differs, with the worst element. */
  message: string;
}

/**
 * Elementwise `|actual - expected| <= atol + rtol·|expected|`, where NaN matches only NaN and an
 * infinity only the same infinity. On failure the message names the worst element: the one furthest
 * outside its tolerance, a NaN or infinity mismatch first.
 */
export function closeTo(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number): Closeness {
  if (actual.length !== expected.length) {
    return { pass: false, message: `${actual.length} values, expected ${expected.length}` };
  }
  let worst = -1;
  let worstExcess = 0;
  let failures = 0;
  for (let k = 0; k < expected.length; k++) {
    const a = actual[k];
    const e = expected[k];
    let excess: number;
    if (Number.isNaN(e) || !Number.isFinite(e) || !Number.isFinite(a)) {
      excess = Object.is(a, e) || a === e ? 0 : Infinity;
    } else {
      excess = Math.abs(a - e) / (atol + rtol * Math.abs(e));
      if (excess <= 1) excess = 0;
    }
    if (excess > 0) failures++;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = k;
    }
  }
  if (failures === 0) return { pass: true, message: '' };
  const a = actual[worst];
  const e = expected[worst];
  const error = Math.abs(a - e);
  return {
    pass: false,
    message:
      `${failures} of ${expected.length} values differ; worst at flat index ${worst}: actual ${a}, expected ${e}, ` +
      `|error| ${error}, relative ${error / Math.abs(e)}, tolerance ${atol} + ${rtol}·|expected|`,
  };
}
