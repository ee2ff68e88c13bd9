// tfjs-loss-adapter/layers: tfjs-layers integration (needs @tensorflow/tfjs-layers). Re-exports only.
// Importing this entry registers the BinaryAsTwoClass layer for serialization.
export { BinaryAsTwoClass } from './BinaryAsTwoClass';
export type { Shape } from './BinaryAsTwoClass';
export {
  binaryCrossEntropyWithLogitsLoss,
  categoricalCrossEntropyLoss,
  classificationLossFn,
  sparseCategoricalCrossEntropyLoss,
} from './losses';
export type {
  BinaryLayersLossOptions,
  CategoricalLayersLossOptions,
  ClassificationLayersLossOptions,
  LayersLoss,
  SparseLayersLossOptions,
} from './losses';
