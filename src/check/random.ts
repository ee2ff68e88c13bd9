/**
 * A seeded pseudo-random stream for the checking toolkit, computed on the host so that one seed gives
 * the same numbers on every backend and every platform (tfjs' own random ops differ across backends).
 */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** Standard normal (Box–Muller). */
  normal(): number;
  /** Uniform integer in [0, n). */
  integer(n: number): number;
}

/**
 * Mulberry32: a 32-bit state, full period, good enough for test directions and test cases.
 * `streamSeed(seed, ...indices)` derives independent streams, so the stream of, say, direction 3 of
 * input 1 does not depend on how many other inputs or directions were drawn before it.
 *
 * ```js
 * const a = seededRandom(42);
 * const b = seededRandom(42);
 * console.log(a.uniform().toFixed(4), b.uniform().toFixed(4), a.integer(6)); // => 0.6011 0.6011 2
 * ```
 */
export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    uniform,
    normal: () => {
      const radius = Math.sqrt(-2 * Math.log(1 - uniform()));
      return radius * Math.cos(2 * Math.PI * uniform());
    },
    integer: (n) => Math.floor(uniform() * n),
  };
}

/**
 * A 32-bit seed for the stream identified by `seed` and `indices` (a hash, so nearby indices give unrelated streams).
 *
 * ```js
 * console.log(streamSeed(0, 3), streamSeed(0, 4)); // => 1007616808 2303572566
 * const direction3 = seededRandom(streamSeed(0, 3));  // the same numbers however many other streams were drawn
 * ```
 */
export function streamSeed(seed: number, ...indices: number[]): number {
  let h = (seed >>> 0) ^ 0x9e3779b9;
  for (const index of indices) {
    h = Math.imul(h ^ (index >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
