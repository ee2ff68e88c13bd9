import * as tf from '@tensorflow/tfjs-core';
import type { DeviceForward, DeviceKernel } from '../args';
import type { Reduction } from '../../core/options';
import { webgpuBufferDtype, webgpuRunner } from '../../core/tfjsInternals';

/**
 * What the WebGPU loss kernels share: the program type the webgpu backend runs, one way to run a
 * program, the WGSL helpers, the programs that turn a loss pass into the loss's value, and the
 * programs of the binary (elementwise) losses.
 *
 * Every loss runs as a *pass* over its samples (or elements) that writes one flat float32 buffer: what
 * the backward pass needs (when a tape records) and either the loss of each sample ('none') or one
 * partial sum per invocation ('mean', 'sum'): `(Σ loss, Σ w[y] over kept targets, number of invalid
 * targets, 0)`. A second program reduces those partial sums to the value (or copies the losses out), and
 * the gradient programs read the buffer back. Only the programs of one workgroup synchronise (a barrier
 * per step of a tree): where workgroups are emulated (SwiftShader), a barrier switches between all
 * their invocations, and a tree at the end of every workgroup of a pass (partial sums per workgroup,
 * one program fewer for the gradient) measured 5 to 10 times slower there. Every input is passed flat (a reshape is free), and the programs index the buffers
 * themselves, by the `ClassLayout` rule `(o * classes + c) * inner + i`.
 */

/** The workgroup size of every program here (WebGPU's guaranteed minimum of invocations per workgroup). */
const WORKGROUP_SIZE = 256;
/**
 * The most workgroups of a loss pass, each invocation looping over its share: at most this many times
 * `WORKGROUP_SIZE` partial sums, which the one workgroup of the reduction adds up.
 */
const MAX_PASS_GROUPS = 64;

/**
 * The fields of tfjs-backend-webgpu's `WebGPUProgram` that its `runWebGPUProgram` reads, as this
 * library sets them (the library never imports the backend). The backend prepends to `getUserCode()`
 * the buffers (`result`, one `array` per name of `variableNames`), a `uniforms` struct (`NAN`,
 * `INFINITY`, each buffer's shape, then the fields declared in `uniforms`) and the builtins
 * (`localId`, ...), and calls `main(index)` with the global invocation index.
 */
export interface WebGPUProgram {
  outputShape: number[];
  /** Names the compiled pipeline: it must change whenever `getUserCode()` does. */
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  workgroupSize: [number, number, number];
  variableNames: string[];
  uniforms: string;
  getUserCode(): string;
}

/** One value of a program's own uniforms, in the order of `WebGPUProgram.uniforms`. */
export interface ProgramUniform {
  type: 'int32' | 'float32';
  data: number[];
}

/** A program to run: its WGSL (which defines `fn main(index : i32)`), inputs, uniforms and workgroups. */
export interface ProgramSpec {
  /** Every choice that changes the code (the values of uniforms do not). */
  key: string;
  /** Each input by the name the code reads it by; passed flat. */
  inputs: Record<string, tf.Tensor>;
  /** Scalar uniforms `uniforms.<name>`, integers as i32 and the rest as f32. */
  ints?: Record<string, number>;
  floats?: Record<string, number>;
  /** The length of the float32 output buffer `result`. */
  outputSize: number;
  workgroups: number;
  code: string;
}

/** Runs `spec` through the webgpu backend's program runner: a flat float32 tensor of `outputSize`. */
export function runProgram(spec: ProgramSpec): tf.Tensor1D {
  const run = webgpuRunner<WebGPUProgram, ProgramUniform>();
  if (run === null) throw new Error(`webgpu loss kernel ${spec.key}: the current backend has no WebGPU program runner`);
  const ints = Object.entries(spec.ints ?? {});
  const floats = Object.entries(spec.floats ?? {});
  const program: WebGPUProgram = {
    outputShape: [spec.outputSize],
    shaderKey: `tfjsLossAdapter_${spec.key}`,
    dispatchLayout: { x: [0] },
    dispatch: [spec.workgroups, 1, 1],
    workgroupSize: [WORKGROUP_SIZE, 1, 1],
    variableNames: Object.keys(spec.inputs),
    uniforms: [...ints.map(([name]) => `${name} : i32,`), ...floats.map(([name]) => `${name} : f32,`)].join(' '),
    getUserCode: () => `${MATH_WGSL}\n${spec.code}`,
  };
  const uniforms: ProgramUniform[] = [
    ...ints.map(([, value]): ProgramUniform => ({ type: 'int32', data: [value] })),
    ...floats.map(([, value]): ProgramUniform => ({ type: 'float32', data: [value] })),
  ];
  const own = Object.values(spec.inputs).map(withBufferOfItsDtype);
  const flat = own.map((t) => tf.reshape(t, [t.size]));
  const output = run(program, flat, 'float32', uniforms) as tf.Tensor1D;
  tf.dispose([...flat, ...own.filter((t, k) => t !== Object.values(spec.inputs)[k])]);
  return output;
}

