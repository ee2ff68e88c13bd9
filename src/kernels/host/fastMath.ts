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

/** Nodes per unit of the softplus table, and where it ends: beyond, `exp(-a)` alone is accurate to 1e-9 relative. */
const SOFTPLUS_NODES_PER_UNIT = 32;
const SOFTPLUS_TABLE_END = 20;
/**
 * At each node `a_k = k/32`, the Taylor coefficients of `f(a) = log1p(exp(-a))`: f, f', f''/2, f'''/6,
 * f''''/24, from `s = σ(-a)`, `g = s(1-s)`: f' = -s, f'' = g, f''' = -g(1-2s), f'''' = g(1-2s)² - 2g².
 */
const SOFTPLUS_TAYLOR = (() => {
  const nodes = SOFTPLUS_TABLE_END * SOFTPLUS_NODES_PER_UNIT + 1;
  const table = new Float64Array(5 * nodes);
  for (let k = 0; k < nodes; k++) {
    const a = k / SOFTPLUS_NODES_PER_UNIT;
    const s = Math.exp(-a) / (1 + Math.exp(-a));
    const g = s * (1 - s);
    table.set([Math.log1p(Math.exp(-a)), -s, g / 2, (-g * (1 - 2 * s)) / 6, (g * (1 - 2 * s) ** 2 - 2 * g * g) / 24], 5 * k);
  }
  return table;
})();

/**
 * `log1p(exp(-a))` (= softplus(-a)) for `a >= 0`, and in `sigmoidOut[0]` its negated derivative
 * `σ(-a) = exp(-a)/(1 + exp(-a))`: the two numbers a binary loss on logits needs per element, from one
 * table lookup and two polynomials of degree 4 on |a - a_k| <= 1/64 (errors below 1e-11 and 1e-9
 * relative), with no exponential, logarithm or division below a = 20. NaN gives NaN; Infinity gives 0.
 */
export function softplusOfNegative(a: number, sigmoidOut: Float64Array): number {
  if (!(a < SOFTPLUS_TABLE_END)) {
    // log1p(e) = e·(1 - e/2 + ...) and σ(-a) = e·(1 - e + ...) with e = exp(-a) < 2.1e-9.
    const e = expNonPositive(-a);
    sigmoidOut[0] = e;
    return e;
  }
  const k = (a * SOFTPLUS_NODES_PER_UNIT + 0.5) | 0;
  const d = a - k / SOFTPLUS_NODES_PER_UNIT;
  const at = 5 * k;
  const c1 = SOFTPLUS_TAYLOR[at + 1];
  const c2 = SOFTPLUS_TAYLOR[at + 2];
  const c3 = SOFTPLUS_TAYLOR[at + 3];
  const c4 = SOFTPLUS_TAYLOR[at + 4];
  sigmoidOut[0] = -(c1 + d * (2 * c2 + d * (3 * c3 + d * (4 * c4))));
  return SOFTPLUS_TAYLOR[at] + d * (c1 + d * (c2 + d * (c3 + d * c4)));
}
