import * as tf from '@tensorflow/tfjs-core';
import { checkOneOf } from '../core/options';
import { describeValue } from '../core/tensors';
import { webgpuRunner } from '../core/tfjsInternals';
import { poisonInvalid, probabilitiesValidOnDevice, screenClassIndicesOnDevice } from '../core/validate';
import { isHostMemoryBackend } from '../core/validation';
import type {
  BinaryCrossEntropyArgs,
  BinaryCrossEntropyWithLogitsArgs,
  CrossEntropyIndicesArgs,
  CrossEntropyProbabilitiesArgs,
  DeviceKernel,
  KlDivergenceArgs,
  NllArgs,
  SigmoidFocalLossArgs,
  SoftmaxFocalIndicesArgs,
  SoftmaxFocalProbabilitiesArgs,
} from './args';
import { binaryCrossEntropyComposite } from './composite/binaryCrossEntropy';
import { binaryCrossEntropyWithLogitsComposite } from './composite/binaryCrossEntropyWithLogits';
import { crossEntropyIndicesComposite, crossEntropyProbabilitiesComposite } from './composite/crossEntropy';
import { klDivergenceComposite } from './composite/klDivergence';
import { nllLossComposite } from './composite/nllLoss';
import { sigmoidFocalLossComposite } from './composite/sigmoidFocalLoss';
import { softmaxFocalIndicesComposite, softmaxFocalProbabilitiesComposite } from './composite/softmaxFocalLoss';
import { twoClassLogitsComposite } from './composite/twoClassLogits';
import { binaryCrossEntropyGradient } from './composite/secondOrder/binaryCrossEntropy';
import { binaryCrossEntropyWithLogitsGradient } from './composite/secondOrder/binaryCrossEntropyWithLogits';
import { crossEntropyIndicesGradient, crossEntropyProbabilitiesGradient } from './composite/secondOrder/crossEntropy';
import { nllLossGradient } from './composite/secondOrder/nllLoss';
import { runDeviceKernel } from './deviceOp';
import { binaryCrossEntropyHost } from './host/binaryCrossEntropy';
import { binaryCrossEntropyWithLogitsHost } from './host/binaryCrossEntropyWithLogits';
import { crossEntropyIndicesHost, crossEntropyProbabilitiesHost } from './host/crossEntropy';
import { klDivergenceHost } from './host/klDivergence';
import { nllLossHost } from './host/nllLoss';
import { sigmoidFocalLossHost } from './host/sigmoidFocalLoss';
import { softmaxFocalIndicesHost, softmaxFocalProbabilitiesHost } from './host/softmaxFocalLoss';
import { twoClassLogitsHost } from './host/twoClassLogits';
import { binaryCrossEntropyWebGL } from './webgl/binaryCrossEntropy';
import { binaryCrossEntropyWithLogitsWebGL } from './webgl/binaryCrossEntropyWithLogits';
import { crossEntropyIndicesWebGL, crossEntropyProbabilitiesWebGL } from './webgl/crossEntropy';
import { nllLossWebGL } from './webgl/nllLoss';
import { webglKernelsAvailable } from './webgl/programs';
import { binaryCrossEntropyWebGPU } from './webgpu/binaryCrossEntropy';
import { binaryCrossEntropyWithLogitsWebGPU } from './webgpu/binaryCrossEntropyWithLogits';
import { crossEntropyIndicesWebGPU, crossEntropyProbabilitiesWebGPU } from './webgpu/crossEntropy';
import { nllLossWebGPU } from './webgpu/nllLoss';
import { runHostKernel } from './host/hostOp';
import type { DifferentiableGradient } from './secondOrder';

/**
 * The one dispatcher: for each loss kernel and the current backend, the implementation that runs.
 *
 * | kernel | host (`cpu`, `wasm`, `tensorflow`) | `webgl` | `webgpu` | any other backend |
 * |---|---|---|---|---|
 * | every loss | `host/`: fused JavaScript and WebAssembly SIMD | `webgl/`: GLSL programs | `webgpu/`: WGSL shaders | `composite/`: tfjs ops |
 *
 * A GPU implementation needs its backend's program runner (`core/tfjsInternals`); without it, the
 * composite runs.
 */

