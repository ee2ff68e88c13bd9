import * as tf from '@tensorflow/tfjs-core';
import { webglUnpacked } from '../../core/tfjsInternals';
import type { CrossEntropyIndicesArgs, CrossEntropyProbabilitiesArgs, DeviceKernel } from '../args';
import {
  classAxisAccess,
  classAxisOutputCoords,
  classAxisPairProgram,
  classAxisShape,
  combine,
  indexedAccess,
  GlslPart,
  partialMeans,
  perSampleLosses,
  reducePartialMeans,
  runOverIndexGrid,
  runOverIndices,
  runProgram,
  SampleTerms,
  targetClassAccess,
  uniforms,
  upstreamAccess,
  upstreamScale,
  viewAs,
  unpackedTensors,
} from './programs';

/**
 * Cross-entropy on webgl. Both kernels start from two row statistics of the logits `z`, computed once
 * per sample and saved for the backward pass: the row max `m` and `rest = Σ_{c ≠ argmax} exp(z_c - m)`,
 * so that `Σ_c exp(z_c - m) = 1 + rest` and `ls = log1p(rest)` (not their sum, the log-sum-exp: rounded
 * at the magnitude of the logits, it would cost the gradient 1e-3 of relative accuracy at |z| = 1e4).
 * The softmax `p_c = exp(z_c - m) / (1 + rest)` costs one exponential per logit in the backward pass and
 * keeps float32 accuracy where a gradient cancels; `lp_c = (z_c - m) - ls` where a log-probability is needed.
 */

/** The row max of each sample, as `runOverIndexGrid`'s grid: one program. */
function rowMax(logits: GlslPart, samples: number): tf.Tensor {
  return runOverIndexGrid(
    samples,
    logits,
    `ivec2 site = logitsSite(index);
  float m = logitsAt(site, 0);
  for (int c = 1; c < classes; c++) m = max(m, logitsAt(site, c));
  setOutput(m);`,
  );
}

/**
 * `rest = Σ_c exp(z_c - m) - 1` of each sample, as `runOverIndexGrid`'s grid: one program. The max's own term, exactly 1,
 * is left out of the sum, so that `ls = log1p(rest)` keeps the relative accuracy of a confident sample's
 * small loss; the sum is compensated, as every sum over the classes here: a gradient that cancels
 * magnifies the error of a long float32 sum. NaN when the max is infinite (as PyTorch: inf - inf).
 */
function restOverMax(logits: GlslPart, maxima: tf.Tensor, samples: number): tf.Tensor {
  return runOverIndexGrid(
    samples,
    combine(logits, indexedAccess('rowMaxima', maxima)),
    `ivec2 site = logitsSite(index);
  float m = rowMaximaAt(index);
  vec2 rest = vec2(0.0);
  bool skipped = false;
  for (int c = 0; c < classes; c++) {
    // GLSL's exp2, not expAccurate: its relative error, about |x|·6e-8, is below 4e-8 of the sum's leading 1 per term.
    float e = exp2((logitsAt(site, c) - m) * 1.4426950408889634);
    bool isMax = !skipped && e == 1.0;
    skipped = skipped || isMax;
    rest = addCompensated(rest, isMax ? 0.0 : e);
  }
  setOutput(isinf(m) ? NAN : rest.x);`,
  );
}

/** The row statistics `m` and `rest` of every sample, each as `runOverIndexGrid`'s grid: what the kernels save. */
interface RowStatistics {
  maxima: tf.Tensor;
  rests: tf.Tensor;
}

function rowStatistics(logits: GlslPart, samples: number): RowStatistics {
  const maxima = rowMax(logits, samples);
  return { maxima, rests: restOverMax(logits, maxima, samples) };
}

/**
 * The row statistics as GLSL: `rowMax(s)`, `rowRest(s)`, `rowLogSum(s)` (ls), and `softmaxAt(s, site, c)` (p_c) for the
 * logits read as `logits`.
 */
