import { compareArrays, describeElement, formatNumber, isClose } from '../../src/check/compare';
import { describeEachBackend } from '../helpers/backends';

describeEachBackend('compare', () => {
  it('allows atol + rtol·|expected| and no more', () => {
    expect(isClose(1.09, 1, 0.05, 0.05)).toBe(true); // 0.09 ≤ 0.05 + 0.05·1
    expect(isClose(1.11, 1, 0.05, 0.05)).toBe(false);
    expect(isClose(-2, -2, 0, 0)).toBe(true);
  });

  it('matches NaN only with NaN and each infinity only with itself', () => {
    expect(isClose(NaN, NaN, 0, 0)).toBe(true);
    expect(isClose(NaN, 0, 1, 1)).toBe(false);
    expect(isClose(Infinity, NaN, 1, 1)).toBe(false);
    expect(isClose(Infinity, Infinity, 0, 0)).toBe(true);
    expect(isClose(-Infinity, -Infinity, 0, 0)).toBe(true);
    expect(isClose(Infinity, -Infinity, 1, 1)).toBe(false);
    expect(isClose(1e300, Infinity, 1, 1)).toBe(false);
  });

  it('counts the mismatches and reports the worst element by error over tolerance, with its position', () => {
    const comparison = compareArrays([1, 2.5, 3, NaN], [1, 2, 3.001, NaN], [2, 2], { rtol: 0, atol: 0.01 });
    expect(comparison).toMatchObject({ passed: false, size: 4, mismatches: 1, maxError: 0.5 });
    expect(comparison.worst).toMatchObject({ index: 1, position: '[0, 1]', actual: 2.5, expected: 2, error: 0.5, tolerance: 0.01 });
    expect(describeElement(comparison.worst!, { rtol: 0, atol: 0.01 })).toBe(
      'at [0, 1]: actual 2.5, expected 2, |difference| 0.5 > tolerance 0.01 (atol 0.01 + rtol 0·|expected|)',
    );
    const infinite = compareArrays([Infinity, 1], [-Infinity, 1], [2]);
    expect(infinite).toMatchObject({ passed: false, mismatches: 1, maxError: Infinity, worst: { index: 0, tolerance: 0 } });
  });

  it('formats numbers with enough digits, in exponent form when very small or large', () => {
    expect(formatNumber(0.123456789)).toBe('0.1234568');
    expect(formatNumber(2.5e-7)).toBe('2.5000e-7');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(NaN)).toBe('NaN');
  });
});
