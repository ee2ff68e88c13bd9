import * as tf from '@tensorflow/tfjs-core';
import type { ClassLayout } from '../../core/layout';
import type { CrossEntropyIndicesArgs, CrossEntropyProbabilitiesArgs, DeviceForward, DeviceKernel } from '../args';
import {
  bufferLayout,
  classIndexWgsl,
  classPassResult,
  Finish,
  forEachElement,
  Grid,
  gridFor,
  invalidIndexWgsl,
  partialCount,
  reshapedFrom,
  rowScales,
  runProgram,
  withRecordedForward,
  WRITE_PARTIAL_WGSL,
} from './programs';

/**
 * Cross-entropy on WebGPU: a pass over the rows (a row: the classes of one sample), the value, and a
 * gradient program over the rows. The pass computes each row's max `m` and `e_c = exp(z_c - m)` once,
 * keeps the exponentials for the gradient, and writes a record per sample for it.
 *
 * One invocation per row, with no barrier: neighbouring invocations take neighbouring rows (for K-dim
 * input, whose classes lie `inner` apart, neighbouring samples sit side by side). A workgroup per row
 * with shared-memory trees measured 3 times slower on SwiftShader, where every barrier switches all the
 * workgroup's invocations.
 */

/**
 * The WGSL of a pass over the rows: for each row it finds the max `rowMax`, then the sums `sums` of
 * `accumulate` (which sees `z`, `e`, `c`, `at`), then runs `finish` with `s` (the sample), `base` (its
 * first logit), `rowMax`, `sums` and `logSum = log Σ e`. `sums.x` is `Σ e` over the logits below the
 * max and `sums.y` the number at the max (where `e` is exactly 1), so that
 * `log Σ e = log1p((sums.y - 1) + sums.x)` keeps its accuracy when the max dominates the row.
 */
function rowPassCode(accumulate: string, finish: string, writePartials: boolean): string {
  return `fn main(index : i32) {
  let classes = uniforms.classes;
  let inner = uniforms.inner;
  var partial = vec4<f32>(0.0);
  ${forEachElement(`${ROW_WGSL}
      var rowMax = -3.4028234e38;
      for (var c = 0; c < classes; c++) { rowMax = max(rowMax, logits[base + c * inner]); }
      var sums = vec4<f32>(0.0);
      for (var c = 0; c < classes; c++) {
        let at = base + c * inner;
        let z = logits[at];
        var e = 1.0;
        if (z == rowMax) { sums.y += 1.0; } else { e = exp(z - rowMax); sums.x += e; }
        ${accumulate}
      }
      let logSum = log1pAccurate((sums.y - 1.0) + sums.x);
      ${finish}`)}
  ${writePartials ? WRITE_PARTIAL_WGSL : ''}
}`;
}

/** WGSL: the sample `s` of the row `at` (of a loop over rows) and the index `base` of its class 0. */
const ROW_WGSL = `let s = at;
      let o = s / uniforms.inner;
      let base = o * uniforms.classes * uniforms.inner + (s - o * uniforms.inner);`;

/** The grid of a pass over the rows, one invocation per row. */
function rowGrid(layout: ClassLayout) {
  const samples = layout.outer * layout.inner;
  return { samples, ...gridFor(samples) };
}

/** Where a row pass writes each part of its buffer: what the gradient reads, then the losses or the partial sums. */
function passLayout(layout: ClassLayout, grid: Grid & { samples: number }, perSample: boolean, recording: boolean) {
  return bufferLayout([
    ['exps', recording ? layout.outer * layout.classes * layout.inner : 0],
    ['records', recording ? 4 * grid.samples : 0],
    ['losses', perSample ? grid.samples : 0],
    ['partials', perSample ? 0 : 4 * partialCount(grid)],
  ]);
}

/**
 * Runs a row pass (`rowPassCode` of `accumulate` and `finish`) over the logits, with the inputs
 * `targets` and `classWeight` (when given), and returns the loss's value: 'mean' by `mean` (over the
 * sample count for 'meanOverCount'). The class-index pass gives its `ignoreIndex` (a uniform).
 */
