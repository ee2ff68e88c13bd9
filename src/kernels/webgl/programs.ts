import * as tf from '@tensorflow/tfjs-core';
import type { ClassLayout } from '../../core/layout';
import type { Reduction } from '../../core/options';
import { webglRunner, webglUnpacked } from '../../core/tfjsInternals';

/**
 * What the webgl kernels share: running a GLSL program on the webgl backend, the accurate math they
 * all need, the ways of reading their inputs (class axis, class-index targets, broadcast weights, the
 * upstream gradient), and the reduction of per-sample losses.
 *
 * Every program writes one float per output element, computed in highp registers. A reduction writes
 * means (sums divided by the block size), never large sums, so that it stays finite in float16 textures
 * (`WEBGL_FORCE_F16_TEXTURES`). Nothing here reads data back to the host. The programs need WebGL 2
 * (loops with uniform bounds, `uintBitsToFloat`): see `webglKernelsAvailable`.
 */

/** The fields of tfjs-backend-webgl's `GPGPUProgram` used here (the library does not import that backend). */
export interface GPGPUProgram {
  variableNames: string[];
  outputShape: number[];
  userCode: string;
  customUniforms?: Array<{ name: string; type: 'float' | 'int'; arrayIndex?: number }>;
  packedOutput?: boolean;
}

/** A uniform of a program: a scalar, or an array (GLSL `type name[length]`). */
export interface Uniform {
  name: string;
  type: 'float' | 'int';
  value: number | number[];
}

/**
 * A piece of a program: GLSL functions, the inputs they sample (each under the name its GLSL reads it
 * by, `getName(...)`) and the uniforms they declare. Pieces combine with `combine`.
 */
export interface GlslPart {
  inputs: Array<[string, tf.Tensor]>;
  uniforms: Uniform[];
  glsl: string;
}

/** The pieces together (inputs and uniforms named alike must be the same: they are listed once). */
export function combine(...parts: GlslPart[]): GlslPart {
  const inputs = new Map<string, tf.Tensor>();
  const uniforms = new Map<string, Uniform>();
  for (const part of parts) {
    for (const [name, tensor] of part.inputs) inputs.set(name, tensor);
    for (const uniform of part.uniforms) uniforms.set(uniform.name, uniform);
  }
  return { inputs: [...inputs], uniforms: [...uniforms.values()], glsl: parts.map((part) => part.glsl).join('\n') };
}

/** A piece with uniforms only. */
export function uniforms(...list: Uniform[]): GlslPart {
  return { inputs: [], uniforms: list, glsl: '' };
}

/** True when the current backend is webgl on WebGL 2, which these kernels need. */
export function webglKernelsAvailable(): boolean {
  return webglRunner() !== null && tf.env().getNumber('WEBGL_VERSION') === 2;
}

/**
 * Runs `main` (a GLSL `void main()` that calls `setOutput`) over `outputShape` on the webgl backend,
 * after the functions of `part`; the float32 result belongs to the caller. With `packed`, the output
 * is a packed texture: each fragment writes the 2×2 block of the last two dimensions whose first
 * element `getOutputCoords()` gives, as `setOutput(vec4)` (see `classAxisPairProgram`).
 */
export function runProgram(outputShape: number[], part: GlslPart, main: string, packed = false): tf.Tensor {
  const run = webglRunner<GPGPUProgram>();
  if (run === null) throw new Error('tfjs-loss-adapter: the webgl kernels run on the webgl backend only');
  const program: GPGPUProgram = {
    variableNames: part.inputs.map(([name]) => name),
    outputShape,
    userCode: `${MATH_GLSL}\n${part.glsl}\n${main}`,
    customUniforms: part.uniforms.map(({ name, type, value }) =>
      Array.isArray(value) ? { name, type, arrayIndex: value.length } : { name, type },
    ),
    packedOutput: packed,
  };
  const values = part.uniforms.map(({ value }) => (Array.isArray(value) ? value : [value]));
  return run(
    program,
    part.inputs.map(([, tensor]) => tensor),
    'float32',
    values,
  );
}

/**
 * `args` with every tensor as an unpacked texture (see `webglUnpacked`): a kernel calls it first, so
 * that a packed input (the logits of a dense layer) is unpacked once, not once per program reading it.
 */
export function unpackedTensors<A extends object>(args: A): A {
  const entries = Object.entries(args).map(([key, value]) => [key, value instanceof tf.Tensor ? webglUnpacked(value) : value]);
  return Object.fromEntries(entries) as A;
}

