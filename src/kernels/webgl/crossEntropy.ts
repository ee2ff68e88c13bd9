import * as tf from '@tensorflow/tfjs-core';
import type { CrossEntropyIndicesArgs, CrossEntropyProbabilitiesArgs, DeviceKernel } from '../args';
import {
  classAxisAccess,
  classAxisOutputCoords,
  classAxisShape,
  combine,
  GlslPart,
  partialMeans,
  perSampleLosses,
  reducePartialMeans,
  runProgram,
  SampleTerms,
  targetClassAccess,
  uniforms,
  upstreamAccess,
  upstreamScale,
  viewAs,
} from './programs';

/**
 * Cross-entropy on webgl. Both kernels start from two row statistics of the logits `z`, computed once
 * per sample and saved for the backward pass: the row max `m` and `ls = log Σ_c exp(z_c - m)`, kept
 * apart (their sum, the log-sum-exp, rounded at the magnitude of the logits, would cost the gradient
 * 1e-3 of relative accuracy at |z| = 1e4). Then `lp_c = (z_c - m) - ls` is exact to float32 rounding,
 * and the softmax `p_c = exp(lp_c)` costs one exponential per logit in the backward pass.
 */

/** The row max of each sample, `[samples]`: one program. */
function rowMax(logits: GlslPart, samples: number): tf.Tensor {
  return runProgram(
    [samples],
    logits,
    `void main() {
  ivec2 site = logitsSite(getOutputCoords());
  float m = logitsAt(site, 0);
  for (int c = 1; c < classes; c++) m = max(m, logitsAt(site, c));
  setOutput(m);
}`,
  );
}

/**
 * `ls = log Σ_c exp(z_c - m)` of each sample, `[samples]`: one program. The max's own term, exactly 1,
 * is left out of the sum and `ls = log1p(rest)`, so that a confident sample's small loss keeps its
 * relative accuracy. NaN when the max is infinite (as PyTorch: inf - inf).
 */
function logSumOverMax(logits: GlslPart, maxima: tf.Tensor, samples: number): tf.Tensor {
  return runProgram(
    [samples],
    combine(logits, { inputs: [['rowMaxima', maxima]], uniforms: [], glsl: '' }),
    `void main() {
  int s = getOutputCoords();
  ivec2 site = logitsSite(s);
  float m = getRowMaxima(s);
  float rest = 0.0;
  bool skipped = false;
  for (int c = 0; c < classes; c++) {
    float e = exp(logitsAt(site, c) - m);
    bool isMax = !skipped && e == 1.0;
    skipped = skipped || isMax;
    rest += isMax ? 0.0 : e;
  }
  setOutput(isinf(m) ? NAN : log1pAccurate(rest));
}`,
  );
}

/** The row statistics `m` and `ls` of every sample, `[samples]` each: what the kernels save. */
interface RowStatistics {
  maxima: tf.Tensor;
  logSums: tf.Tensor;
}

function rowStatistics(logits: GlslPart, samples: number): RowStatistics {
  const maxima = rowMax(logits, samples);
  return { maxima, logSums: logSumOverMax(logits, maxima, samples) };
}

/** The row statistics as GLSL `rowMax(s)` and `rowLogSum(s)`. */
function statisticsAccess({ maxima, logSums }: RowStatistics): GlslPart {
  return {
    inputs: [
      ['rowMaxima', maxima],
      ['rowLogSums', logSums],
    ],
    uniforms: [],
    glsl: `
float rowMax(int s) { return getRowMaxima(s); }
float rowLogSum(int s) { return getRowLogSums(s); }`,
  };
}

/** Label smoothing as the uniforms `keep = 1 - ε` and `smoothing = ε / C`. */
function smoothingUniforms(labelSmoothing: number, classes: number): GlslPart {
  return uniforms(
    { name: 'keep', type: 'float', value: 1 - labelSmoothing },
    { name: 'smoothing', type: 'float', value: labelSmoothing / classes },
  );
}

