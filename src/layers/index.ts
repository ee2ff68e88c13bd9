// tfjs-loss-adapter/layers: tfjs-layers integration (needs @tensorflow/tfjs-layers). Re-exports only.
// Importing this entry registers the BinaryAsTwoClass layer for serialization.
export { BinaryAsTwoClass } from './BinaryAsTwoClass';
export type { Shape } from './BinaryAsTwoClass';
export {
  binaryCrossEntropyWithLogitsLoss,
  binaryFocalLoss,
  categoricalCrossEntropyLoss,
  categoricalFocalLoss,
  classificationLossFn,
  sparseCategoricalCrossEntropyLoss,
  sparseCategoricalFocalLoss,
} from './losses';
export type {
  BinaryFocalLayersLossOptions,
  BinaryLayersLossOptions,
  CategoricalFocalLayersLossOptions,
  CategoricalLayersLossOptions,
  ClassificationLayersLossOptions,
  LayersLoss,
  SparseFocalLayersLossOptions,
  SparseLayersLossOptions,
} from './losses';