/** `t` as `shape` (a reshape, free on webgl; `t` itself when the shape is already that). */
export function viewAs(t: tf.Tensor, shape: number[]): tf.Tensor {
  return t.shape.length === shape.length && t.shape.every((d, axis) => d === shape[axis]) ? t : tf.reshape(t, shape);
}

/**
 * Math every kernel needs, accurate to a few float32 ulps where GLSL's plain formula is not:
 * - `expAccurate(x)` as `2^k·exp(r)`, `r = x - k·ln 2` in two parts, `exp(r)` by its Taylor polynomial
 *   (degree 7, |r| ≤ 0.35) and `2^k` from its bits, to 1 ulp: GLSL's exp rounds `x·log2 e` (4e-6 of
 *   relative error at x = -68 on SwiftShader), which a cancelling gradient magnifies;
 * - `log1pAccurate(u)` and `logAccurate(x)` near 1, from a series near 0, where `1 + u` would round;
 * - `softplus(x) = max(x, 0) + log1p(exp(-|x|))`, finite for any finite x, and `sigmoid(x)` without overflow;
 * - `addCompensated(total, term)`, a compensated (Kahan) sum with `total = (sum, carried error)`, for
 *   long sums over the classes;
 * - `infinity()`, as GLSL has no literal for it.
 */
const MATH_GLSL = `
float infinity() { return uintBitsToFloat(0x7f800000u); }
float expAccurate(float x) {
  if (!(x >= -87.0 && x <= 88.0)) return x < -104.0 ? 0.0 : exp(x);
  float k = floor(x * 1.4426950408889634 + 0.5);
  float r = (x - k * 0.693145751953125) - k * 1.4286067653302e-6;
  float e = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0 + r / 5040.0))))));
  return uintBitsToFloat(uint(int(k) + 127) << 23) * e;
}
vec2 addCompensated(vec2 total, float term) {
  float corrected = term - total.y;
  float sum = total.x + corrected;
  return vec2(sum, (sum - total.x) - corrected);
}
float log1pAccurate(float u) {
  if (abs(u) < 0.01) return u * (1.0 - u * (0.5 - u * (1.0 / 3.0 - u * (0.25 - u * 0.2))));
  return log(1.0 + u);
}
float logAccurate(float x) { return abs(x - 1.0) < 0.01 ? log1pAccurate(x - 1.0) : log(x); }
float softplus(float x) { return max(x, 0.0) + log1pAccurate(expAccurate(-abs(x))); }
float sigmoid(float x) {
  float e = expAccurate(-abs(x));
  return x >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}
`;

/** The shape a tensor laid out as `layout` is given to a program as: `[samples, classes]` when the class axis is last, else `[outer, classes, inner]`. */
export function classAxisShape(layout: ClassLayout): number[] {
  const { outer, classes, inner } = layout;
  return inner === 1 ? [outer, classes] : [outer, classes, inner];
}

/**
 * Reads `tensor`, laid out as `layout`, by sample and class, as `name`: defines `ivec2 <name>Site(int s)`
 * (where sample `s` sits: `(o, i)`) and `float <name>At(ivec2 site, int c)`, and the uniform `classes`.
 */
export function classAxisAccess(name: string, tensor: tf.Tensor, layout: ClassLayout): GlslPart {
  const getter = `get${name.charAt(0).toUpperCase()}${name.slice(1)}`;
  const glsl =
    layout.inner === 1
      ? `
ivec2 ${name}Site(int s) { return ivec2(s, 0); }
float ${name}At(ivec2 site, int c) { return ${getter}(site.x, c); }`
      : `
ivec2 ${name}Site(int s) { return ivec2(s / ${layout.inner}, s - (s / ${layout.inner}) * ${layout.inner}); }
float ${name}At(ivec2 site, int c) { return ${getter}(site.x, c, site.y); }`;
  return {
    inputs: [[name, viewAs(tensor, classAxisShape(layout))]],
    uniforms: [{ name: 'classes', type: 'int', value: layout.classes }],
    glsl,
  };
}

/**
 * GLSL `main` prologue of a program whose output is laid out as `layout` (`classAxisShape`): sets
 * `int s` (the sample), `int c` (the class) and `ivec2 site` (for `<name>At`).
 */
