import * as tf from '@tensorflow/tfjs-core';
import type { ClassLayout } from '../../core/layout';
import type { DeviceForward, DeviceKernel, NllArgs } from '../args';
import {
  bufferLayout,
  classIndexWgsl,
  classPassResult,
  forEachElement,
  gridFor,
  invalidIndexWgsl,
  partialCount,
  reshapedFrom,
  rowScales,
  runProgram,
  withRecordedForward,
  WRITE_PARTIAL_WGSL,
} from './programs';

/** The pass's grid (one invocation per sample) and where it writes each part of its buffer. */
function passPlan(layout: ClassLayout, perSample: boolean, recording: boolean) {
  const samples = layout.outer * layout.inner;
  const grid = gridFor(samples);
  const { at, size } = bufferLayout([
    ['records', recording ? 4 * samples : 0],
    ['losses', perSample ? samples : 0],
    ['partials', perSample ? 0 : 4 * partialCount(grid)],
  ]);
  return { samples, grid, at, size };
}

/**
 * Negative log-likelihood of log-probabilities `x` against class indices `y`:
 *
 *     loss_n = -w_y·x[n, y_n]          (0 where y = ignoreIndex)
 *     'mean' = Σ_n loss_n / Σ_{n kept} w_{y_n}     (NaN when that is 0)
 *     ∂loss_n/∂x[n, c] = -w_y·[c = y]
 *
 * One invocation per sample reads its target's entry only; it records `(w_y, state, -, y)` for the
 * gradient (state 1 kept, 0 ignored, 2 invalid; y is -1 unless kept). Under `poison`, an index that is neither `ignoreIndex`
 * nor an integer in [0, C) gives NaN for its sample ('none') or for the whole loss and gradient ('mean',
 * 'sum'); it is never used to read.
 */
export const nllLossWebGPU: DeviceKernel<NllArgs> = {
  differentiable: ['logProbabilities'],

  forward(args: NllArgs, recording: boolean): DeviceForward {
    const { layout, reduction, weight, poison } = args;
    const perSample = reduction === 'none';
    const { samples, grid, at, size } = passPlan(layout, perSample, recording);
    const integerTargets = args.target.dtype === 'int32';
    const label = classIndexWgsl(args.target.dtype);
    const inputs: Record<string, tf.Tensor> = { logProbabilities: args.logProbabilities, targets: args.target };
    if (weight !== null) inputs.classWeight = weight;
    const saved = runProgram({
      key: `nllPass_${reduction}_${weight !== null}_${poison}_${recording}_${integerTargets}`,
      inputs,
      ints: {
        classes: layout.classes,
        inner: layout.inner,
        elements: samples,
        ...grid,
        ignoreIndex: args.ignoreIndex,
        recordsAt: at.records,
        lossesAt: at.losses,
        partialsAt: at.partials,
      },
      outputSize: size,
      workgroups: grid.groups,
      code: `fn main(index : i32) {
  var partial = vec4<f32>(0.0);
  ${forEachElement(`let s = at;
      ${label}
      var loss = 0.0;
      var record = vec4<f32>(0.0, 0.0, 0.0, -1.0);
      if (inRange && !ignored) {
        let y = i32(label);
        let o = s / uniforms.inner;
        let wy = ${weight === null ? '1.0' : 'classWeight[y]'};
        loss = -wy * logProbabilities[(o * uniforms.classes + y) * uniforms.inner + (s - o * uniforms.inner)];
        partial += vec4<f32>(loss, wy, 0.0, 0.0);
        record = vec4<f32>(wy, 1.0, 0.0, f32(y));
      }${invalidIndexWgsl(poison)}
      ${recording ? 'let r = uniforms.recordsAt + 4 * s; result[r] = record.x; result[r + 1] = record.y; result[r + 3] = record.w;' : ''}
      ${perSample ? 'result[uniforms.lossesAt + s] = loss;' : ''}`)}
  ${perSample ? '' : WRITE_PARTIAL_WGSL}
}`,
    });
    return classPassResult(saved, { at, grid }, args, recording, 'meanOverWeight');
  },

  backward(dy: tf.Tensor, args: NllArgs, saved: tf.Tensor[]): tf.Tensor[] {
    if (saved.length === 0) return withRecordedForward(nllLossWebGPU, dy, args);
    const { layout, reduction } = args;
    const perSample = reduction === 'none';
    const pass = passPlan(layout, perSample, true);
    const elements = layout.outer * layout.classes * layout.inner;
    // 'none': the upstream gradient of kept samples, NaN for invalid ones; otherwise the factors of
    // kept and ignored rows, here only at targets (PyTorch's 0/0 for a zero Σw stays at the targets).
    const scales = perSample ? dy : rowScales(saved[0], pass.at.partials, pass.grid, reduction === 'mean', dy);
    const [atTarget, elsewhere] = perSample ? ['-wy * scales[s]', 'select(0.0, nan(), state == 2.0)'] : ['-wy * scales[0]', 'scales[1]'];
    const flat = runProgram({
      key: `nllGradient_${reduction}`,
      inputs: { saved: saved[0], scales },
      ints: { classes: layout.classes, inner: layout.inner, elements: pass.samples, ...pass.grid, recordsAt: pass.at.records },
      outputSize: elements,
      workgroups: pass.grid.groups,
      code: `fn main(index : i32) {${forEachElement(`let s = at;
      let o = s / uniforms.inner;
      let base = o * uniforms.classes * uniforms.inner + (s - o * uniforms.inner);
      let r = uniforms.recordsAt + 4 * s;
      let wy = saved[r];
      let state = saved[r + 1];
      let y = i32(saved[r + 3]);
      let other = ${elsewhere};
      for (var c = 0; c < uniforms.classes; c++) {
        result[base + c * uniforms.inner] = select(other, ${atTarget}, c == y);
      }`)}
}`,
    });
    if (!perSample) scales.dispose();
    return [reshapedFrom(flat, args.logProbabilities.shape)];
  },
};