/** `Σ_c w_c`, `[]`: one program. */
function weightTotal(weight: tf.Tensor): tf.Tensor {
  return runProgram(
    [],
    { inputs: [['weight', weight]], uniforms: [{ name: 'classes', type: 'int', value: weight.size }], glsl: '' },
    `void main() {
  float total = 0.0;
  for (int c = 0; c < classes; c++) total += getWeight(c);
  setOutput(total);
}`,
  );
}

/** `Σ_c w_c` as GLSL `totalWeight()`: `C` without weights, else the output of `weightTotal`. */
function totalWeightAccess(weightSum: tf.Tensor | null, classes: number): GlslPart {
  if (weightSum === null) return { inputs: [], uniforms: [], glsl: `float totalWeight() { return ${classes}.0; }` };
  return { inputs: [['weightSum', weightSum]], uniforms: [], glsl: 'float totalWeight() { return getWeightSum(); }' };
}

/** What the cross-entropy with class indices saves: the row statistics, Σw (label smoothing with weights), the partial means ('mean', 'sum'). */
function unpackIndicesSaved(args: CrossEntropyIndicesArgs, saved: tf.Tensor[]) {
  const [maxima, logSums] = saved;
  const weightSum = args.labelSmoothing > 0 && args.weight !== null ? saved[2] : null;
  const partials = args.reduction === 'none' ? null : saved[saved.length - 1];
  return { statistics: { maxima, logSums }, weightSum, partials };
}

/**
 * Cross-entropy with class-index targets `y` on webgl, PyTorch's formula:
 *
 *     loss_n = (1-ε)·w_y·(ls + m - z_y) + (ε/C)·(Σw·ls + Σ_c w_c·(m - z_c))      (0 where y = ignoreIndex)
 *     'mean' = Σ_n loss_n / Σ_{n not ignored} w_{y_n}                               (NaN when that is 0)
 *     ∂loss_n/∂z_c = p_c·((1-ε)·w_y + (ε/C)·Σw) - (1-ε)·w_y·[c = y] - (ε/C)·w_c,  p_c = exp(z_c - m - ls)
 *
 * with the target's entry written as `(1-ε)·w_y·expm1(lp_y) + (ε/C)·(Σw·p_y - w_y)`, accurate when p_y
 * is near 1. A target that is neither an integer in [0, C) nor ignoreIndex is never used as an index:
 * its sample's loss and gradient are NaN, and the whole loss and gradient for 'mean' and 'sum'.
 *
 * Programs: row max, row log-sum, Σw (label smoothing with weights only), then the per-sample loss
 * ('none') or two reduction levels; backward: the upstream scale ('mean', 'sum') and the gradient.
 */