/**
 * `t`, or a copy whose buffer holds `t.dtype`: the backend declares a program's inputs by their
 * buffers' dtype, and its cast from int32 to float32 keeps the int32 buffer (e.g. targets given as
 * int32 and cast at the entry), which the code here would read as floats.
 */
function withBufferOfItsDtype(t: tf.Tensor): tf.Tensor {
  return webgpuBufferDtype(t) === t.dtype ? t : tf.tidy(() => tf.mul(t, tf.scalar(1, t.dtype)));
}

/**
 * WGSL helpers for every program. `nan()` comes from a uniform the backend sets: WGSL has no NaN
 * literal, and a NaN made from constants may be folded away or rejected by the shader compiler.
 * `log1pAccurate` uses no rounding-error trick (`(1 + u) - 1 - u`), which a shader compiler may
 * reassociate to 0 (SwiftShader does): a series where `1 + u` would round, `log(1 + u)` elsewhere.
 */
const MATH_WGSL = `
fn nan() -> f32 { return uniforms.NAN; }
fn infinity() -> f32 { return uniforms.INFINITY; }
// log(1 + u) for u > -1, to a few float32 ulps for |u| < 1/32 (Taylor to u^7: error below u^8/8) and to
// 2e-6 relative above, where 1 + u rounds by at most 6e-8.
fn log1pAccurate(u : f32) -> f32 {
  if (abs(u) < 0.03125) {
    return u * (1.0 - u * (0.5 - u * (0.33333334 - u * (0.25 - u * (0.2 - u * (0.16666667 - u * 0.14285715))))));
  }
  return log(1.0 + u);
}`;

/** How a loop over work items is shared: `groups` workgroups, each invocation taking `iterations` items. */
export interface Grid {
  groups: number;
  iterations: number;
}

/** The grid of a loop over `units` work items, in at most `MAX_PASS_GROUPS` workgroups. */
export function gridFor(units: number): Grid {
  const groups = Math.max(1, Math.min(MAX_PASS_GROUPS, Math.ceil(units / WORKGROUP_SIZE)));
  return { groups, iterations: Math.max(1, Math.ceil(units / (groups * WORKGROUP_SIZE))) };
}

/**
 * `for` each index `at` (an `i32` below `uniforms.elements`) this invocation owns, consecutive
 * invocations on consecutive indices. Needs the uniforms `elements`, `groups` and `iterations` (a `Grid`;
 * its dispatch is flat, so `index` is the invocation's place in the grid).
 */
export function forEachElement(body: string): string {
  return `
  for (var k = 0; k < uniforms.iterations; k++) {
    let at = index + k * uniforms.groups * ${WORKGROUP_SIZE};
    if (at < uniforms.elements) {
      ${body}
    }
  }`;
}

/**
 * `sumOverGroup(lane, value)`: the sum of `value` over the workgroup, a tree of pairwise additions in
 * shared memory, given to every invocation. Call from uniform control flow, once per program.
 */
const GROUP_SUM_WGSL = `
var<workgroup> groupSums : array<vec4<f32>, ${WORKGROUP_SIZE}>;
fn sumOverGroup(lane : i32, value : vec4<f32>) -> vec4<f32> {
  groupSums[lane] = value;
  workgroupBarrier();
  for (var stride = ${WORKGROUP_SIZE / 2}; stride > 0; stride = stride / 2) {
    if (lane < stride) { groupSums[lane] = groupSums[lane] + groupSums[lane + stride]; }
    workgroupBarrier();
  }
  return groupSums[0];
}`;

