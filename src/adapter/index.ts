export { binaryToTwoClassLogits, twoClassToBinaryLogits, twoClassToBinaryProbs } from './twoClass';
export { binaryTargetsToClassIndices, classIndicesToBinaryTargets, binaryTargetsToTwoClassProbs } from './targets';
export type { IgnoreIndexOption } from './targets';
export { classificationLoss } from './classificationLoss';
export type { ClassificationLossOptions } from './classificationLoss';