export const crossEntropyIndicesWebGL: DeviceKernel<CrossEntropyIndicesArgs> = {
  differentiable: ['logits'],
  forward(args, recording) {
    const { layout, reduction } = args;
    const samples = layout.outer * layout.inner;
    const logits = classAxisAccess('logits', args.logits, layout);
    const statistics = rowStatistics(logits, samples);
    const weightSum = args.labelSmoothing > 0 && args.weight !== null ? weightTotal(args.weight) : null;
    const terms = { samples, ...combine(logits, indicesTerms(args, statistics, weightSum)) };
    const kept = [statistics.maxima, statistics.logSums, ...(weightSum === null ? [] : [weightSum])];
    if (reduction === 'none') return { value: tf.reshape(perSampleLosses(terms), args.sampleShape), saved: recording ? kept : [] };
    const partials = partialMeans(terms);
    return { value: reducePartialMeans(partials, samples, reduction), saved: recording ? [...kept, partials] : [] };
  },
  backward(dy, args, saved) {
    const { layout, reduction } = args;
    const samples = layout.outer * layout.inner;
    const { statistics, weightSum, partials } = unpackIndicesSaved(args, saved);
    const scale = reduction === 'none' || partials === null ? 1 : upstreamScale(partials, samples, dy, reduction);
    const gradient = runProgram(
      classAxisShape(layout),
      combine(
        classAxisAccess('logits', args.logits, layout),
        statisticsAccess(statistics),
        targetClassAccess(args.target, args.weight, layout.classes, args.ignoreIndex),
        totalWeightAccess(weightSum, layout.classes),
        smoothingUniforms(args.labelSmoothing, layout.classes),
        upstreamAccess(dy, reduction, scale),
      ),
      `void main() {
  ${classAxisOutputCoords(layout)}
  float u = upstream(s);
  int y = targetClass(s);
  if (isnan(u) || y == INVALID) { setOutput(NAN); return; }
  if (y == IGNORED) { setOutput(0.0); return; }
  if (isinf(u)) { setOutput(NAN); return; }
  float wy = classWeight(y);
  float lp = (logitsAt(site, c) - rowMax(s)) - rowLogSum(s);
  float p = exp(lp);
  float g = c == y
    ? keep * wy * expm1Accurate(lp) + smoothing * (totalWeight() * p - wy)
    : p * (keep * wy + smoothing * totalWeight()) - smoothing * classWeight(c);
  setOutput(g * u);
}`,
    );
    return [viewAs(gradient, args.logits.shape)];
  },
};

/** `sampleLoss` and `sampleDenominator` of cross-entropy with class indices (see `crossEntropyIndicesWebGL`). */
function indicesTerms(args: CrossEntropyIndicesArgs, statistics: RowStatistics, weightSum: tf.Tensor | null): GlslPart {
  const { layout } = args;
  return combine(
    statisticsAccess(statistics),
    targetClassAccess(args.target, args.weight, layout.classes, args.ignoreIndex),
    totalWeightAccess(weightSum, layout.classes),
    smoothingUniforms(args.labelSmoothing, layout.classes),
    {
      inputs: [],
      uniforms: [],
      glsl: `
float sampleLoss(int s) {
  int y = targetClass(s);
  if (y == IGNORED) return 0.0;
  if (y == INVALID) return NAN;
  ivec2 site = logitsSite(s);
  float m = rowMax(s);
  float ls = rowLogSum(s);
  float loss = keep * classWeight(y) * (ls + (m - logitsAt(site, y)));
  if (smoothing > 0.0) {
    float shifted = 0.0;
    for (int c = 0; c < classes; c++) shifted += classWeight(c) * (m - logitsAt(site, c));
    loss += smoothing * (totalWeight() * ls + shifted);
  }
  return loss;
}
float sampleDenominator(int s) {
  int y = targetClass(s);
  return y == IGNORED ? 0.0 : y == INVALID ? NAN : classWeight(y);
}`,
    },
  );
}

/**
 * `T = Σ_c w_c·t'_c` of each sample, `[samples]`, with `t' = (1-ε)·t + ε/C`: one program. It is
 * needed once per gradient row, so it is computed once per sample.
 */
function targetMass(target: GlslPart, weighting: GlslPart, samples: number): tf.Tensor {
  return runProgram(
    [samples],
    combine(target, weighting),
    `void main() {
  ivec2 site = targetsSite(getOutputCoords());
  float total = 0.0;
  for (int c = 0; c < classes; c++) total += smoothedWeight(site, c);
  setOutput(total);
}`,
  );
}

/** GLSL `smoothedWeight(site, c) = w_c·((1-ε)·t_c + ε/C)` for probability targets read as `targets`. */
function smoothedTargetWeights(weight: tf.Tensor | null, labelSmoothing: number, classes: number): GlslPart {
  return combine(smoothingUniforms(labelSmoothing, classes), {
    inputs: weight === null ? [] : [['weight', weight]],
    uniforms: [],
    glsl: `
float classWeight(int c) { return ${weight === null ? '1.0' : 'getWeight(c)'}; }
float smoothedWeight(ivec2 site, int c) { return classWeight(c) * (keep * targetsAt(site, c) + smoothing); }`,
  });
}