/**
 * The end of a loss pass for 'mean' and 'sum': each invocation writes its `partial` (a `vec4<f32>`) at
 * `uniforms.partialsAt + 4·index`.
 */
export const WRITE_PARTIAL_WGSL = `
  let partialAt = uniforms.partialsAt + 4 * index;
  result[partialAt] = partial.x;
  result[partialAt + 1] = partial.y;
  result[partialAt + 2] = partial.z;
  result[partialAt + 3] = partial.w;`;

/** The number of partial sums a pass of `grid` leaves: one per invocation. */
export function partialCount(grid: Grid): number {
  return grid.groups * WORKGROUP_SIZE;
}

/**
 * `loadTotals(lane)`: the sum of the partial sums a loss pass left in the input `saved` (uniforms
 * `partialsAt`, `partialCount`), given to every invocation of the one workgroup: each adds a strided
 * share in order, then the shares meet in a tree.
 */
const LOAD_TOTALS_WGSL = `${GROUP_SUM_WGSL}
fn loadTotals(lane : i32) -> vec4<f32> {
  var sum = vec4<f32>(0.0);
  for (var p = lane; p < uniforms.partialCount; p += ${WORKGROUP_SIZE}) {
    let at = uniforms.partialsAt + 4 * p;
    sum += vec4<f32>(saved[at], saved[at + 1], saved[at + 2], saved[at + 3]);
  }
  return sumOverGroup(lane, sum);
}`;

/**
 * WGSL: the class index of sample `s` from the input `targets` (int32, or float32 holding integers):
 * `label`, `ignored` (it is `uniforms.ignoreIndex`) and `inRange` (an integer in [0, `uniforms.classes`)).
 */
export function classIndexWgsl(dtype: tf.DataType): string {
  return dtype === 'int32'
    ? `let label = targets[s];
      let ignored = label == uniforms.ignoreIndex;
      let inRange = label >= 0 && label < uniforms.classes;`
    : `let label = targets[s];
      let ignored = label == f32(uniforms.ignoreIndex);
      let inRange = label >= 0.0 && label < f32(uniforms.classes) && floor(label) == label;`;
}

/** Where each part of a pass's output buffer starts, in the order given, and its total length. */
export function bufferLayout<K extends string>(parts: Array<[K, number]>): { at: Record<K, number>; size: number } {
  const at = {} as Record<K, number>;
  let size = 0;
  for (const [name, length] of parts) {
    at[name] = size;
    size += length;
  }
  return { at, size };
}

/**
 * How the scalar loss is made from the totals: `Σ loss` ('sum'), `Σ loss · meanScale` ('mean' over a
 * count known on the host), or `Σ loss / Σ w[y]` ('mean' of the class-index losses, NaN when the
 * denominator is 0, as PyTorch's 0/0). Any invalid target makes it NaN.
 */
export type Finish = 'sum' | 'meanOverCount' | 'meanOverWeight';

/**
 * The value of a 'mean' or 'sum' loss, a scalar, from the partial sums of the pass that wrote `saved`
 * (`grid`): one workgroup adds them up.
 */
export function reduceToValue(saved: tf.Tensor, partialsAt: number, grid: Grid, finish: Finish, meanScale = 1): tf.Scalar {
  const scaled = {
    sum: 'totals.x',
    meanOverCount: 'totals.x * uniforms.meanScale',
    meanOverWeight: 'select(totals.x * (1.0 / totals.y), nan(), totals.y == 0.0)',
  }[finish];
  const value = runProgram({
    key: `lossValue_${finish}`,
    inputs: { saved },
    ints: { partialsAt, partialCount: partialCount(grid) },
    floats: { meanScale },
    outputSize: 1,
    workgroups: 1,
    code: `${LOAD_TOTALS_WGSL}
fn main(index : i32) {
  let totals = loadTotals(i32(localId.x));
  if (localId.x == 0u) { result[0] = select(${scaled}, nan(), totals.z > 0.0); }
}`,
  });
  return reshapedFrom(value, []) as tf.Scalar;
}

