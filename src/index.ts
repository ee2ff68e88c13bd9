// tfjs-loss-adapter: the main entry (browser-safe, every tfjs backend). Re-exports only.
export { LossInputError } from './core/errors';
export type { Reduction } from './core/options';
export type { TensorInput } from './core/tensors';

export { binaryCrossEntropy } from './losses/binaryCrossEntropy';
export type { BinaryCrossEntropyOptions } from './losses/binaryCrossEntropy';
export { binaryCrossEntropyWithLogits } from './losses/binaryCrossEntropyWithLogits';
export type { BinaryCrossEntropyWithLogitsOptions } from './losses/binaryCrossEntropyWithLogits';
export { crossEntropy } from './losses/crossEntropy';
export type { CrossEntropyOptions } from './losses/crossEntropy';
export { nllLoss } from './losses/nllLoss';
export type { NllLossOptions } from './losses/nllLoss';
export { BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, NLLLoss } from './losses/modules';

export * from './adapter';

export { runVerifySuite } from './check/verifySuite';
export type { CheckResult } from './check/verifySuite';
