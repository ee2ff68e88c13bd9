import { SIMD_KERNELS_BASE64 } from './binary';

/**
 * The WebAssembly SIMD inner loops of the softmax cross-entropy and BCE-with-logits kernels (src/kernels/host/simd/kernels.wat,
 * compiled by `npm run build:simd`): exponentials four at a time, where plain JavaScript does one.
 * The module is about 1 KB, so it is compiled synchronously on first use, in Node and in browsers
 * (which allow synchronous compilation of modules under 4 KB on the main thread). Where WebAssembly
 * or its SIMD proposal is missing, `simdKernels()` is null and the kernels stay in JavaScript.
 */
export interface SimdKernels {
  /**
   * Per row of `rows × cols` float32 at byte offset `logits`: `exp(x - max)` at `exps`, float64
   * (max, sum) pairs at `stats`; when `numerators` (float64 per row) is not 0, then
   * `exps[r][c]·numerators[r]/sum_r - pull[c]` (pull: float32 per class) in place of the exps.
   */
  softmaxRows(logits: number, exps: number, rows: number, cols: number, stats: number, numerators: number, pull: number): void;
  /**
   * Binary cross-entropy with logits of `count` (a multiple of 4) float32 elements: returns the float64
   * sum of the losses; writes per-element losses and gradients (times `scale`) where those offsets are
   * not 0; weight and posWeight offsets of 0 mean all ones.
   */
  bceLogits(
    x: number,
    y: number,
    weight: number,
    posWeight: number,
    count: number,
    scale: number,
    losses: number,
    inputGradient: number,
    targetGradient: number,
  ): number;
  /** Float32 and float64 views of the module's memory, at least `bytes` long (the memory grows, never shrinks). */
  memory(bytes: number): { f32: Float32Array; f64: Float64Array };
}

interface Exports {
  memory: WebAssembly.Memory;
  softmax_rows(logits: number, exps: number, rows: number, cols: number, stats: number, numerators: number, pull: number): void;
  bce_logits(
    x: number,
    y: number,
    weight: number,
    posWeight: number,
    count: number,
    scale: number,
    losses: number,
    inputGradient: number,
    targetGradient: number,
  ): number;
}

let loaded: SimdKernels | null | undefined;
let enabled = true;

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let k = 0; k < binary.length; k++) bytes[k] = binary.charCodeAt(k);
  return bytes;
}

function load(): SimdKernels | null {
  if (typeof WebAssembly !== 'object' || typeof atob !== 'function') return null;
  const bytes = decodeBase64(SIMD_KERNELS_BASE64);
  if (!WebAssembly.validate(bytes)) return null; // no SIMD support
  const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as Exports;
  let views = { f32: new Float32Array(exports.memory.buffer), f64: new Float64Array(exports.memory.buffer) };
  return {
    softmaxRows: exports.softmax_rows,
    bceLogits: exports.bce_logits,
    memory(bytes: number) {
      const missing = bytes - exports.memory.buffer.byteLength;
      if (missing > 0) exports.memory.grow(Math.ceil(missing / 65536));
      if (views.f32.buffer !== exports.memory.buffer)
        views = { f32: new Float32Array(exports.memory.buffer), f64: new Float64Array(exports.memory.buffer) };
      return views;
    },
  };
}

/** The SIMD kernels, or null where they cannot run (or after `setSimdEnabled(false)`). */
export function simdKernels(): SimdKernels | null {
  if (!enabled) return null;
  if (loaded === undefined) {
    try {
      loaded = load();
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/**
 * Turns the SIMD loops off (the kernels then run in plain JavaScript) or back on, e.g. to compare the
 * two in tests. Both give the same results within float32 rounding of the exponentials.
 */
export function setSimdEnabled(value: boolean): void {
  enabled = value;
}
