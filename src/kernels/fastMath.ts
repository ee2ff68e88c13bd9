/**
 * `exp` and `log1p` on the ranges the loss kernels need, several times faster than `Math.exp` and
 * `Math.log1p` in V8 and accurate to about 1e-10 relative: far below float32's 6e-8, so the kernels'
 * float32 results are unchanged in all but the last bit. Both reduce the argument with a 64-entry
 * table, which leaves a polynomial of low degree on a tiny interval:
 *
 *     exp(x)     = 2^(-m/64) · exp(r)            m = round(-x·64/ln 2),  |r| <= ln2/128
 *     log1p(u)   = log(1 + j/64) + log1p(t)      j = floor(64u),  t = (u - j/64)/(1 + j/64) in [0, 1/64)
 *
 * Kernels only ever take the exponential of a non-positive number (`x - max` in a softmax, `-|x|` in a
 * sigmoid) and the log1p of a number in [0, 1] (`log1p(exp(-|x|))`), so these are the only ranges handled.
 */

const STEPS = 64;
const STEPS_OVER_LN2 = STEPS / Math.LN2;
const LN2_OVER_STEPS = Math.LN2 / STEPS;
/**
 * Below this `exp` returns 0: exp(-104) is about 7e-46, under float32's smallest subnormal (1.4e-45).
 * Results the kernels store are float32, and sums they enter are at least 1.
 */
const EXP_FLOOR = -104;

/** `2^(-m/64)` split as `WHOLE_POWERS[m >> 6] · FRACTION_POWERS[m & 63]`. */
const WHOLE_POWERS = new Float64Array(Math.ceil((-EXP_FLOOR * STEPS_OVER_LN2) / STEPS) + 2).map((_, k) => Math.pow(2, -k));
const FRACTION_POWERS = new Float64Array(STEPS).map((_, j) => Math.pow(2, -j / STEPS));

/** `log(1 + j/64)` and `1/(1 + j/64)` for j = 0..64 (j = 64 for u = 1). */
const LOG_NODES = new Float64Array(STEPS + 1).map((_, j) => Math.log1p(j / STEPS));
const INVERSE_NODES = new Float64Array(STEPS + 1).map((_, j) => 1 / (1 + j / STEPS));

/**
 * `exp(x)` for `x <= 0`, with relative error below 4e-11; 0 below -104 (and for -Infinity), NaN for
 * NaN. A positive argument is a caller's bug: it returns a wrong value, so callers pass `x - max` or `-|x|`.
 */
export function expNonPositive(x: number): number {
  if (!(x > EXP_FLOOR)) return x === x ? 0 : x;
  // m = round(-x·64/ln2) >= 0, so truncation after adding 0.5 rounds.
  const m = (0.5 - x * STEPS_OVER_LN2) | 0;
  const r = x + m * LN2_OVER_STEPS;
  // exp(r) on |r| <= 0.0055: Taylor to degree 3, error below r^4/24 < 4e-11.
  const expR = 1 + r * (1 + r * (0.5 + r * (1 / 6)));
  return WHOLE_POWERS[m >> 6] * FRACTION_POWERS[m & 63] * expR;
}

/**
 * `log1p(u)` for `u` in [0, 1], with relative error below 2e-10 (exact 0 for u = 0; NaN for NaN).
 * Outside [0, 1] it returns a wrong value: callers pass `exp(-|x|)`.
 */
export function log1pUnit(u: number): number {
  const j = (u * STEPS) | 0;
  const t = (u - j / STEPS) * INVERSE_NODES[j];
  // log1p(t) on [0, 1/64): Taylor to degree 5, error below t^6/6 (relative: t^5/6 < 2e-10).
  const log1pT = t * (1 - t * (1 / 2 - t * (1 / 3 - t * (1 / 4 - t * (1 / 5)))));
  return LOG_NODES[j] + log1pT;
}