export function classAxisOutputCoords(layout: ClassLayout): string {
  if (layout.inner === 1) return 'ivec2 rc = getOutputCoords(); int s = rc.x; int c = rc.y; ivec2 site = ivec2(s, 0);';
  return `ivec3 oci = getOutputCoords(); int c = oci.y; ivec2 site = ivec2(oci.x, oci.z); int s = oci.x * ${layout.inner} + oci.z;`;
}

/** What `runProgram` needs to run a program: its output shape, whether packed, and its `main`. */
export interface ProgramOutput {
  outputShape: number[];
  packed: boolean;
  main: string;
}

/**
 * A program writing a value for every sample and class of `layout`, to be viewed as `shape` (the
 * logits' shape), from `pair`: a GLSL expression of `int s`, `ivec2 site` (where sample `s` sits, as
 * `<name>Site(s)` gives it) and `int c`, the vec2 of the values of classes `c` and `c + 1` of sample
 * `s`, which may read one class past the last (its value is dropped).
 *
 * Packed wherever the view as `shape` keeps the last two dimensions (tfjs re-lays a packed texture
 * out, with one more program, for a view that changes them): a packed texel holds a 2×2 block of
 * those dimensions, here two samples by two classes, so that what depends on the sample alone is read
 * and computed once per two classes. The output is `[outer, C]` (logits `[N, C]`), `[outer / T, T, C]`
 * (logits `[..., T, C]`) or `[outer, C, inner]` (logits `[N, C, d]`), and a block past the end of the
 * samples or classes is padded with zeros, as tfjs' packed programs expect. Otherwise (K-dimensional
 * logits `[N, C, d1, ..., dk]` with k > 1), one value per fragment (the pair's first), laid out as
 * `classAxisShape`.
 */
export function classAxisPairProgram(layout: ClassLayout, shape: readonly number[], pair: string): ProgramOutput {
  const { outer, classes, inner } = layout;
  const [rows, columns] = [1, 1, ...shape].slice(-2);
  const classPair = `vec2 classPair(int s, ivec2 site, int c) {
  vec2 values = ${pair};
  return vec2(values.x, c + 1 < ${classes} ? values.y : 0.0);
}`;
  const packedMain = (coords: string, block: string) => `${classPair}
void main() {
  ${coords}
  vec2 firstPair = classPair(first, firstSite, c);
  vec2 secondPair = hasSecond ? classPair(first + 1, secondSite, c) : vec2(0.0);
  setOutput(${block});
}`;
  if (inner === 1 && columns === classes && outer % rows === 0) {
    const coords =
      outer === rows
        ? `ivec2 rc = getOutputCoords();
  int c = rc.y;
  int first = rc.x;
  bool hasSecond = first + 1 < ${outer};`
        : `ivec3 brc = getOutputCoords();
  int c = brc.z;
  int first = brc.x * ${rows} + brc.y;
  bool hasSecond = brc.y + 1 < ${rows};`;
    return {
      outputShape: outer === rows ? [outer, classes] : [outer / rows, rows, classes],
      packed: true,
      main: packedMain(
        `${coords}\n  ivec2 firstSite = ivec2(first, 0);\n  ivec2 secondSite = ivec2(first + 1, 0);`,
        'vec4(firstPair, secondPair)',
      ),
    };
  }
  if (inner > 1 && rows === classes && columns === inner) {
    return {
      outputShape: [outer, classes, inner],
      packed: true,
      main: packedMain(
        `ivec3 oci = getOutputCoords();
  int c = oci.y;
  int first = oci.x * ${inner} + oci.z;
  bool hasSecond = oci.z + 1 < ${inner};
  ivec2 firstSite = ivec2(oci.x, oci.z);
  ivec2 secondSite = ivec2(oci.x, oci.z + 1);`,
        'vec4(firstPair.x, secondPair.x, firstPair.y, secondPair.y)',
      ),
    };
  }
  return {
    outputShape: classAxisShape(layout),
    packed: false,
    main: `${classPair}
void main() {
  ${classAxisOutputCoords(layout)}
  setOutput(classPair(s, site, c).x);
}`,
  };
}

/**
 * Class-index targets (int32, or float32 holding integers), one per sample: `int targetClass(int s)` is
 * the class, `IGNORED`, or `INVALID` for a value that is neither an integer in [0, classes) nor
 * `ignoreIndex` (never used as an index); `float classWeight(int c)` is the class's weight (1 without).
 */