/**
 * The factors of a class-index loss's gradient rows for 'mean' and 'sum', `[kept, ignored]`, from the
 * partial sums of its pass and the upstream gradient `dy`: `dy / Σ w[y]` ('mean'; NaN when that is 0)
 * or `dy` ('sum') for kept samples, 0 for ignored ones, and NaN for all when any target was invalid.
 */
export function rowScales(saved: tf.Tensor, partialsAt: number, grid: Grid, mean: boolean, dy: tf.Tensor): tf.Tensor {
  return runProgram({
    key: `rowScales_${mean}`,
    inputs: { saved, upstream: dy },
    ints: { partialsAt, partialCount: partialCount(grid) },
    outputSize: 2,
    workgroups: 1,
    code: `${LOAD_TOTALS_WGSL}
fn main(index : i32) {
  let totals = loadTotals(i32(localId.x));
  if (localId.x == 0u) {
    let poisoned = totals.z > 0.0;
    let kept = ${mean ? 'select(upstream[0] * (1.0 / totals.y), nan(), totals.y == 0.0)' : 'upstream[0]'};
    result[0] = select(kept, nan(), poisoned);
    result[1] = select(0.0, nan(), poisoned);
  }
}`,
  });
}

/** The per-sample losses a pass wrote at `lossesAt` in `saved`, as their own tensor of `shape` ('none'). */
export function copyLosses(saved: tf.Tensor, lossesAt: number, shape: number[]): tf.Tensor {
  const elements = shape.reduce((a, b) => a * b, 1);
  const grid = gridFor(elements);
  const losses = runProgram({
    key: 'lossCopy',
    inputs: { saved },
    ints: { lossesAt, elements, ...grid },
    outputSize: elements,
    workgroups: grid.groups,
    code: `fn main(index : i32) {${forEachElement('result[at] = saved[uniforms.lossesAt + at];')}
}`,
  });
  return reshapedFrom(losses, shape);
}

/**
 * The end of a class-axis loss's forward pass, whose output `saved` holds its losses ('none') or partial
 * sums at `at`: the value, the losses of `sampleShape` or the partial sums reduced ('mean' by `mean`,
 * with `meanScale`; 'sum'); `saved` kept for the backward pass when recording, disposed otherwise.
 */
export function classPassResult(
  saved: tf.Tensor,
  pass: { at: { losses: number; partials: number }; grid: Grid },
  args: { reduction: Reduction; sampleShape: number[] },
  recording: boolean,
  mean: Finish,
  meanScale = 1,
): DeviceForward {
  const value =
    args.reduction === 'none'
      ? copyLosses(saved, pass.at.losses, args.sampleShape)
      : reduceToValue(saved, pass.at.partials, pass.grid, args.reduction === 'mean' ? mean : 'sum', meanScale);
  if (!recording) {
    saved.dispose();
    return { value, saved: [] };
  }
  return { value, saved: [saved] };
}

/**
 * WGSL after a class-index pass's `if (kept) { ... }` (with `classIndexWgsl`'s `ignored`, and `loss`,
 * `partial`, `record`): under `poison`, an index neither ignored nor in range makes its sample's loss
 * NaN, counts in `partial.z` and is recorded as state 2.
 */
export function invalidIndexWgsl(poison: boolean): string {
  return poison
    ? ` else if (!ignored) {
        loss = nan();
        partial.z += 1.0;
        record.y = 2.0;
      }`
    : '';
}

/**
 * A weight that broadcasts to the input's shape (each dimension 1 or the input's, aligned from the
 * right), as WGSL `fn <name>Index(element : i32) -> i32`: the weight's own index of an input element.
 * Runs of dimensions that are all broadcast, or all not, are merged into one segment each, so the code
 * depends only on the pattern of segments; their sizes and strides are uniforms.
 */
export interface BroadcastIndex {
  /** Part of the program's key. */
  key: string;
  code: string;
  ints: Record<string, number>;
}