/**
 * Which implementation the losses run:
 * - `'auto'` (default): the host kernels where the data lives in host memory (`cpu`, `wasm`,
 *   `tensorflow`), the fused GPU programs on `webgl` and `webgpu`, tfjs ops on any other backend;
 * - `'fused'`: the host kernels everywhere (on a GPU backend they read the data back: for tests);
 * - `'composite'`: tfjs ops with the same closed-form gradients everywhere (the GPU kernels' oracle).
 */
export type KernelPath = 'auto' | 'fused' | 'composite';

/** Where a loss runs: the folders of `src/kernels`. */
export type Implementation = 'host' | 'webgl' | 'webgpu' | 'composite';

const KERNEL_PATHS: readonly KernelPath[] = ['auto', 'fused', 'composite'];
let kernelPath: KernelPath = 'auto';

/**
 * Chooses the implementation of every loss from now on (see `KernelPath`). All give the same values
 * and gradients to float32 rounding.
 *
 * ```js
 * const logits = tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]);
 * setKernelPath('composite'); // tfjs ops, e.g. to compare a GPU backend's kernels with them
 * console.log(activeImplementation(), crossEntropy(logits, [0, 1]).dataSync()[0].toFixed(4)); // => composite 0.3171
 * setKernelPath('auto');
 * console.log(activeImplementation(), crossEntropy(logits, [0, 1]).dataSync()[0].toFixed(4)); // => host 0.3171
 * ```
 */
export function setKernelPath(path: KernelPath): void {
  kernelPath = checkOneOf(path, KERNEL_PATHS, 'setKernelPath', 'path', describeValue);
}

/**
 * The setting last given to `setKernelPath` (`'auto'` until then).
 *
 * ```js
 * console.log(getKernelPath()); // => auto
 * setKernelPath('fused');
 * console.log(getKernelPath()); // => fused
 * setKernelPath('auto');
 * ```
 */
export function getKernelPath(): KernelPath {
  return kernelPath;
}

/**
 * The implementations of one loss kernel, how the host and composite ones screen values in 'device'
 * validation mode, and the gradient that every implementation's backward pass runs when it is itself
 * being recorded (a gradient of a gradient), so that every loss is twice differentiable everywhere.
 */
interface KernelTable<A> {
  host: (args: A) => tf.Tensor;
  composite: DeviceKernel<A>;
  webgl?: DeviceKernel<A>;
  webgpu?: DeviceKernel<A>;
  /**
   * The closed-form gradient as differentiable tfjs ops (`composite/secondOrder`), of screened
   * arguments; `noSecondOrder` for a loss that has none yet.
   */
  differentiableGradient: DifferentiableGradient<A>;
  /** Screens `args` on the device: the arguments to compute with, and where the values were valid (for `poisonInvalid`). */
  screen: (args: A) => { args: A; valid: tf.Tensor | null };
  /** The input whose emptiness means a loss over no samples. */
  input: (args: A) => tf.Tensor;
  /** The shape of the loss for reduction 'none'. */
  unreducedShape: (args: A) => number[];
}

/** The differentiable gradient of a loss without one: a gradient of its gradient throws, naming the loss. */
function noSecondOrder<A>(loss: string): DifferentiableGradient<A> {
  return () => {
    throw new Error(`${loss}: second derivatives (a gradient of its gradient) are not available for this loss`);
  };
}

/** Whether the host kernels run on `backend` under the current `KernelPath`. */
function runsOnHost(backend: string): boolean {
  return kernelPath === 'fused' || (kernelPath === 'auto' && isHostMemoryBackend(backend));
}

/** The implementation `table` runs on `backend` under the current `KernelPath`. */
function implementationFor<A>(table: KernelTable<A>, backend: string): Implementation {
  if (runsOnHost(backend)) return 'host';
  if (kernelPath === 'composite') return 'composite';
  if (backend === 'webgl' && table.webgl !== undefined && webglKernelsAvailable()) return 'webgl';
  if (backend === 'webgpu' && table.webgpu !== undefined && webgpuRunner() !== null) return 'webgpu';
  return 'composite';
}

