import * as tf from '@tensorflow/tfjs-core';
import type { ClassLayout } from '../../core/layout';
import type { Reduction } from '../../core/options';
import { isRecordingBackward, isRecordingGradient, mayRecordBackward, wasmHeapView } from '../../core/tfjsInternals';
import { DifferentiableGradient, keepArguments, KeptArguments } from '../secondOrder';

/** What a fused host kernel returns: the loss, and when asked, its gradients computed in the same pass. */
export interface FusedResult {
  /** The loss: one value for 'mean' and 'sum', one per sample for 'none'. */
  value: Float32Array;
  valueShape: number[];
  /**
   * For each differentiable input, the gradient of `value` (of each sample's own loss for 'none').
   * The arrays belong to the caller, which scales them in place.
   */
  gradients?: Float32Array[];
}

/** A fused host kernel: gets the values of the differentiable inputs, read to the host. */
export type FusedRun = (withGradients: boolean, values: Float32Array[]) => FusedResult;

/**
 * The float32 values of `t` on the host. On wasm, a view of the heap instead of a copy: valid until
 * the heap grows, i.e. until the next tensor is allocated, so a kernel reads it before making any.
 */
export function hostValues(t: tf.Tensor): Float32Array {
  return (wasmHeapView(t) ?? t.dataSync()) as Float32Array;
}

/** Multiplies each element's gradient by the upstream gradient of the sample it belongs to. */
function scaleByUpstream(gradient: Float32Array, layout: ClassLayout, dy: Float32Array): void {
  if (dy.length === 1) {
    const scale = dy[0];
    if (scale !== 1) for (let e = 0; e < gradient.length; e++) gradient[e] *= scale;
    return;
  }
  const { outer, classes, inner } = layout;
  for (let o = 0; o < outer; o++) {
    for (let c = 0; c < classes; c++) {
      const base = (o * classes + c) * inner;
      const sampleBase = o * inner;
      for (let i = 0; i < inner; i++) gradient[base + i] *= dy[sampleBase + i];
    }
  }
}

/** The kernel call that the host ops made now belong to, for their gradient when it is itself recorded. */
interface SecondOrder {
  args: object;
  differentiable: readonly string[];
  gradient: DifferentiableGradient<object>;
}

let secondOrder: SecondOrder | null = null;

/**
 * Runs the host kernel `host(args)`, whose op (`hostOp`) then builds its gradient with `gradient` when
 * the backward pass is itself being recorded (a gradient of a gradient): the fused kernels read their
 * inputs to the host, so the gradients they compute are constants to the tape. `differentiable` names
 * the arguments that `host` passes to `hostOp`, in that order.
 */
export function runHostKernel<A extends object>(
  host: (args: A) => tf.Tensor,
  args: A,
  differentiable: readonly string[],
  gradient: DifferentiableGradient<A>,
): tf.Tensor {
  const outer = secondOrder;
  secondOrder = { args, differentiable, gradient: gradient as DifferentiableGradient<object> };
  try {
    return host(args);
  } finally {
    secondOrder = outer;
  }
}

/**
 * A fused host kernel as a tfjs op with a closed-form gradient (`tf.customGrad`): `run(withGradients,
 * values)` computes the loss from the values of `differentiable` read to the host; when a gradient tape
 * is recording it also returns the gradients from the same pass, and the backward pass only scales them
 * by the upstream gradient. `layout` maps each element of the differentiable inputs (all of one shape)
 * to its sample. Inside `runHostKernel`, under nested tapes (a gradient of a gradient may follow) it
 * keeps the kernel's arguments, and a backward pass that is itself recorded runs the differentiable
 * gradient instead; under one tape nothing more is kept or run than the fused kernel's own work.
 */
export function hostOp(differentiable: tf.Tensor[], layout: ClassLayout, run: FusedRun): tf.Tensor {
  const call = secondOrder;
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const inputs = args.slice(0, differentiable.length) as tf.Tensor[];
    // Read again when the backward pass recomputes: a wasm heap view may be stale by then.
    const runOnHost = (withGradients: boolean) => run(withGradients, inputs.map(hostValues));
    const recording = isRecordingGradient();
    const result = runOnHost(recording);
    let kept: KeptArguments<object> | null = null;
    if (call !== null && mayRecordBackward()) {
      kept = keepArguments(call.args, call.differentiable);
      (args[differentiable.length] as tf.GradSaveFunc)(kept.tensors());
    }
    return {
      value: tf.tensor(result.value, result.valueShape, 'float32'),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        if (kept !== null && call !== null && isRecordingBackward()) return call.gradient(kept.restore(saved), dy);
        const gradients = result.gradients ?? runOnHost(true).gradients;
        result.gradients = undefined; // scaled in place below: a second backward pass recomputes them
        if (gradients === undefined) throw new Error('hostOp: kernel returned no gradients when asked for them');
        const upstream = dy.dataSync() as Float32Array;
        return gradients.map((gradient, k) => {
          scaleByUpstream(gradient, layout, upstream);
          return tf.tensor(gradient, inputs[k].shape, 'float32');
        });
      },
    };
  });
  return op(...differentiable);
}

/** Packs the reduced loss: per sample for 'none', the scaled total otherwise (NaN for a mean over nothing, as 0/0). */
export function finish(
  total: number,
  scale: number,
  perSample: Float32Array | null,
  sampleShape: number[],
  reduction: Reduction,
  gradients: Float32Array[] | undefined,
): FusedResult {
  if (reduction === 'none' && perSample !== null) return { value: perSample, valueShape: sampleShape, gradients };
  return { value: Float32Array.of(total * scale), valueShape: [], gradients };
}

/** The arrays an elementwise kernel (input and target of one shape) fills, and the scale of its reduction. */
export interface ElementwiseOutputs {
  /** `1/meanDenominator` for 'mean', 1 otherwise. */
  scale: number;
  /** The per-element loss, for 'none'. */
  perElement: Float32Array | null;
  inputGradient: Float32Array | null;
  targetGradient: Float32Array | null;
}

/** Allocates what an elementwise kernel fills; 'mean' divides by `meanDenominator` (default: the element count). */
export function elementwiseOutputs(size: number, reduction: Reduction, withGradients: boolean, meanDenominator = size): ElementwiseOutputs {
  return {
    scale: reduction === 'mean' ? 1 / meanDenominator : 1,
    perElement: reduction === 'none' ? new Float32Array(size) : null,
    inputGradient: withGradients ? new Float32Array(size) : null,
    targetGradient: withGradients ? new Float32Array(size) : null,
  };
}

/** `finish` for an elementwise kernel: the loss of `shape`, and both gradients when they were computed. */
export function finishElementwise(total: number, out: ElementwiseOutputs, shape: number[], reduction: Reduction): FusedResult {
  const { inputGradient, targetGradient } = out;
  const gradients = inputGradient !== null && targetGradient !== null ? [inputGradient, targetGradient] : undefined;
  return finish(total, out.scale, out.perElement, shape, reduction, gradients);
}