function runRowPass(
  args: CrossEntropyIndicesArgs | CrossEntropyProbabilitiesArgs,
  recording: boolean,
  pass: { key: string; accumulate: string; finish: string; ignoreIndex?: number; mean: Finish },
): DeviceForward {
  const { layout, reduction, weight, labelSmoothing } = args;
  const grid = rowGrid(layout);
  const perSample = reduction === 'none';
  const { at, size } = passLayout(layout, grid, perSample, recording);
  const inputs: Record<string, tf.Tensor> = { logits: args.logits, targets: args.target };
  if (weight !== null) inputs.classWeight = weight;
  const saved = runProgram({
    key: pass.key,
    inputs,
    ints: {
      classes: layout.classes,
      inner: layout.inner,
      elements: grid.samples,
      groups: grid.groups,
      iterations: grid.iterations,
      ...(pass.ignoreIndex === undefined ? {} : { ignoreIndex: pass.ignoreIndex }),
      recordsAt: at.records,
      lossesAt: at.losses,
      partialsAt: at.partials,
    },
    floats: { keep: 1 - labelSmoothing, perClass: labelSmoothing / layout.classes },
    outputSize: size,
    workgroups: grid.groups,
    code: rowPassCode(pass.accumulate, pass.finish, !perSample),
  });
  return classPassResult(saved, { at, grid }, args, recording, pass.mean, pass.mean === 'meanOverCount' ? 1 / grid.samples : 1);
}

/** The upstream gradient of one sample (`s`) in WGSL: one value for 'mean' and 'sum', one per sample for 'none'. */
function upstreamAt(reduction: string): string {
  return reduction === 'none' ? 'upstream[s]' : 'upstream[0]';
}

/**
 * Cross-entropy of logits `z` against class indices `y`, with `lp = z - m - log Σ_c e_c`:
 *
 *     loss_n = (1-ε)·w_y·(-lp_y) + (ε/C)·Σ_c w_c·(-lp_c)      (0 where y = ignoreIndex)
 *     'mean' = Σ_n loss_n / Σ_{n kept} w_{y_n}                  (NaN when that is 0)
 *     ∂loss_n/∂z_c = p_c·R - (1-ε)·w_y·[c = y] - (ε/C)·w_c,     R = (1-ε)·w_y + (ε/C)·Σ_c w_c
 *
 * computed as `-lp_y = log Σ e + (m - z_y)` and `Σ_c w_c·(-lp_c) = Σw·log Σ e + Σ_c w_c·(m - z_c)`, sums of
 * non-negative terms. The pass keeps `e_c` and a record per sample, `(R/Σe, state, ∂loss/∂z_y, y)` with
 * state 1 kept, 0 ignored, 2 invalid; the target's own entry `(ε/C)·(Σw - w_y) - R·Σ_{c≠y} e_c/Σe` is
 * exact where `p_y` rounds to 1. Under `poison`, an index that is neither `ignoreIndex` nor an integer in
 * [0, C) gives NaN for its sample ('none') or for the whole loss and gradient ('mean', 'sum'); it is
 * never used to read.
 */