export function broadcastIndex(name: string, shape: readonly number[], weightShape: readonly number[]): BroadcastIndex {
  const padded = [...new Array<number>(shape.length - weightShape.length).fill(1), ...weightShape];
  const segments: Array<{ broadcast: boolean; size: number }> = [];
  shape.forEach((size, axis) => {
    if (size === 1) return;
    const broadcast = padded[axis] === 1;
    const last = segments[segments.length - 1];
    if (last !== undefined && last.broadcast === broadcast) last.size *= size;
    else segments.push({ broadcast, size });
  });
  const key = segments.map((s) => (s.broadcast ? 'b' : 'f')).join('');
  if (segments.every((s) => s.broadcast)) return { key, code: `fn ${name}Index(element : i32) -> i32 { return 0; }`, ints: {} };
  if (segments.length === 1) return { key, code: `fn ${name}Index(element : i32) -> i32 { return element; }`, ints: {} };
  const ints: Record<string, number> = {};
  const steps: string[] = [];
  let stride = 1;
  for (let k = segments.length - 1; k >= 0; k--) {
    const { broadcast, size } = segments[k];
    ints[`${name}Size${k}`] = size;
    if (broadcast) {
      steps.push(`rest = rest / uniforms.${name}Size${k};`);
    } else {
      ints[`${name}Stride${k}`] = stride;
      steps.push(`at += (rest % uniforms.${name}Size${k}) * uniforms.${name}Stride${k}; rest = rest / uniforms.${name}Size${k};`);
      stride *= size;
    }
  }
  return {
    key,
    code: `fn ${name}Index(element : i32) -> i32 {
  var rest = element;
  var at = 0;
  ${steps.join('\n  ')}
  return at;
}`,
    ints,
  };
}

/** The arguments of a binary (elementwise) loss: the target has the input's shape, the weights broadcast to it. */
export interface ElementwiseArgs {
  input: tf.Tensor;
  target: tf.Tensor;
  weight: tf.Tensor | null;
  posWeight?: tf.Tensor | null;
  reduction: Reduction;
}

/**
 * The inputs, uniforms and WGSL of a binary loss's pass: `read` gives each element's `x`, `y`, `w` and
 * `pw` (1 without a weight) in a `forEachElement` body, `functions` the broadcast indices it uses.
 */
function elementwiseSetup(args: ElementwiseArgs) {
  const inputs: Record<string, tf.Tensor> = { values: args.input, targets: args.target };
  const ints: Record<string, number> = {};
  const functions: string[] = [];
  const keys: string[] = [];
  const read: string[] = ['let x = values[at];', 'let y = targets[at];'];
  for (const [name, weight, local] of [
    ['weights', args.weight, 'w'],
    ['posWeights', args.posWeight ?? null, 'pw'],
  ] as const) {
    if (weight === null) {
      read.push(`let ${local} = 1.0;`);
      keys.push('-');
      continue;
    }
    const index = broadcastIndex(name, args.input.shape, weight.shape);
    inputs[name] = weight;
    Object.assign(ints, index.ints);
    functions.push(index.code);
    read.push(`let ${local} = ${name}[${name}Index(at)];`);
    keys.push(index.key);
  }
  return { inputs, ints, functions: functions.join('\n'), read: read.join('\n      '), key: keys.join('_') };
}

/**
 * What a binary loss computes per element, in WGSL statements over `x`, `y`, `w`, `pw` that set
 * `loss`, `inputGradient` and `targetGradient` (of the element's own loss) and, when the loss checks
 * its input, `invalid` (which makes that element's loss and gradients NaN).
 */
export interface ElementwiseFormulas {
  code: string;
  checksInput: boolean;
}

/** Where a binary loss's pass writes each part of its buffer. */
function elementwiseLayout(elements: number, grid: Grid, perElement: boolean, recording: boolean) {
  return bufferLayout([
    ['inputGradientsAt', recording ? elements : 0],
    ['targetGradientsAt', recording ? elements : 0],
    ['lossesAt', perElement ? elements : 0],
    ['partialsAt', perElement ? 0 : 4 * partialCount(grid)],
  ]);
}

/**
 * The forward pass of a binary loss: one pass over the elements writes the losses ('none') or partial
 * sums, and, when recording, both gradients of each element's loss (all the backward pass needs: it only
 * scales them); then the value: the mean or sum of the partial sums, or the losses (for 'none' without
 * recording, the pass's output itself: one program).
 */
