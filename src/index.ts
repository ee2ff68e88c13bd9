// tfjs-loss-adapter: the main entry (browser-safe, every tfjs backend). Re-exports only.

// Losses with torch.nn.functional semantics, and torch.nn-style modules.
export { binaryCrossEntropy } from './losses/binaryCrossEntropy';
export type { BinaryCrossEntropyOptions } from './losses/binaryCrossEntropy';
export { binaryCrossEntropyWithLogits } from './losses/binaryCrossEntropyWithLogits';
export type { BinaryCrossEntropyWithLogitsOptions } from './losses/binaryCrossEntropyWithLogits';
export { crossEntropy } from './losses/crossEntropy';
export type { CrossEntropyOptions } from './losses/crossEntropy';
export { nllLoss } from './losses/nllLoss';
export type { NllLossOptions } from './losses/nllLoss';
export { sigmoidFocalLoss } from './losses/sigmoidFocalLoss';
export type { SigmoidFocalLossOptions } from './losses/sigmoidFocalLoss';
export { softmaxFocalLoss } from './losses/softmaxFocalLoss';
export type { SoftmaxFocalLossOptions } from './losses/softmaxFocalLoss';
export type { SoftmaxLossOptions } from './losses/softmaxLoss';
export { klDivergence } from './losses/klDivergence';
export type { KlDivergenceOptions, KlReduction } from './losses/klDivergence';
export { BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, KLDivLoss, NLLLoss, SigmoidFocalLoss, SoftmaxFocalLoss } from './losses/modules';
export { LossInputError } from './core/errors';
export type { Reduction } from './core/options';
export type { TensorInput } from './core/tensors';

// How the losses run: value checks on GPU backends, and the kernel implementation.
export { getValidation, setValidation } from './core/validation';
export type { ValidationMode, ValidationSetting } from './core/validation';
export { activeImplementation, getKernelPath, setKernelPath } from './kernels/dispatch';
export type { Implementation, KernelPath } from './kernels/dispatch';

// The binary-as-two-class adapter and one loss for binary and multiclass heads.
export * from './adapter';

// The checking toolkit: gradcheck, equivalence, the float64 reference, the verify suite; each check also
// in an ...Async form that reads tensors only with `await data()` (webgpu must not be read synchronously).
export {
  assertGradcheck,
  assertGradcheckAsync,
  FLOAT32_EPSILON,
  gradcheck,
  gradcheckAsync,
  GRADCHECK_DEFAULTS,
  GradcheckError,
} from './check/gradcheck';
export type { DirectionCheck, GradcheckOptions, GradcheckResult, SideCheck, SideCheckName, TensorFunction } from './check/gradcheck';
// Second derivatives (every loss is twice differentiable), checked as torch.autograd.gradgradcheck does.
export {
  assertGradgradcheck,
  assertGradgradcheckAsync,
  GRADGRADCHECK_DEFAULTS,
  gradgradcheck,
  gradgradcheckAsync,
} from './check/gradgradcheck';
export type { GradgradcheckOptions } from './check/gradgradcheck';
export { checkEquivalence, checkEquivalenceAsync } from './check/equivalence';
export type {
  CaseGenerator,
  Discrepancy,
  EquivalenceOptions,
  EquivalenceReport,
  LossFunction,
  LossSide,
  Quantity,
} from './check/equivalence';
export { compareArrays, DEFAULT_TOLERANCE, isClose } from './check/compare';
export type { ArrayComparison, ElementComparison, Tolerance } from './check/compare';
export { randomCase } from './check/cases';
export type { CaseKind, CaseSpec, LossCase } from './check/cases';
export { seededRandom, streamSeed } from './check/random';
export type { SeededRandom } from './check/random';
export { checkUserLoss, checkUserLossAsync } from './check/userLoss';
export type { UserLossCheck, UserLossCheckName, UserLossOptions, UserLossReport } from './check/userLoss';
export {
  referenceBinaryCrossEntropy,
  referenceBinaryCrossEntropyWithLogits,
  referenceCrossEntropy,
  referenceNllLoss,
} from './check/reference';
export type {
  ReferenceBinaryCrossEntropyOptions,
  ReferenceBinaryCrossEntropyWithLogitsOptions,
  ReferenceCrossEntropyOptions,
  ReferenceNllLossOptions,
  ReferenceResult,
  ReferenceTensor,
} from './check/reference';
export { referenceKlDivergence, referenceSigmoidFocalLoss, referenceSoftmaxFocalLoss } from './check/referenceFocal';
export type {
  ReferenceKlDivergenceOptions,
  ReferenceSigmoidFocalLossOptions,
  ReferenceSoftmaxFocalLossOptions,
} from './check/referenceFocal';
export {
  checkTorchFixture,
  checkTorchFixtureAsync,
  fixtureTensor,
  fixtureValues,
  parseTorchFixture,
  TORCH_FIXTURE_FORMAT,
  TORCH_FIXTURE_TOLERANCE,
  TORCH_FIXTURE_VERSION,
} from './check/torchFixture';
export type {
  FixtureCaseReport,
  FixtureFunction,
  FixtureNumber,
  FixtureOption,
  FixtureQuantity,
  FixtureTensor,
  TorchFixture,
  TorchFixtureCase,
  TorchFixtureOptions,
  TorchFixtureReport,
} from './check/torchFixture';
export { runVerifySuite, runVerifySuiteAsync } from './check/verifySuite';
export { formatCheckTable } from './check/checkResult';
export type { CheckResult } from './check/checkResult';