export const crossEntropyIndicesWebGPU: DeviceKernel<CrossEntropyIndicesArgs> = {
  differentiable: ['logits'],

  forward(args: CrossEntropyIndicesArgs, recording: boolean): DeviceForward {
    const { reduction, labelSmoothing, weight, poison } = args;
    const smoothing = labelSmoothing > 0;
    const perSample = reduction === 'none';
    const integerTargets = args.target.dtype === 'int32';
    const classWeight = (c: string) => (weight === null ? '1.0' : `classWeight[${c}]`);
    const label = classIndexWgsl(args.target.dtype);
    const finish = `${label}
      let kept = inRange && !ignored;
      let sumExp = sums.y + sums.x;
      let weightSum = ${smoothing ? (weight === null ? 'f32(classes)' : 'sums.w') : '0.0'};
      var loss = 0.0;
      var record = vec4<f32>(0.0, 0.0, 0.0, -1.0);
      if (kept) {
        let y = i32(label);
        let wy = ${classWeight('y')};
        let zy = logits[base + y * inner];
        loss = uniforms.keep * wy * (logSum + (rowMax - zy))${smoothing ? ' + uniforms.perClass * (weightSum * logSum + sums.z)' : ''};
        partial += vec4<f32>(loss, wy, 0.0, 0.0);
        ${
          recording
            ? `let atMax = zy == rowMax;
        let ey = select(exp(zy - rowMax), 1.0, atMax);
        let others = select(sums.y + (sums.x - ey), (sums.y - 1.0) + sums.x, atMax);
        let rowFactor = uniforms.keep * wy + uniforms.perClass * weightSum;
        record = vec4<f32>(rowFactor / sumExp, 1.0, uniforms.perClass * (weightSum - wy) - rowFactor * (others / sumExp), f32(y));`
            : ''
        }
      }${invalidIndexWgsl(poison)}
      ${recording ? 'let r = uniforms.recordsAt + 4 * s; result[r] = record.x; result[r + 1] = record.y; result[r + 2] = record.z; result[r + 3] = record.w;' : ''}
      ${perSample ? 'result[uniforms.lossesAt + s] = loss;' : ''}`;
    const accumulate = [
      recording ? 'result[at] = e;' : '',
      smoothing ? `let w = ${classWeight('c')}; sums.z += w * (rowMax - z); sums.w += w;` : '',
    ].join('\n        ');
    return runRowPass(args, recording, {
      key: `ceIndicesPass_${reduction}_${weight !== null}_${smoothing}_${poison}_${recording}_${integerTargets}`,
      accumulate,
      finish,
      ignoreIndex: args.ignoreIndex,
      mean: 'meanOverWeight',
    });
  },

  backward(dy: tf.Tensor, args: CrossEntropyIndicesArgs, saved: tf.Tensor[]): tf.Tensor[] {
    if (saved.length === 0) return withRecordedForward(crossEntropyIndicesWebGPU, dy, args);
    const { layout, reduction, weight } = args;
    const grid = rowGrid(layout);
    const elements = layout.outer * layout.classes * layout.inner;
    const smoothing = args.labelSmoothing > 0;
    const perSample = reduction === 'none';
    const { at } = passLayout(layout, grid, perSample, true);
    // 'none': the upstream gradient of each kept sample; otherwise the factors of kept and ignored rows.
    const scales = perSample ? dy : rowScales(saved[0], at.partials, grid, reduction === 'mean', dy);
    const inputs: Record<string, tf.Tensor> = { saved: saved[0], scales };
    if (smoothing && weight !== null) inputs.classWeight = weight;
    const rowScale = perSample
      ? 'select(select(0.0, nan(), state == 2.0), scales[s], state == 1.0)'
      : 'select(scales[1], scales[0], state == 1.0)';
    const gradient = runProgram({
      key: `ceIndicesGradient_${reduction}_${weight !== null}_${smoothing}`,
      inputs,
      ints: { classes: layout.classes, inner: layout.inner, elements: grid.samples, ...grid, recordsAt: at.records },
      floats: { perClass: args.labelSmoothing / layout.classes },
      outputSize: elements,
      workgroups: grid.groups,
      code: `fn main(index : i32) {${forEachElement(`${ROW_WGSL}
      let r = uniforms.recordsAt + 4 * s;
      let rowFactor = saved[r];
      let state = saved[r + 1];
      let y = i32(saved[r + 3]);
      let rowScale = ${rowScale};
      let pull = uniforms.perClass * select(0.0, 1.0, state == 1.0);
      for (var c = 0; c < uniforms.classes; c++) {
        let at = base + c * uniforms.inner;
        var g = saved[at] * rowFactor${smoothing ? ` - pull * ${weight === null ? '1.0' : 'classWeight[c]'}` : ''};
        g = select(g, saved[r + 2], c == y);
        result[at] = g * rowScale;
      }`)}
}`,
    });
    if (!perSample) scales.dispose();
    return [reshapedFrom(gradient, args.logits.shape)];
  },
};