export function targetClassAccess(target: tf.Tensor, weight: tf.Tensor | null, classes: number, ignoreIndex: number): GlslPart {
  return {
    inputs: [['target', viewAs(target, [target.size])], ...(weight === null ? [] : [['weight', weight] as [string, tf.Tensor]])],
    uniforms: [
      { name: 'classes', type: 'int', value: classes },
      { name: 'ignoreIndex', type: 'float', value: ignoreIndex },
    ],
    glsl: `
const int IGNORED = -1;
const int INVALID = -2;
int targetClass(int s) {
  float y = getTarget(s);
  if (y == ignoreIndex) return IGNORED;
  if (y >= 0.0 && y < float(classes) && y == floor(y)) return int(y);
  return INVALID;
}
float classWeight(int c) { return ${weight === null ? '1.0' : 'getWeight(c)'}; }`,
  };
}

/**
 * A weight broadcast to `shape` as PyTorch broadcasts it (of `shape`'s rank, each dimension 1 or
 * `shape`'s), read by flat element index: `float <name>At(int e)` (1 when `weight` is null). The
 * axes are merged into runs that are either broadcast or not; each run that is not adds
 * `((e / outStride) % extent) * weightStride` to the weight's flat index.
 */
export function broadcastAccess(name: string, weight: tf.Tensor | null, shape: readonly number[]): GlslPart {
  const at = `float ${name}At(int e)`;
  if (weight === null) return { inputs: [], uniforms: [], glsl: `${at} { return 1.0; }` };
  const getter = `get${name.charAt(0).toUpperCase()}${name.slice(1)}`;
  const size = shape.reduce((a, b) => a * b, 1);
  const flat: Array<[string, tf.Tensor]> = [[name, viewAs(weight, [weight.size])]];
  if (weight.size === size) return { inputs: flat, uniforms: [], glsl: `${at} { return ${getter}(e); }` };
  if (weight.size === 1) return { inputs: flat, uniforms: [], glsl: `${at} { return ${getter}(0); }` };
  // Runs of axes, from the last: [outStride, extent, weightStride] of each run the weight does not broadcast.
  const runs: Array<[number, number, number]> = [];
  let outStride = 1;
  let weightStride = 1;
  let previousKept: boolean | null = null;
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const extent = shape[axis];
    if (extent === 1) continue;
    const kept = weight.shape[axis] === extent;
    if (kept && previousKept === true) runs[runs.length - 1][1] *= extent;
    else if (kept) runs.push([outStride, extent, weightStride]);
    if (kept) weightStride *= extent;
    outStride *= extent;
    previousKept = kept;
  }
  const run = (field: number) => runs.map((r) => r[field]);
  return {
    inputs: flat,
    uniforms: [
      { name: `${name}OutStrides`, type: 'int', value: run(0) },
      { name: `${name}Extents`, type: 'int', value: run(1) },
      { name: `${name}Strides`, type: 'int', value: run(2) },
    ],
    glsl: `${at} {
  int index = 0;
  for (int k = 0; k < ${runs.length}; k++) {
    int coordinate = e / ${name}OutStrides[k];
    index += (coordinate - (coordinate / ${name}Extents[k]) * ${name}Extents[k]) * ${name}Strides[k];
  }
  return ${getter}(index);
}`,
  };
}

/**
 * A loss as the reduction programs see it, in GLSL: `float sampleLoss(int s)` (NaN where the sample's
 * target is invalid) and `float sampleDenominator(int s)`, its term of the 'mean' denominator (NaN
 * where invalid), over `samples` samples.
 */
export interface SampleTerms extends GlslPart {
  samples: number;
}

/**
 * A near-square `[rows, width]` with `rows · width = count`. A program writes an output of that shape
 * several times faster than one row of `count` (SwiftShader shades 2×2 quads and spreads the rows over
 * its threads), and it reshapes to `[count]` for free.
 */
function gridShape(count: number): [number, number] {
  let width = Math.max(1, Math.floor(Math.sqrt(count)));
  while (count % width !== 0) width--;
  return [count / width, width];
}

/**
 * Runs `body` (GLSL that calls `setOutput`, with `int index` in [0, count)) over `count` outputs laid
 * out as `gridShape(count)`, after the functions of `part`; the result has that shape, and programs
 * read it by index with `indexedAccess`.
 */
export function runOverIndexGrid(count: number, part: GlslPart, body: string): tf.Tensor {
  const shape = gridShape(count);
  return runProgram(
    shape,
    combine(part, uniforms({ name: 'gridWidth', type: 'int', value: shape[1] })),
    `void main() {
  ivec2 rc = getOutputCoords();
  int index = rc.x * gridWidth + rc.y;
  ${body}
}`,
  );
}

