import * as tf from '@tensorflow/tfjs-core';
import { checkSameShape } from '../core/elementwise';
import { booleanOption, choiceOption, Reduction, Schema } from '../core/options';
import { TensorInput, toFloatTensor } from '../core/tensors';
import { klDivergenceKernel } from '../kernels/dispatch';
import { bindLoss, LossDefinition } from './loss';

/** How `klDivergence` reduces: PyTorch's reductions, and 'batchmean', the sum over the size of the first axis. */
export type KlReduction = Reduction | 'batchmean';

/** Options of `klDivergence` (PyTorch: `reduction`, `log_target`). */
export interface KlDivergenceOptions {
  /**
   * Default 'mean', PyTorch's default, which divides by the number of elements; 'batchmean' divides by
   * the batch size (the first axis) and gives the mathematical KL divergence of each row, averaged.
   */
  reduction?: KlReduction;
  /** The target holds log-probabilities instead of probabilities. Default false. */
  logTarget?: boolean;
}

const SCHEMA = {
  reduction: choiceOption<KlReduction>(['mean', 'batchmean', 'sum', 'none'], 'mean'),
  logTarget: booleanOption(false),
} satisfies Schema<KlDivergenceOptions>;

export const KL_DIVERGENCE: LossDefinition<typeof SCHEMA> = {
  name: 'klDivergence',
  schema: SCHEMA,
  run(input, target, { reduction, logTarget }) {
    const fn = this.name;
    return tf.tidy(() => {
      const logProbabilities = toFloatTensor(input, fn, 'input');
      const targets = toFloatTensor(target, fn, 'target');
      checkSameShape(logProbabilities, targets, fn);
      const shape = logProbabilities.shape;
      // PyTorch's 'batchmean' is 'sum' divided by input.size(0), and plain 'sum' for a scalar.
      const meanDenominator = reduction !== 'batchmean' ? logProbabilities.size : shape.length === 0 ? 1 : shape[0];
      return klDivergenceKernel({
        input: logProbabilities,
        target: targets,
        reduction: reduction === 'batchmean' ? 'mean' : reduction,
        meanDenominator,
        logTarget,
      });
    });
  },
};

/**
 * The Kullback-Leibler divergence of a target distribution `t` from the input's, as PyTorch's
 * `torch.nn.functional.kl_div`: the input `x` holds log-probabilities (e.g. `tf.logSoftmax(logits)`,
 * as for knowledge distillation), the target probabilities, element by element:
 *
 *     loss = t·(log t - x)           (0 where t = 0, as PyTorch's xlogy)
 *     loss = e^t·(t - x)             with logTarget: true (t holds log-probabilities)
 *     'mean' = Σ loss / (number of elements)     'batchmean' = Σ loss / (size of the first axis)
 *
 * 'batchmean' is the KL divergence of each sample's distribution averaged over the batch; 'mean', the
 * default as in PyTorch, also divides by the number of classes. The target must have the input's shape.
 * The gradients are closed-form and PyTorch's: `-t` for the input and `log t + 1 - x` for the target
 * (NaN where t = 0, as PyTorch's); with logTarget, `-e^t` and `e^t·(t - x + 1)`.
 *
 * ```js
 * const logProbabilities = tf.logSoftmax(tf.tensor2d([[2, 0, -1], [0.5, 1.5, 0]]));
 * const teacher = tf.tensor2d([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]]);
 * console.log(klDivergence(logProbabilities, teacher, { reduction: 'batchmean' }).dataSync()[0].toFixed(4)); // => 0.0717
 * // The default 'mean' also divides by the 3 classes:
 * console.log(klDivergence(logProbabilities, teacher).dataSync()[0].toFixed(4));                            // => 0.0239
 * ```
 */
export function klDivergence(input: TensorInput, target: TensorInput, options: KlDivergenceOptions = {}): tf.Tensor {
  return bindLoss(KL_DIVERGENCE, options)(input, target);
}