/**
 * Cross-entropy of logits `z` against class probabilities `t` (the logits' shape), smoothed as
 * `t' = (1-ε)·t + ε/C`, with `M = Σ_c w_c·t'_c`:
 *
 *     loss_n = -Σ_c w_c·t'_c·lp_c = M·log Σ e + Σ_c w_c·t'_c·(m - z_c)      'mean' = Σ_n loss_n / N
 *     ∂/∂z_c = p_c·M - w_c·t'_c          ∂/∂t_c = -(1-ε)·w_c·lp_c
 *
 * The pass keeps `e_c` and a record per sample `(M/Σe, m, log Σ e, 0)`; one program per gradient.
 */
export const crossEntropyProbabilitiesWebGPU: DeviceKernel<CrossEntropyProbabilitiesArgs> = {
  differentiable: ['logits', 'target'],

  forward(args: CrossEntropyProbabilitiesArgs, recording: boolean): DeviceForward {
    const { reduction, weight } = args;
    const perSample = reduction === 'none';
    const accumulate = `${recording ? 'result[at] = e;' : ''}
        let weighted = ${weight === null ? '' : 'classWeight[c] * '}(uniforms.keep * targets[at] + uniforms.perClass);
        sums.z += weighted;
        sums.w += weighted * (rowMax - z);`;
    const finish = `let loss = sums.z * logSum + sums.w;
      partial.x += loss;
      ${recording ? 'let r = uniforms.recordsAt + 4 * s; result[r] = sums.z / (sums.y + sums.x); result[r + 1] = rowMax; result[r + 2] = logSum;' : ''}
      ${perSample ? 'result[uniforms.lossesAt + s] = loss;' : ''}`;
    return runRowPass(args, recording, {
      key: `ceProbabilitiesPass_${reduction}_${weight !== null}_${recording}`,
      accumulate,
      finish,
      mean: 'meanOverCount',
    });
  },

  backward(dy: tf.Tensor, args: CrossEntropyProbabilitiesArgs, saved: tf.Tensor[]): tf.Tensor[] {
    if (saved.length === 0) return withRecordedForward(crossEntropyProbabilitiesWebGPU, dy, args);
    const { layout, reduction, weight } = args;
    const grid = rowGrid(layout);
    const elements = layout.outer * layout.classes * layout.inner;
    const { at } = passLayout(layout, grid, reduction === 'none', true);
    const scale = reduction === 'mean' ? 1 / grid.samples : 1;
    const classWeight = weight === null ? '1.0' : 'classWeight[c]';
    const run = (name: string, operand: [string, tf.Tensor], gradient: string) => {
      const inputs: Record<string, tf.Tensor> = { saved: saved[0], upstream: dy, [operand[0]]: operand[1] };
      if (weight !== null) inputs.classWeight = weight;
      const flat = runProgram({
        key: `ceProbabilities${name}Gradient_${reduction}_${weight !== null}`,
        inputs,
        ints: { classes: layout.classes, inner: layout.inner, elements: grid.samples, ...grid, recordsAt: at.records },
        floats: { keep: 1 - args.labelSmoothing, perClass: args.labelSmoothing / layout.classes, scale },
        outputSize: elements,
        workgroups: grid.groups,
        code: `fn main(index : i32) {${forEachElement(`${ROW_WGSL}
      let r = uniforms.recordsAt + 4 * s;
      let rowScale = uniforms.scale * ${upstreamAt(reduction)};
      for (var c = 0; c < uniforms.classes; c++) {
        let at = base + c * uniforms.inner;
        result[at] = (${gradient}) * rowScale;
      }`)}
}`,
      });
      return reshapedFrom(flat, args.logits.shape);
    };
    return [
      run('Logits', ['targets', args.target], `saved[at] * saved[r] - ${classWeight} * (uniforms.keep * targets[at] + uniforms.perClass)`),
      run('Target', ['logits', args.logits], `-uniforms.keep * ${classWeight} * ((logits[at] - saved[r + 1]) - saved[r + 2])`),
    ];
  },
};