/** `runOverIndexGrid`, its result of shape `[count]`. */
export function runOverIndices(count: number, part: GlslPart, body: string): tf.Tensor {
  return tf.reshape(runOverIndexGrid(count, part, body), [count]);
}

/** Up to this many indices, `indexedAccess`'s float estimate of the grid row is at most one row off. */
const GRID_ESTIMATE_LIMIT = 2 ** 24;

/**
 * Reads `tensor`, written by `runOverIndexGrid` (or `runOverIndices`), as GLSL `float <name>At(int index)`.
 * It reads the tensor as its grid, the layout of its texture, by row and column: a flat read finds
 * them with an integer division, which SwiftShader emulates (and many GPUs), a cost that a program
 * over the classes pays for every texel. Here the row is estimated with a float multiplication and
 * corrected by one row where the estimate's rounding missed (beyond `GRID_ESTIMATE_LIMIT` indices,
 * where that is not enough, the read is flat).
 */
export function indexedAccess(name: string, tensor: tf.Tensor): GlslPart {
  const getter = `get${name.charAt(0).toUpperCase()}${name.slice(1)}`;
  if (tensor.size > GRID_ESTIMATE_LIMIT)
    return { inputs: [[name, tensor]], uniforms: [], glsl: `float ${name}At(int index) { return ${getter}(index); }` };
  const grid = gridShape(tensor.size);
  const width = grid[1];
  return {
    inputs: [[name, viewAs(tensor, grid)]],
    uniforms: [],
    glsl: `
float ${name}At(int index) {
  int row = int((float(index) + 0.5) * (1.0 / ${width}.0));
  int column = index - row * ${width};
  row += column < 0 ? -1 : column >= ${width} ? 1 : 0;
  return ${getter}(row, index - row * ${width});
}`,
  };
}

/** 'none': every sample's loss, `[samples]`: one program. */
export function perSampleLosses(terms: SampleTerms): tf.Tensor {
  return runOverIndices(terms.samples, terms, 'setOutput(sampleLoss(index));');
}

/** Samples per block of the first reduction level: about √samples, so that both levels loop about as long. */
function reductionBlockSize(samples: number): number {
  return Math.max(1, Math.ceil(Math.sqrt(samples)));
}

/**
 * The first level of 'mean' and 'sum': `[2, blocks]`, per block of `reductionBlockSize` samples the
 * mean of `sampleLoss` (row 0) and of `sampleDenominator` (row 1), each NaN when one of its terms is.
 * Means, not sums: a float16 texture holds them. One program.
 */
export function partialMeans(terms: SampleTerms): tf.Tensor {
  const blockSize = reductionBlockSize(terms.samples);
  const blocks = Math.ceil(terms.samples / blockSize);
  const sizes = uniforms(
    { name: 'samples', type: 'int', value: terms.samples },
    { name: 'blocks', type: 'int', value: blocks },
    { name: 'blockSize', type: 'int', value: blockSize },
  );
  const partials = runOverIndices(
    2 * blocks,
    combine(terms, sizes),
    `bool isLoss = index < blocks;
  int first = (isLoss ? index : index - blocks) * blockSize;
  int end = min(first + blockSize, samples);
  float total = 0.0;
  bool invalid = false;
  if (isLoss) {
    for (int s = first; s < end; s++) {
      float term = sampleLoss(s);
      invalid = invalid || isnan(term);
      total += term;
    }
  } else {
    for (int s = first; s < end; s++) {
      float term = sampleDenominator(s);
      invalid = invalid || isnan(term);
      total += term;
    }
  }
  setOutput(invalid ? NAN : total / float(blockSize));`,
  );
  return tf.reshape(partials, [2, blocks]);
}

/** The partial means summed over blocks: GLSL `sumPartialMeans()` sets `loss`, `denominator` (sums of block means) and `invalid`. */
function partialMeansSum(partials: tf.Tensor, samples: number): GlslPart {
  return {
    inputs: [['partials', partials]],
    uniforms: [
      { name: 'blocks', type: 'int', value: partials.size / 2 },
      { name: 'blockSize', type: 'float', value: reductionBlockSize(samples) },
    ],
    glsl: `
float loss = 0.0;
float denominator = 0.0;
bool invalid = false;
void sumPartialMeans() {
  for (int b = 0; b < blocks; b++) {
    float blockLoss = getPartials(0, b);
    float blockDenominator = getPartials(1, b);
    invalid = invalid || isnan(blockLoss) || isnan(blockDenominator);
    loss += blockLoss;
    denominator += blockDenominator;
  }
}`,
  };
}