function run<A extends object>(table: KernelTable<A>, args: A): tf.Tensor {
  const implementation = implementationFor(table, tf.getBackend());
  if (implementation !== 'host' && table.input(args).size === 0) {
    const empty = lossOverNoSamples(table);
    return runDeviceKernel(empty, args, (kept, dy) => empty.backward(dy, kept, []));
  }
  const poison = 'poison' in args && args.poison;
  const screen = (unscreened: A) => (poison ? table.screen(unscreened) : { args: unscreened, valid: null });
  const { reduction } = args as { reduction: 'mean' | 'sum' | 'none' };
  if (implementation === 'webgl' || implementation === 'webgpu') {
    // The GPU kernel screens and poisons inside; its differentiable gradient does the same with tfjs ops.
    return runDeviceKernel(table[implementation] as DeviceKernel<A>, args, (kept, dy) => {
      const { args: screened, valid } = screen(kept);
      return table.differentiableGradient(screened, poisonInvalid(dy, valid, reduction));
    });
  }
  const { args: screened, valid } = screen(args);
  const loss =
    implementation === 'host'
      ? runHostKernel(table.host, screened, table.composite.differentiable, table.differentiableGradient)
      : runDeviceKernel(table.composite, screened, table.differentiableGradient);
  return poisonInvalid(loss, valid, reduction);
}

/**
 * A loss over no samples without a program or a read (GPU backends cannot reduce empty tensors):
 * 'sum' is 0, 'none' empty, a mean ('mean', 'batchmean') NaN (0/0, as PyTorch), every gradient empty.
 */
function lossOverNoSamples<A extends object>(table: KernelTable<A>): DeviceKernel<A> {
  return {
    differentiable: table.composite.differentiable,
    forward(args) {
      const { reduction } = args as { reduction: string };
      const value = reduction === 'none' ? tf.tensor([], table.unreducedShape(args)) : tf.scalar(reduction === 'sum' ? 0 : NaN);
      return { value, saved: [] };
    },
    backward(_dy, args) {
      return table.composite.differentiable.map((key) => tf.tensor([], (args[key] as tf.Tensor).shape));
    },
  };
}

function screenIndices<A extends { target: tf.Tensor; layout: { classes: number }; ignoreIndex: number }>(args: A) {
  const { tensor, valid } = screenClassIndicesOnDevice(args.target, args.layout.classes, args.ignoreIndex);
  return { args: { ...args, target: tensor }, valid };
}

const notScreened = <A>(args: A) => ({ args, valid: null });

const CROSS_ENTROPY_INDICES: KernelTable<CrossEntropyIndicesArgs> = {
  host: crossEntropyIndicesHost,
  composite: crossEntropyIndicesComposite,
  webgl: crossEntropyIndicesWebGL,
  webgpu: crossEntropyIndicesWebGPU,
  differentiableGradient: crossEntropyIndicesGradient,
  screen: screenIndices,
  input: (args) => args.logits,
  unreducedShape: (args) => args.sampleShape,
};

const CROSS_ENTROPY_PROBABILITIES: KernelTable<CrossEntropyProbabilitiesArgs> = {
  host: crossEntropyProbabilitiesHost,
  composite: crossEntropyProbabilitiesComposite,
  webgl: crossEntropyProbabilitiesWebGL,
  webgpu: crossEntropyProbabilitiesWebGPU,
  differentiableGradient: crossEntropyProbabilitiesGradient,
  screen: notScreened,
  input: (args) => args.logits,
  unreducedShape: (args) => args.sampleShape,
};

const NLL: KernelTable<NllArgs> = {
  host: nllLossHost,
  composite: nllLossComposite,
  webgl: nllLossWebGL,
  webgpu: nllLossWebGPU,
  differentiableGradient: nllLossGradient,
  screen: screenIndices,
  input: (args) => args.logProbabilities,
  unreducedShape: (args) => args.sampleShape,
};

const BINARY_CROSS_ENTROPY: KernelTable<BinaryCrossEntropyArgs> = {
  host: binaryCrossEntropyHost,
  composite: binaryCrossEntropyComposite,
  webgl: binaryCrossEntropyWebGL,
  webgpu: binaryCrossEntropyWebGPU,
  differentiableGradient: binaryCrossEntropyGradient,
  screen: (args) => ({ args, valid: probabilitiesValidOnDevice(args.input) }),
  input: (args) => args.input,
  unreducedShape: (args) => args.input.shape,
};

const BINARY_CROSS_ENTROPY_WITH_LOGITS: KernelTable<BinaryCrossEntropyWithLogitsArgs> = {
  host: binaryCrossEntropyWithLogitsHost,
  composite: binaryCrossEntropyWithLogitsComposite,
  webgl: binaryCrossEntropyWithLogitsWebGL,
  webgpu: binaryCrossEntropyWithLogitsWebGPU,
  differentiableGradient: binaryCrossEntropyWithLogitsGradient,
  screen: notScreened,
  input: (args) => args.input,
  unreducedShape: (args) => args.input.shape,
};

