import type * as tf from '@tensorflow/tfjs-core';
import { OptionRule, Parsed, parseOptions } from '../core/options';
import type { TensorInput } from '../core/tensors';

/** The rules of a loss's options, by name (see `Schema`). */
export type OptionSchema = Readonly<Record<string, OptionRule<unknown>>>;

/**
 * A loss as its public entries see it: its name (errors are reported under it), the schema of its
 * options, and the loss itself on options already parsed. The function and the torch.nn-style module
 * parse the options once (`bindLoss`); `classificationLoss`, which parses its own, calls `run`.
 */
export interface LossDefinition<S extends OptionSchema> {
  readonly name: string;
  readonly schema: S;
  run(input: TensorInput, target: TensorInput, options: Parsed<S>): tf.Tensor;
}

/** The loss with `options` parsed (throwing a LossInputError for a bad one) and bound. */
export function bindLoss<S extends OptionSchema>(
  definition: LossDefinition<S>,
  options: unknown,
): (input: TensorInput, target: TensorInput) => tf.Tensor {
  const parsed = parseOptions(definition.schema, options, definition.name);
  return (input, target) => definition.run(input, target, parsed);
}