/**
 * Cross-entropy with class-probability targets `t` on webgl, PyTorch's formula with `t' = (1-ε)·t + ε/C`:
 *
 *     loss_n = Σ_c w_c·t'_c·((m - z_c) + ls)          'mean' = Σ_n loss_n / N   (N samples, not weights)
 *     ∂loss_n/∂z_c = p_c·T_n - w_c·t'_c               T_n = Σ_c w_c·t'_c, p_c = exp(z_c - m - ls)
 *     ∂loss_n/∂t_c = -(1-ε)·w_c·lp_c                  lp_c = (z_c - m) - ls
 *
 * Programs: row max, row log-sum, then the per-sample loss ('none') or two reduction levels; backward:
 * T per sample and the two gradients.
 */
export const crossEntropyProbabilitiesWebGL: DeviceKernel<CrossEntropyProbabilitiesArgs> = {
  differentiable: ['logits', 'target'],
  forward(args, recording) {
    const { layout, reduction } = args;
    const samples = layout.outer * layout.inner;
    const logits = classAxisAccess('logits', args.logits, layout);
    const statistics = rowStatistics(logits, samples);
    const terms: SampleTerms = {
      samples,
      ...combine(
        logits,
        classAxisAccess('targets', args.target, layout),
        statisticsAccess(statistics),
        smoothedTargetWeights(args.weight, args.labelSmoothing, layout.classes),
        {
          inputs: [],
          uniforms: [],
          glsl: `
float sampleLoss(int s) {
  ivec2 site = logitsSite(s);
  float m = rowMax(s);
  float ls = rowLogSum(s);
  float loss = 0.0;
  for (int c = 0; c < classes; c++) loss += smoothedWeight(site, c) * ((m - logitsAt(site, c)) + ls);
  return loss;
}
float sampleDenominator(int s) { return 1.0; }`,
        },
      ),
    };
    const kept = recording ? [statistics.maxima, statistics.logSums] : [];
    if (reduction === 'none') return { value: tf.reshape(perSampleLosses(terms), args.sampleShape), saved: kept };
    return { value: reducePartialMeans(partialMeans(terms), samples, reduction), saved: kept };
  },
  backward(dy, args, saved) {
    const { layout, reduction } = args;
    const samples = layout.outer * layout.inner;
    const [maxima, logSums] = saved;
    const targets = classAxisAccess('targets', args.target, layout);
    const weighting = smoothedTargetWeights(args.weight, args.labelSmoothing, layout.classes);
    const masses = targetMass(targets, weighting, samples);
    const part = combine(
      classAxisAccess('logits', args.logits, layout),
      targets,
      weighting,
      statisticsAccess({ maxima, logSums }),
      { inputs: [['targetMasses', masses]], uniforms: [], glsl: '' },
      upstreamAccess(dy, reduction, reduction === 'mean' ? 1 / samples : 1),
    );
    const logProbability = '(logitsAt(site, c) - rowMax(s)) - rowLogSum(s)';
    const logitGradient = runProgram(
      classAxisShape(layout),
      part,
      `void main() {
  ${classAxisOutputCoords(layout)}
  float p = exp(${logProbability});
  setOutput((p * getTargetMasses(s) - smoothedWeight(site, c)) * upstream(s));
}`,
    );
    const targetGradient = runProgram(
      classAxisShape(layout),
      part,
      `void main() {
  ${classAxisOutputCoords(layout)}
  setOutput(-keep * classWeight(c) * (${logProbability}) * upstream(s));
}`,
    );
    return [viewAs(logitGradient, args.logits.shape), viewAs(targetGradient, args.target.shape)];
  },
};
