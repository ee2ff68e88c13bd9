import * as tf from '@tensorflow/tfjs';

type GlobalWithExpect = { expect?: unknown };

/** Loads src/jest/setup afresh (with src/jest/index) with `standIn` as the global expect; what it threw, if anything. */
function loadSetupWith(standIn: unknown): unknown {
  const global = globalThis as GlobalWithExpect;
  const saved = global.expect;
  global.expect = standIn;
  try {
    jest.isolateModules(() => jest.requireActual('../../src/jest/setup'));
    return undefined;
  } catch (e) {
    return e;
  } finally {
    global.expect = saved;
  }
}

describe('tfjs-loss-adapter/jest/setup', () => {
  it('registers the matchers, synchronous and asynchronous, with the global expect', () => {
    const registered: string[][] = [];
    const thrown = loadSetupWith({ extend: (matchers: object) => registered.push(Object.keys(matchers)) });
    expect(thrown).toBeUndefined();
    expect(registered).toEqual([
      [
        'toBeCloseToTensor',
        'toPassGradcheck',
        'toBeEquivalentLoss',
        'toLeakTensors',
        'toMatchTorchFixture',
        'toPassGradcheckAsync',
        'toBeEquivalentLossAsync',
        'toMatchTorchFixtureAsync',
        'toPassGradgradcheck',
        'toPassGradgradcheckAsync',
      ],
    ]);
  });

  it('throws, naming the fix, where there is no global expect (injectGlobals: false)', () => {
    const thrown = loadSetupWith(undefined);
    expect(thrown).toBeInstanceOf(Error);
    expect((thrown as Error).message).toBe(
      "tfjs-loss-adapter/jest/setup: there is no global expect to register the matchers with (is Jest's injectGlobals false?); " +
        "call expect.extend(matchers) with the expect of '@jest/globals' and the matchers of 'tfjs-loss-adapter/jest' instead",
    );
  });

  it('registers them with Jest’s own global expect, where they then work', () => {
    expect(loadSetupWith(expect)).toBeUndefined();
    const x = tf.tensor1d([0.5]);
    expect(x).toBeCloseToTensor([0.5]);
    expect(() => expect(x).toBeCloseToTensor([0.6])).toThrow('1 of 1 elements differ');
    x.dispose();
  });
});