const SOFTMAX_FOCAL_INDICES: KernelTable<SoftmaxFocalIndicesArgs> = {
  host: softmaxFocalIndicesHost,
  composite: softmaxFocalIndicesComposite,
  screen: screenIndices,
  input: (args) => args.logits,
  unreducedShape: (args) => args.sampleShape,
  differentiableGradient: noSecondOrder('softmaxFocalLoss'),
};

const SOFTMAX_FOCAL_PROBABILITIES: KernelTable<SoftmaxFocalProbabilitiesArgs> = {
  host: softmaxFocalProbabilitiesHost,
  composite: softmaxFocalProbabilitiesComposite,
  screen: notScreened,
  input: (args) => args.logits,
  unreducedShape: (args) => args.sampleShape,
  differentiableGradient: noSecondOrder('softmaxFocalLoss'),
};

const SIGMOID_FOCAL: KernelTable<SigmoidFocalLossArgs> = {
  host: sigmoidFocalLossHost,
  composite: sigmoidFocalLossComposite,
  screen: (args) => ({ args, valid: probabilitiesValidOnDevice(args.target) }),
  input: (args) => args.input,
  unreducedShape: (args) => args.input.shape,
  differentiableGradient: noSecondOrder('sigmoidFocalLoss'),
};

const KL_DIVERGENCE: KernelTable<KlDivergenceArgs> = {
  host: klDivergenceHost,
  composite: klDivergenceComposite,
  screen: notScreened,
  input: (args) => args.input,
  unreducedShape: (args) => args.input.shape,
  differentiableGradient: noSecondOrder('klDivergence'),
};

export const crossEntropyIndicesKernel = (args: CrossEntropyIndicesArgs): tf.Tensor => run(CROSS_ENTROPY_INDICES, args);
export const crossEntropyProbabilitiesKernel = (args: CrossEntropyProbabilitiesArgs): tf.Tensor => run(CROSS_ENTROPY_PROBABILITIES, args);
export const nllLossKernel = (args: NllArgs): tf.Tensor => run(NLL, args);
export const binaryCrossEntropyKernel = (args: BinaryCrossEntropyArgs): tf.Tensor => run(BINARY_CROSS_ENTROPY, args);
export const binaryCrossEntropyWithLogitsKernel = (args: BinaryCrossEntropyWithLogitsArgs): tf.Tensor =>
  run(BINARY_CROSS_ENTROPY_WITH_LOGITS, args);
export const softmaxFocalIndicesKernel = (args: SoftmaxFocalIndicesArgs): tf.Tensor => run(SOFTMAX_FOCAL_INDICES, args);
export const softmaxFocalProbabilitiesKernel = (args: SoftmaxFocalProbabilitiesArgs): tf.Tensor => run(SOFTMAX_FOCAL_PROBABILITIES, args);
export const sigmoidFocalLossKernel = (args: SigmoidFocalLossArgs): tf.Tensor => run(SIGMOID_FOCAL, args);
export const klDivergenceKernel = (args: KlDivergenceArgs): tf.Tensor => run(KL_DIVERGENCE, args);

/**
 * The two-class logits `[N, 2]` with rows `[0, z_n]` of binary logits `z` (`[N]` or `[N, 1]`), and
 * their gradient (column 1 of the upstream gradient): one host pass where the data lives in host
 * memory, a `concat` of tfjs ops on every other backend.
 */
export function twoClassLogits(z: tf.Tensor, samples: number): tf.Tensor2D {
  return runsOnHost(tf.getBackend()) ? twoClassLogitsHost(z, samples) : twoClassLogitsComposite(z, samples);
}

/**
 * Where the losses run on `backend` (default: the current one) under the current `KernelPath`: `'host'`,
 * `'webgl'`, `'webgpu'` or `'composite'`. On webgl and webgpu it says whether the fused GPU kernels are
 * in use (they need WebGL 2, or the webgpu backend's program runner). Until tfjs has set up a backend
 * (`await tf.ready()`), `tf.getBackend()` is undefined and this says `'composite'`.
 *
 * ```js
 * await tf.ready();
 * console.log(tf.getBackend(), activeImplementation()); // => cpu host
 * console.log(activeImplementation('wasm')); // => host
 * ```
 */
export function activeImplementation(backend: string = tf.getBackend()): Implementation {
  return implementationFor(CROSS_ENTROPY_INDICES, backend);
}
