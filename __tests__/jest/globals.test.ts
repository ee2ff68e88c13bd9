// The matchers with the `expect` of @jest/globals. This file type-checks (npm run typecheck) only if
// `matchers` fits that expect's `extend` (its MatcherContext) and the matchers extend the `Matchers` of
// Jest's expect package, which @jest/globals uses, not the global `jest.Matchers`.
import { describe, expect, it } from '@jest/globals';
import * as tf from '@tensorflow/tfjs';
import { matchers } from '../../src/jest';

expect.extend(matchers);

describe('jest matchers with the expect of @jest/globals', () => {
  it('pass and fail as with the global expect, .not and .resolves included', async () => {
    const x = tf.tensor1d([1, 2]);
    expect(x).toBeCloseToTensor([1, 2]);
    expect(x).not.toBeCloseToTensor([1, 3]);
    expect(() => expect(x).toBeCloseToTensor([1, 3])).toThrow(/1 of 2 elements differ; worst at \[1\]/);
    expect((z: tf.Tensor) => z.square().sum()).toPassGradcheck([x]);
    expect(() => {
      x.square();
    }).toLeakTensors();
    await expect(Promise.resolve(x)).resolves.toBeCloseToTensor([1, 2]);
    const asyncLeak: Promise<void> = expect(async () => x.square()).not.toLeakTensors();
    await asyncLeak;
    x.dispose();
  });

  it('type-checks the matchers’ arguments (what a type error lets through still fails at run time)', () => {
    const x = tf.scalar(1);
    // @ts-expect-error: toPassGradcheck takes a list of tensors
    expect(() => expect((z: tf.Tensor) => z.sum()).toPassGradcheck(x)).toThrow("argument 'inputs' must be a non-empty array of tensors");
    // @ts-expect-error: the tolerance is an object { rtol, atol }
    expect(() => expect(x).toBeCloseToTensor(2, 1)).toThrow('rtol: 0.0000013, atol: 0.00001');
    x.dispose();
  });
});