/**
 * The second level: the loss from `partialMeans`, `Σ loss / Σ denominator` for 'mean' (NaN when the
 * denominator is 0, as PyTorch's 0/0) and `Σ loss` for 'sum'; NaN when any sample is invalid. One program.
 */
export function reducePartialMeans(partials: tf.Tensor, samples: number, reduction: Exclude<Reduction, 'none'>): tf.Tensor {
  const result = reduction === 'mean' ? '(denominator == 0.0 ? NAN : loss / denominator)' : 'loss * blockSize';
  return runProgram(
    [],
    partialMeansSum(partials, samples),
    `void main() {
  sumPartialMeans();
  setOutput(invalid ? NAN : ${result});
}`,
  );
}

/**
 * The backward pass's factor of every kept sample for 'mean' and 'sum', from `partialMeans`:
 * `dy / Σ denominator` for 'mean', `dy` for 'sum'; NaN when any sample is invalid (the whole gradient
 * is NaN then); +Infinity for a 'mean' whose denominator is 0, which a kernel turns into NaN for kept
 * samples only (an ignored sample's gradient stays 0, as PyTorch's). One program, `[]`.
 */
export function upstreamScale(partials: tf.Tensor, samples: number, dy: tf.Tensor, reduction: Exclude<Reduction, 'none'>): tf.Tensor {
  const result = reduction === 'mean' ? '(denominator == 0.0 ? infinity() : getDy() / (denominator * blockSize))' : 'getDy()';
  return runProgram(
    [],
    combine(partialMeansSum(partials, samples), { inputs: [['dy', dy]], uniforms: [], glsl: '' }),
    `void main() {
  sumPartialMeans();
  setOutput(invalid ? NAN : ${result});
}`,
  );
}

/**
 * GLSL `float upstream(int s)`, the factor of sample `s`'s gradient: for 'none' the upstream gradient
 * of the sample (`dy` of the per-sample loss's shape); else `scale`, a tensor (`upstreamScale`) or a
 * number known on the host (then the factor is `dy · scale`).
 */
export function upstreamAccess(dy: tf.Tensor, reduction: Reduction, scale: tf.Tensor | number): GlslPart {
  if (reduction === 'none')
    return { inputs: [['dy', viewAs(dy, [dy.size])]], uniforms: [], glsl: 'float upstream(int s) { return getDy(s); }' };
  if (typeof scale === 'number') {
    return {
      inputs: [['dy', dy]],
      uniforms: [{ name: 'upstreamScale', type: 'float', value: scale }],
      glsl: 'float upstream(int s) { return getDy() * upstreamScale; }',
    };
  }
  return { inputs: [['scale', scale]], uniforms: [], glsl: 'float upstream(int s) { return getScale(); }' };
}

/**
 * The value of an elementwise (binary) loss over the elements of `input`: `access` reads them and
 * `glsl` defines `sampleLoss(int e)` and `sampleDenominator(int e)`. The losses, of the input's shape
 * ('none'), or the partial means (also returned) reduced to the mean or sum.
 */
export function elementwiseForward(
  input: tf.Tensor,
  access: GlslPart,
  glsl: string,
  reduction: Reduction,
): { value: tf.Tensor; partials: tf.Tensor | null } {
  const samples = input.size;
  const terms = { samples, ...combine(access, { inputs: [], uniforms: [], glsl }) };
  if (reduction === 'none') return { value: tf.reshape(perSampleLosses(terms), input.shape), partials: null };
  const partials = partialMeans(terms);
  return { value: reducePartialMeans(partials, samples, reduction), partials };
}

/**
 * The gradients of an elementwise (binary) loss with respect to its input and its target, one program
 * each over the elements (`int e`): `body(formula)` reads what `part` gives and sets the output.
 */
export function elementwiseBackward(
  args: { input: tf.Tensor; target: tf.Tensor },
  part: GlslPart,
  body: (formula: string) => string,
  inputFormula: string,
  targetFormula: string,
): tf.Tensor[] {
  const gradient = (formula: string) =>
    runOverIndices(
      args.input.size,
      part,
      `int e = index;
  ${body(formula)}`,
    );
  const inputGradient = gradient(inputFormula);
  const targetGradient = gradient(targetFormula);
  return [viewAs(inputGradient, args.input.shape), viewAs(targetGradient, args.target.shape)];
}
