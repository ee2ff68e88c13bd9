import * as tf from '@tensorflow/tfjs';
import { binaryCrossEntropy } from '../../src/losses/binaryCrossEntropy';
import { binaryCrossEntropyWithLogits } from '../../src/losses/binaryCrossEntropyWithLogits';
import { crossEntropy } from '../../src/losses/crossEntropy';
import { nllLoss } from '../../src/losses/nllLoss';

/**
 * The second-order PyTorch fixtures (`__tests__/fixtures/second-order/secondOrder.json`, written by
 * tools/generate_second_order_fixtures.py): their losses, tensors and numbers ("NaN", "Infinity" and
 * "-Infinity" are strings in JSON), decoded.
 */

export type LossFunction = (input: tf.Tensor, target: tf.Tensor, options: object) => tf.Tensor;

/** The library's function of each loss with second-order fixtures. */
export const LOSSES = { binaryCrossEntropy, binaryCrossEntropyWithLogits, crossEntropy, nllLoss } satisfies Record<string, LossFunction>;
export type SecondOrderLoss = keyof typeof LOSSES;
export const SECOND_ORDER_LOSSES = Object.keys(LOSSES) as SecondOrderLoss[];

type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity';

export interface FixtureTensor {
  shape: number[];
  values: JsonNumber[];
}

/** A case's call: float32 inputs stored in their shortest decimal form, the library's options (tensors as `FixtureTensor`). */
export interface FixtureCall {
  name: string;
  input: FixtureTensor;
  target: FixtureTensor & { dtype: 'int32' | 'float32' };
  options: { [option: string]: number | string | FixtureTensor };
}

function decodeNumber(v: JsonNumber): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  throw new Error(`fixture: not a number: ${JSON.stringify(v)}`);
}

/** PyTorch's float64 results. */
export function float64Values(t: FixtureTensor): Float64Array {
  return Float64Array.from(t.values, decodeNumber);
}

/** A float32 fixture tensor (input, weight, upstream...) with exactly PyTorch's numbers. */
export function fixtureTensor(t: FixtureTensor): tf.Tensor {
  return tf.tensor(Float32Array.from(t.values, decodeNumber), t.shape, 'float32');
}

/** The target in its own dtype: class indices as int32, probabilities and labels as float32. */
export function targetTensor(target: FixtureCall['target']): tf.Tensor {
  return target.dtype === 'int32' ? tf.tensor(Int32Array.from(target.values, decodeNumber), target.shape, 'int32') : fixtureTensor(target);
}

/** The case's options with each tensor option (weight, posWeight) as a tfjs tensor. */
export function optionTensors(options: FixtureCall['options']): { [option: string]: number | string | tf.Tensor } {
  const isTensor = (o: unknown): o is FixtureTensor => typeof o === 'object' && o !== null && 'shape' in o && 'values' in o;
  return Object.fromEntries(Object.entries(options).map(([name, option]) => [name, isTensor(option) ? fixtureTensor(option) : option]));
}