export function elementwiseForward(
  name: string,
  args: ElementwiseArgs,
  formulas: ElementwiseFormulas,
  recording: boolean,
): { value: tf.Tensor; saved: tf.Tensor[] } {
  const setup = elementwiseSetup(args);
  const elements = args.input.size;
  const grid = gridFor(elements);
  const perElement = args.reduction === 'none';
  const { at, size } = elementwiseLayout(elements, grid, perElement, recording);
  const poison = formulas.checksInput
    ? `if (invalid) { loss = nan(); inputGradient = nan(); targetGradient = nan(); partial.z += 1.0; } else { partial.x += loss; }`
    : 'partial.x += loss;';
  const output = runProgram({
    key: `${name}Pass_${args.reduction}_${recording}_${setup.key}`,
    inputs: setup.inputs,
    ints: { elements, ...grid, ...setup.ints, ...at },
    outputSize: size,
    workgroups: grid.groups,
    code: `${setup.functions}
fn main(index : i32) {
  var partial = vec4<f32>(0.0);
  ${forEachElement(`${setup.read}
      var loss = 0.0;
      var inputGradient = 0.0;
      var targetGradient = 0.0;
      ${formulas.code}
      ${poison}
      ${perElement ? 'result[uniforms.lossesAt + at] = loss;' : ''}
      ${recording ? 'result[uniforms.inputGradientsAt + at] = inputGradient; result[uniforms.targetGradientsAt + at] = targetGradient;' : ''}`)}
  ${perElement ? '' : WRITE_PARTIAL_WGSL}
}`,
  });
  let value: tf.Tensor;
  if (!perElement) value = reduceToValue(output, at.partialsAt, grid, args.reduction === 'mean' ? 'meanOverCount' : 'sum', 1 / elements);
  else if (recording) value = copyLosses(output, at.lossesAt, args.input.shape);
  else return { value: reshapedFrom(output, args.input.shape), saved: [] };
  if (!recording) {
    output.dispose();
    return { value, saved: [] };
  }
  // Under the input check, a NaN value ('mean', 'sum') means an invalid element: every gradient is NaN.
  return { value, saved: formulas.checksInput && !perElement ? [output, value] : [output] };
}

/**
 * The backward pass of a binary loss: the gradients its forward pass saved, times the upstream gradient
 * and the reduction's scale; NaN everywhere when the saved value says an element was invalid.
 */
export function elementwiseBackward(args: ElementwiseArgs, dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[] {
  const elements = args.input.size;
  const grid = gridFor(elements);
  const perElement = args.reduction === 'none';
  const { at } = elementwiseLayout(elements, grid, perElement, true);
  const poisoned = saved.length > 1;
  const inputs: Record<string, tf.Tensor> = { saved: saved[0], upstream: dy };
  if (poisoned) inputs.lossValue = saved[1];
  const scaled = `saved[uniforms.offset + at] * (uniforms.scale * upstream[${perElement ? 'at' : '0'}])`;
  return [at.inputGradientsAt, at.targetGradientsAt].map((offset) => {
    const gradient = runProgram({
      key: `binaryLossGradient_${args.reduction}_${poisoned}`,
      inputs,
      ints: { elements, ...grid, offset },
      floats: { scale: args.reduction === 'mean' ? 1 / elements : 1 },
      outputSize: elements,
      workgroups: grid.groups,
      code: `fn main(index : i32) {${forEachElement(`result[at] = ${poisoned ? `select(${scaled}, nan(), isnan(lossValue[0]))` : scaled};`)}
}`,
    });
    return reshapedFrom(gradient, args.input.shape);
  });
}

/** `t` reshaped to `shape`, disposing `t` (a reshape shares the data: no copy, no program). */
export function reshapedFrom(t: tf.Tensor, shape: number[]): tf.Tensor {
  const result = tf.reshape(t, shape);
  t.dispose();
  return result;
}

/**
 * The backward pass when the forward one did not record (no tape was seen then): the forward pass
 * again with what the gradient needs, then the gradient.
 */
export function withRecordedForward<A>(kernel: DeviceKernel<A>, dy: tf.Tensor, args: A): tf.Tensor[] {
  const { value, saved } = kernel.forward(args, true);
  const gradients = kernel.backward(dy, args, saved);
  saved.filter((t) => t !== value).forEach((t) => t.dispose());
  value.dispose();
  return gradients;
}