function statisticsAccess({ maxima, rests }: RowStatistics): GlslPart {
  return combine(indexedAccess('rowMaxima', maxima), indexedAccess('rowRests', rests), {
    inputs: [],
    uniforms: [],
    glsl: `
float rowMax(int s) { return rowMaximaAt(s); }
float rowRest(int s) { return rowRestsAt(s); }
float rowLogSum(int s) { return log1pAccurate(rowRest(s)); }
float softmaxAt(int s, ivec2 site, int c) { return expAccurate(logitsAt(site, c) - rowMax(s)) / (1.0 + rowRest(s)); }`,
  });
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

/**
 * How cross-entropy with class indices is computed for a number of classes: the per-sample
 * statistics it saves for the backward pass (programs run when asked), and GLSL reading them:
 * `sampleLoss(s, y)`, the loss of a kept sample of class `y`, and `gradientPair(s, site, c, y)`, the
 * gradient of that loss at classes `c` and `c + 1` (the gradient is written packed where it can be,
 * two classes of two samples per texel: see `classAxisPairProgram`).
 */
interface IndicesMethod {
  statistics(args: CrossEntropyIndicesArgs, logits: GlslPart, samples: number): tf.Tensor[];
  access(args: CrossEntropyIndicesArgs, statistics: tf.Tensor[]): GlslPart;
}

/**
 * Any number of classes, through the row statistics `m` and `rest` (and `Σw` with label smoothing and weights):
 *
 *     loss_n = (1-ε)·w_y·(ls + m - z_y) + (ε/C)·(Σw·ls + Σ_c w_c·(m - z_c))
 *     ∂loss_n/∂z_c = ((e_c·R - T_c) - T_c·rest) / (1 + rest) - (ε/C)·w_c
 *
 * with `e_c = exp(z_c - m)`, `R = (1-ε)·w_y + (ε/C)·Σw` and `T_c = (1-ε)·w_y·[c = y]`: `p_c·R - T_c`
 * over the common denominator, one formula for every class (not a branch for the target, which a
 * GPU evaluates for every class). It keeps the target's entry accurate when p_y is near 1, where it
 * cancels: y is then the argmax, `e_y = 1` exactly and `e_y·R - T_y` is exact, so that the entry is
 * as accurate as `rest`, never rounded against the 1 of `1 + rest`. Elsewhere it cancels nothing
 * (`p_y ≤ 1/2` when y is not the argmax) but label smoothing's `- (ε/C)·w_c`.
 */
const softmaxMethod: IndicesMethod = {
  statistics(args, logits, samples) {
    const { maxima, rests } = rowStatistics(logits, samples);
    return [maxima, rests, ...(args.labelSmoothing > 0 && args.weight !== null ? [weightTotal(args.weight)] : [])];
  },
  access(args, [maxima, rests, weightSum]) {
    return combine(statisticsAccess({ maxima, rests }), totalWeightAccess(weightSum ?? null, args.layout.classes), {
      inputs: [],
      uniforms: [],
      glsl: `
float sampleLoss(int s, int y) {
  ivec2 site = logitsSite(s);
  float m = rowMax(s);
  float ls = rowLogSum(s);
  float loss = keep * classWeight(y) * (ls + (m - logitsAt(site, y)));
  if (smoothing > 0.0) {
    vec2 shifted = vec2(0.0);
    for (int c = 0; c < classes; c++) shifted = addCompensated(shifted, classWeight(c) * (m - logitsAt(site, c)));
    loss += smoothing * (totalWeight() * ls + shifted.x);
  }
  return loss;
}
vec2 gradientPair(int s, ivec2 site, int c, int y) {
  float rest = rowRest(s);
  float targetWeight = keep * classWeight(y);
  vec2 shifted = vec2(logitsAt(site, c), logitsAt(site, c + 1)) - rowMax(s);
  // Without label smoothing no entry cancels against e's rounding (the target's may, with e_y = 1
  // exactly): GLSL's exp2 (its rounding of x·log2 e, a relative error of about |x|·6e-8) is enough
  // and costs less than expAccurate, which label smoothing's p_c·R - (ε/C)·w_c needs.
  vec2 e = ${args.labelSmoothing > 0 ? 'vec2(expAccurate(shifted.x), expAccurate(shifted.y))' : 'exp2(shifted * 1.4426950408889634)'};
  vec2 target = vec2(c == y ? targetWeight : 0.0, c + 1 == y ? targetWeight : 0.0);
  vec2 pair = ((e * (targetWeight + smoothing * totalWeight()) - target) - target * rest) / (1.0 + rest);
  return ${args.labelSmoothing > 0 ? 'pair - smoothing * vec2(classWeight(c), classWeight(c + 1))' : 'pair'};
}`,
    });
  },
};

/**
 * Two classes (the binary-as-two-class head), from the margin `d = z_other - z_y` alone, with no
 * statistics: `-lp_y = softplus(d)` and `-lp_other = softplus(-d)`, accurate for confident samples,
 * and `R = (1-ε)·w_y + (ε/2)·(w_y + w_other)`:
 *
 *     loss_n = (1-ε)·w_y·softplus(d) + (ε/2)·(w_y·softplus(d) + w_other·softplus(-d))
 *     ∂loss_n/∂z_other = σ(d)·R - (ε/2)·w_other = -∂loss_n/∂z_y
 */
const twoClassMethod: IndicesMethod = {
  statistics() {
    return [];
  },
  access() {
    return {
      inputs: [],
      uniforms: [],
      glsl: `
float sampleLoss(int s, int y) {
  ivec2 site = logitsSite(s);
  float d = logitsAt(site, 1 - y) - logitsAt(site, y);
  float wy = classWeight(y);
  float targetLoss = keep * wy * softplus(d);
  return smoothing > 0.0 ? targetLoss + smoothing * (wy * softplus(d) + classWeight(1 - y) * softplus(-d)) : targetLoss;
}
vec2 gradientPair(int s, ivec2 site, int c, int y) {
  float d = logitsAt(site, 1 - y) - logitsAt(site, y);
  float wy = classWeight(y);
  float wOther = classWeight(1 - y);
  float other = sigmoid(d) * (keep * wy + smoothing * (wy + wOther)) - smoothing * wOther;
  return y == 0 ? vec2(-other, other) : vec2(other, -other);
}`,
    };
  },
};

/** The GLSL every method shares: the targets, label smoothing, and `sampleLoss(s)`/`sampleDenominator(s)` over any target. */
function indicesAccess(args: CrossEntropyIndicesArgs, method: IndicesMethod, statistics: tf.Tensor[]): GlslPart {
  const { layout } = args;
  return combine(
    classAxisAccess('logits', args.logits, layout),
    targetClassAccess(args.target, args.weight, layout.classes, args.ignoreIndex),
    smoothingUniforms(args.labelSmoothing, layout.classes),
    method.access(args, statistics),
    {
      inputs: [],
      uniforms: [],
      glsl: `
float sampleLoss(int s) {
  int y = targetClass(s);
  return y == IGNORED ? 0.0 : y == INVALID ? NAN : sampleLoss(s, y);
}
float sampleDenominator(int s) {
  int y = targetClass(s);
  return y == IGNORED ? 0.0 : y == INVALID ? NAN : classWeight(y);
}`,
    },
  );
}

/**
 * Cross-entropy with class-index targets `y` on webgl, PyTorch's formula:
 *
 *     loss_n = (1-ε)·(-w_y·lp_y) + (ε/C)·Σ_c(-w_c·lp_c)      (0 where y = ignoreIndex)
 *     'mean' = Σ_n loss_n / Σ_{n not ignored} w_{y_n}          (NaN when that is 0)
 *
 * computed as `softmaxMethod` says, or `twoClassMethod` for two classes. A target that is neither an
 * integer in [0, C) nor ignoreIndex is never used as an index: its sample's loss and gradient are NaN,
 * and the whole loss and gradient for 'mean' and 'sum'.
 *
 * Programs: the statistics (two or three; none for two classes), then the per-sample loss ('none') or
 * two reduction levels; backward: the upstream scale ('mean', 'sum') and the gradient (packed but for
 * K-dimensional logits of rank above 3: see `classAxisPairProgram`).
 */
export const crossEntropyIndicesWebGL: DeviceKernel<CrossEntropyIndicesArgs> = {
  differentiable: ['logits'],
  forward(received, recording) {
    const args = unpackedTensors(received);
    const { layout, reduction } = args;
    const samples = layout.outer * layout.inner;
    const method = layout.classes === 2 ? twoClassMethod : softmaxMethod;
    const statistics = method.statistics(args, classAxisAccess('logits', args.logits, layout), samples);
    const terms = { samples, ...indicesAccess(args, method, statistics) };
    if (reduction === 'none') return { value: tf.reshape(perSampleLosses(terms), args.sampleShape), saved: recording ? statistics : [] };
    const partials = partialMeans(terms);
    return { value: reducePartialMeans(partials, samples, reduction), saved: recording ? [...statistics, partials] : [] };
  },
  backward(upstreamGradient, received, saved) {
    const args = unpackedTensors(received);
    const dy = webglUnpacked(upstreamGradient);
    const { layout, reduction } = args;
    const samples = layout.outer * layout.inner;
    const method = layout.classes === 2 ? twoClassMethod : softmaxMethod;
    const statistics = reduction === 'none' ? saved : saved.slice(0, -1);
    const scale = reduction === 'none' ? 1 : upstreamScale(saved[saved.length - 1], samples, dy, reduction);
    const output = classAxisPairProgram(layout, args.logits.shape, 'sampleGradientPair(s, site, c)');
    const gradient = runProgram(
      output.outputShape,
      combine(indicesAccess(args, method, statistics), upstreamAccess(dy, reduction, scale), {
        inputs: [],
        uniforms: [],
        glsl: `
vec2 sampleGradientPair(int s, ivec2 site, int c) {
  float u = upstream(s);
  int y = targetClass(s);
  vec2 pair = gradientPair(s, site, c, y) * u;
  return isnan(u) || y == INVALID ? vec2(NAN) : y == IGNORED ? vec2(0.0) : isinf(u) ? vec2(NAN) : pair;
}`,
      }),
      output.main,
      output.packed,
    );
    return [viewAs(gradient, args.logits.shape)];
  },
};

/**
 * `T = Σ_c w_c·t'_c` of each sample, `[samples]`, with `t' = (1-ε)·t + ε/C`: one program. It is
 * needed once per gradient row, so it is computed once per sample.
 */
function targetMass(target: GlslPart, weighting: GlslPart, samples: number): tf.Tensor {
  return runOverIndices(
    samples,
    combine(target, weighting),
    `ivec2 site = targetsSite(index);
  vec2 total = vec2(0.0);
  for (int c = 0; c < classes; c++) total = addCompensated(total, smoothedWeight(site, c));
  setOutput(total.x);`,
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
 *     ∂loss_n/∂z_c = p_c·T_n - w_c·t'_c               T_n = Σ_c w_c·t'_c
 *     ∂loss_n/∂t_c = -(1-ε)·w_c·lp_c                  lp_c = (z_c - m) - ls
 *
 * Programs: row max, row log-sum, then the per-sample loss ('none') or two reduction levels; backward:
 * T per sample and the two gradients.
 */
export const crossEntropyProbabilitiesWebGL: DeviceKernel<CrossEntropyProbabilitiesArgs> = {
  differentiable: ['logits', 'target'],
  forward(received, recording) {
    const args = unpackedTensors(received);
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
  vec2 loss = vec2(0.0);
  for (int c = 0; c < classes; c++) loss = addCompensated(loss, smoothedWeight(site, c) * ((m - logitsAt(site, c)) + ls));
  return loss.x;
}
float sampleDenominator(int s) { return 1.0; }`,
        },
      ),
    };
    const kept = recording ? [statistics.maxima, statistics.rests] : [];
    if (reduction === 'none') return { value: tf.reshape(perSampleLosses(terms), args.sampleShape), saved: kept };
    return { value: reducePartialMeans(partialMeans(terms), samples, reduction), saved: kept };
  },
  backward(upstreamGradient, received, saved) {
    const args = unpackedTensors(received);
    const dy = webglUnpacked(upstreamGradient);
    const { layout, reduction } = args;
    const samples = layout.outer * layout.inner;
    const [maxima, rests] = saved;
    const targets = classAxisAccess('targets', args.target, layout);
    const weighting = smoothedTargetWeights(args.weight, args.labelSmoothing, layout.classes);
    const masses = targetMass(targets, weighting, samples);
    const part = combine(
      classAxisAccess('logits', args.logits, layout),
      targets,
      weighting,
      statisticsAccess({ maxima, rests }),
      { inputs: [['targetMasses', masses]], uniforms: [], glsl: '' },
      upstreamAccess(dy, reduction, reduction === 'mean' ? 1 / samples : 1),
    );
    const logitGradient = runProgram(
      classAxisShape(layout),
      part,
      `void main() {
  ${classAxisOutputCoords(layout)}
  float p = softmaxAt(s, site, c);
  setOutput((p * getTargetMasses(s) - smoothedWeight(site, c)) * upstream(s));
}`,
    );
    const targetGradient = runProgram(
      classAxisShape(layout),
      part,
      `void main() {
  ${classAxisOutputCoords(layout)}
  setOutput(-keep * classWeight(c) * ((logitsAt(site, c) - rowMax(s)) - rowLogSum(s)) * upstream(s));
}`,
    );
    return [viewAs(logitGradient, args.logits.shape), viewAs(targetGradient, args.target.shape)];
  },
};
