import * as tf from '@tensorflow/tfjs';
import { classLayout } from '../../src/core/layout';
import { checkOptionNames } from '../../src/core/options';
import { describeValue, toFloatTensor, toTensor } from '../../src/core/tensors';
import { expectInputError } from '../helpers/assertions';
import { describeEachBackend } from '../helpers/backends';

describeEachBackend('argument conversion', () => {
  /** The shape, dtype and values `toTensor` makes of `x`, disposing what it made. */
  function converted(x: unknown): { shape: number[]; dtype: string; values: number[] } {
    const t = toTensor(x, 'f', 'input');
    const out = { shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) };
    if (t !== x) t.dispose();
    return out;
  }

  it('takes numbers, rectangular nested arrays (empty ones too) and typed arrays as tf.tensor does', () => {
    expect(converted(2.5)).toEqual({ shape: [], dtype: 'float32', values: [2.5] });
    expect(
      converted([
        [1, 2],
        [3, 4],
      ]),
    ).toEqual({ shape: [2, 2], dtype: 'float32', values: [1, 2, 3, 4] });
    expect(converted([])).toEqual({ shape: [0], dtype: 'float32', values: [] });
    expect(converted([[], []])).toEqual({ shape: [2, 0], dtype: 'float32', values: [] });
    expect(converted([NaN, Infinity])).toEqual({ shape: [2], dtype: 'float32', values: [NaN, Infinity] });
    expect(converted(new Int32Array([3, 1]))).toEqual({ shape: [2], dtype: 'int32', values: [3, 1] });
    expect(converted([new Float32Array([1, 2]), new Float32Array([3, 4])])).toEqual({
      shape: [2, 2],
      dtype: 'float32',
      values: [1, 2, 3, 4],
    });
  });

  it('converts a Float64Array (which tf.tensor refuses) to float32', () => {
    expect(converted(new Float64Array([0.1, 2]))).toEqual({ shape: [2], dtype: 'float32', values: [Math.fround(0.1), 2] });
  });

  it('returns a tensor argument itself, making nothing', () => {
    const t = tf.tensor1d([1, 2]);
    const before = tf.memory().numTensors;
    expect(toFloatTensor(t, 'f', 'input')).toBe(t);
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
  });

  it('rejects what tf.tensor would misread silently: ragged rows, null, undefined and strings among numbers', () => {
    // tf.tensor itself reads [[1, 2], [3]] as [2, 2] with an invented value, [1, null] as [1, 0], [1, undefined] as [1, NaN].
    expectInputError(
      () => toTensor([[1, 2], [3]], 'f', 'x'),
      "f: argument 'x' must be a rectangular (nested) array of numbers",
      'a row of length 1 at position [1], where the first row has length 2',
    );
    expectInputError(() => toTensor([[1], 2], 'f', 'x'), 'the number 2 at position [1], where an array of length 1 belongs');
    expectInputError(
      () =>
        toTensor(
          [
            [[1, 2]],
            [
              [3, 4],
              [5, 6],
            ],
          ],
          'f',
          'x',
        ),
      'a row of length 2 at position [1]',
    );
    expectInputError(
      () =>
        toTensor(
          [
            [1, 2],
            [3, new Float32Array([4])],
          ],
          'f',
          'x',
        ),
      'an object of type Float32Array at position [1, 1]',
    );
    expectInputError(() => toTensor([1, null], 'f', 'x'), 'null at position [1]');
    expectInputError(() => toTensor([1, undefined], 'f', 'x'), 'undefined at position [1]');
    expectInputError(
      () =>
        toTensor(
          [
            [1, 2],
            [3, '4'],
          ],
          'f',
          'x',
        ),
      'the string "4" at position [1, 1]',
    );
    expectInputError(() => toTensor([true, 1], 'f', 'x'), 'the boolean true at position [0]');
  });

  it('names what it got instead of a tensor', () => {
    expect(describeValue(undefined)).toBe('undefined');
    expect(describeValue('a'.repeat(50))).toBe(`the string "${'a'.repeat(40)}…"`);
    expect(describeValue(() => 1)).toBe('a function');
    expect(describeValue(new Map())).toBe('an object of type Map');
    expect(describeValue(Object.create(null))).toBe('an object of type Object');
    expect(describeValue(true)).toBe('the boolean true');
  });
});

describe('options and layout', () => {
  it('takes undefined as no options, and any plain object of known names', () => {
    expect(() => checkOptionNames(undefined, ['reduction'], 'f')).not.toThrow();
    expect(() => checkOptionNames({ reduction: 'sum' }, ['reduction'], 'f')).not.toThrow();
    expect(() => checkOptionNames(Object.assign(Object.create(null), { reduction: 'sum' }), ['reduction'], 'f')).not.toThrow();
  });

  it('reads a rank-1 input as one unbatched sample for classAxis 1 (the default), 0 and -1, and nothing else', () => {
    for (const classAxis of [1, 0, -1])
      expect(classLayout([4], classAxis, 'f')).toEqual({ axis: 0, layout: { outer: 1, classes: 4, inner: 1 } });
    expectInputError(
      () => classLayout([4], -2, 'f'),
      "'options.classAxis'",
      '-1, 0 or 1 for an unbatched input [C] of shape [4]',
      'got -2',
    );
  });

  it('lays out [N, d1, d2, C] with classAxis -1 as [N·d1·d2, C, 1] and [N, C, d1, d2] as [N, C, d1·d2]', () => {
    expect(classLayout([2, 3, 4, 5], -1, 'f')).toEqual({ axis: 3, layout: { outer: 24, classes: 5, inner: 1 } });
    expect(classLayout([2, 3, 4, 5], 1, 'f')).toEqual({ axis: 1, layout: { outer: 2, classes: 3, inner: 20 } });
  });
});
