import * as tf from '@tensorflow/tfjs';
import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  nllLoss,
  BCELoss,
  BCEWithLogitsLoss,
  CrossEntropyLoss,
  NLLLoss,
} from '../../src/index';
import { setValidation } from '../../src/core/validation';
import { expectInputError } from '../helpers/assertions';
import { describeEachBackend } from '../helpers/backends';

/**
 * The bad-input battery: every argument a user could plausibly get wrong, for every loss, each expected
 * to throw a LossInputError whose message names the function, the argument, what was expected and what
 * was given, and to leave `tf.memory()` (tensors and bytes) as it was. The cases build their tensors
 * before the measured call and dispose them after it.
 */

type LossFunction = (input: unknown, target: unknown, options?: unknown) => tf.Tensor;
type LossName = 'binaryCrossEntropy' | 'binaryCrossEntropyWithLogits' | 'crossEntropy' | 'nllLoss';

const LOSSES: Record<LossName, LossFunction> = {
  binaryCrossEntropy: binaryCrossEntropy as LossFunction,
  binaryCrossEntropyWithLogits: binaryCrossEntropyWithLogits as LossFunction,
  crossEntropy: crossEntropy as LossFunction,
  nllLoss: nllLoss as LossFunction,
};

/** A valid call of each loss (input [2, 3]), which each case spoils in one place. */
const VALID: Record<LossName, { input: () => tf.Tensor; target: () => tf.Tensor; weight: () => tf.Tensor }> = {
  binaryCrossEntropy: {
    input: () =>
      tf.tensor2d([
        [0.9, 0.2, 0.6],
        [0.05, 0.5, 0.999],
      ]),
    target: () =>
      tf.tensor2d([
        [1, 0, 1],
        [0.3, 1, 0],
      ]),
    weight: () => tf.tensor1d([1, 2, 0.5]),
  },
  binaryCrossEntropyWithLogits: {
    input: () =>
      tf.tensor2d([
        [2, -1, 0],
        [-0.5, 3, 7.5],
      ]),
    target: () =>
      tf.tensor2d([
        [1, 0, 0.5],
        [1, 0.2, 0],
      ]),
    weight: () => tf.tensor1d([1, 2, 0.5]),
  },
  crossEntropy: {
    input: () =>
      tf.tensor2d([
        [2, 0, -1],
        [0.5, 1.5, 0],
      ]),
    target: () => tf.tensor1d([0, 2], 'int32'),
    weight: () => tf.tensor1d([1, 2, 0.5]),
  },
  nllLoss: {
    input: () =>
      tf.tensor2d([
        [-0.2, -1.9, -2.5],
        [-1.2, -0.4, -1.6],
      ]),
    target: () => tf.tensor1d([0, 2], 'int32'),
    weight: () => tf.tensor1d([1, 2, 0.5]),
  },
};

interface BadCase {
  /** What is wrong, as the test's name. */
  what: string;
  /** The call's function, and its arguments (made fresh for the case; tensors among them are disposed after it). */
  loss: LossName;
  args: () => unknown[];
  /** The argument the message must name, then fragments it must contain: what was expected and what was given. */
  argument: string;
  fragments: Array<string | RegExp>;
  /** How the call is made: the function (default), or the torch.nn-style module constructed with the options. */
  viaModule?: boolean;
}

const disposed = (make: () => tf.Tensor): tf.Tensor => {
  const t = make();
  t.dispose();
  return t;
};

/** Bad arguments every loss shares: the input, the target, the options object, the reduction, the weight. */
function commonCases(loss: LossName): BadCase[] {
  const v = VALID[loss];
  const c = (what: string, args: () => unknown[], argument: string, ...fragments: Array<string | RegExp>): BadCase => ({
    what,
    loss,
    args,
    argument,
    fragments,
  });
  return [
    c('input undefined', () => [undefined, v.target()], 'input', 'a tf.Tensor or a (nested) array of numbers', 'got undefined'),
    c('input null', () => [null, v.target()], 'input', 'got null'),
    c('input a string', () => ['logits', v.target()], 'input', 'got the string "logits"'),
    c('input a plain object', () => [{ values: [1, 2] }, v.target()], 'input', 'got an object of type Object'),
    c(
      'input a ragged array',
      () => [[[0.5, 0.5, 0.5], [0.5]], v.target()],
      'input',
      'a rectangular (nested) array of numbers',
      'a row of length 1 at position [1], where the first row has length 3',
    ),
    c(
      'input with a null element',
      () => [
        [
          [0.5, null, 0.5],
          [0.5, 0.5, 0.5],
        ],
        v.target(),
      ],
      'input',
      'got null at position [0, 1]',
    ),
    c(
      'input with an undefined element',
      () => [
        [
          [0.5, 0.5, 0.5],
          [0.5, 0.5, undefined],
        ],
        v.target(),
      ],
      'input',
      'got undefined at position [1, 2]',
    ),
    c(
      'input with a string element',
      () => [
        [
          ['0.5', 0.5, 0.5],
          [0.5, 0.5, 0.5],
        ],
        v.target(),
      ],
      'input',
      'got the string "0.5" at position [0, 0]',
    ),
    c(
      'input with a number where a row belongs',
      () => [[[0.5, 0.5, 0.5], 0.5], v.target()],
      'input',
      'got the number 0.5 at position [1], where an array of length 3 belongs',
    ),
    c(
      'input a boolean tensor',
      () => [
        tf.tensor2d(
          [
            [true, false, true],
            [false, true, true],
          ],
          [2, 3],
          'bool',
        ),
        v.target(),
      ],
      'input',
      'a float32 tensor',
      'dtype bool, shape [2, 3]',
    ),
    c(
      'input an int32 tensor',
      () => [
        tf.tensor2d(
          [
            [1, 0, 1],
            [0, 1, 1],
          ],
          [2, 3],
          'int32',
        ),
        v.target(),
      ],
      'input',
      'a float32 tensor',
      'dtype int32, shape [2, 3]',
    ),
    c('input an Int32Array', () => [new Int32Array([1, 0]), v.target()], 'input', 'a float32 tensor', 'dtype int32, shape [2]'),
    c('input an Int16Array', () => [new Int16Array([1, 0]), v.target()], 'input', 'got an object of type Int16Array'),
    c('input a string tensor', () => [tf.tensor(['a', 'b']), v.target()], 'input', 'a float32 tensor', 'dtype string'),
    c('input a disposed tensor', () => [disposed(v.input), v.target()], 'input', 'got a disposed tensor'),
    c('target undefined', () => [v.input(), undefined], 'target', 'got undefined'),
    c('target null', () => [v.input(), null], 'target', 'got null'),
    c('target a disposed tensor', () => [v.input(), disposed(v.target)], 'target', 'got a disposed tensor'),
    c(
      'target an array of booleans',
      () => [
        v.input(),
        [
          [true, false, true],
          [false, true, true],
        ],
      ],
      'target',
      'got the boolean true at position [0, 0]',
    ),
    c(
      'target a string tensor',
      () => [
        v.input(),
        tf.tensor([
          ['a', 'b', 'c'],
          ['d', 'e', 'f'],
        ]),
      ],
      'target',
      'dtype string',
    ),
    c('options null', () => [v.input(), v.target(), null], 'options', 'an object of named options', 'got null'),
    c(
      "options the string 'sum' (a reduction in the options' place)",
      () => [v.input(), v.target(), 'sum'],
      'options',
      'got the string "sum"',
    ),
    c('options a number', () => [v.input(), v.target(), 0.1], 'options', 'got the number 0.1'),
    c('options an array', () => [v.input(), v.target(), [1, 2, 3]], 'options', 'got an array of length 3'),
    c(
      "options a tensor (a weight in the options' place)",
      () => [v.input(), v.target(), v.weight()],
      'options',
      /got an object of type \w+/,
    ),
    c('options a function', () => [v.input(), v.target(), () => 'mean'], 'options', 'got a function'),
    c(
      'an unknown option (PyTorch spelling)',
      () => [v.input(), v.target(), { pos_weight: 2 }],
      'options.pos_weight',
      'one of the known options',
      'an unknown option',
    ),
    c("PyTorch's deprecated option 'reduce'", () => [v.input(), v.target(), { reduce: false }], 'options.reduce', 'an unknown option'),
    c(
      'an unknown reduction',
      () => [v.input(), v.target(), { reduction: 'avg' }],
      'options.reduction',
      "one of 'mean', 'sum', 'none'",
      'got "avg"',
    ),
    c(
      "PyTorch's deprecated reduction 'elementwise_mean'",
      () => [v.input(), v.target(), { reduction: 'elementwise_mean' }],
      'options.reduction',
      'got "elementwise_mean"',
    ),
    c("a reduction in another case ('Mean')", () => [v.input(), v.target(), { reduction: 'Mean' }], 'options.reduction', 'got "Mean"'),
    c('reduction null', () => [v.input(), v.target(), { reduction: null }], 'options.reduction', 'got null'),
    c('weight null', () => [v.input(), v.target(), { weight: null }], 'options.weight', 'got null'),
    c('weight a string', () => [v.input(), v.target(), { weight: 'balanced' }], 'options.weight', 'got the string "balanced"'),
    c(
      'weight an int32 tensor',
      () => [v.input(), v.target(), { weight: tf.tensor1d([1, 2, 1], 'int32') }],
      'options.weight',
      'a float32 tensor',
      'dtype int32, shape [3]',
    ),
    c('weight a disposed tensor', () => [v.input(), v.target(), { weight: disposed(v.weight) }], 'options.weight', 'got a disposed tensor'),
    c(
      'weight a ragged array',
      () => [v.input(), v.target(), { weight: [[1, 2, 3], [1]] }],
      'options.weight',
      'a row of length 1 at position [1]',
    ),
    c('weight of the wrong length', () => [v.input(), v.target(), { weight: [1, 2] }], 'options.weight', 'shape [2]'),
  ];
}

function bceCases(loss: 'binaryCrossEntropy' | 'binaryCrossEntropyWithLogits'): BadCase[] {
  const v = VALID[loss];
  const c = (what: string, args: () => unknown[], argument: string, ...fragments: Array<string | RegExp>): BadCase => ({
    what,
    loss,
    args,
    argument,
    fragments,
  });
  return [
    c(
      'target [N] against input [N, 1] (PyTorch refuses to broadcast)',
      () => [tf.fill([2, 1], 0.5), tf.tensor1d([1, 0])],
      'target',
      "of the input's shape [2, 1] (never broadcast, as in PyTorch)",
      'got shape [2]',
    ),
    c('target [N, 1] against input [N]', () => [tf.tensor1d([0.5, 0.5]), tf.tensor2d([[1], [0]])], 'target', '[2]', 'got shape [2, 1]'),
    c('target a scalar against input [N]', () => [tf.tensor1d([0.5, 0.5]), 1], 'target', '[2]', 'got shape []'),
    c('target transposed', () => [v.input(), tf.tidy(() => v.target().transpose())], 'target', '[2, 3]', 'got shape [3, 2]'),
    c(
      'target an int32 tensor (labels not converted to float)',
      () => [
        v.input(),
        tf.tensor2d(
          [
            [1, 0, 1],
            [0, 1, 0],
          ],
          [2, 3],
          'int32',
        ),
      ],
      'target',
      'a float32 tensor',
      'dtype int32',
    ),
    c(
      'target a boolean tensor',
      () => [
        v.input(),
        tf.tensor2d(
          [
            [1, 0, 1],
            [0, 1, 0],
          ],
          [2, 3],
          'bool',
        ),
      ],
      'target',
      'dtype bool',
    ),
    c(
      'weight that does not broadcast ([2] against [2, 3])',
      () => [v.input(), v.target(), { weight: [1, 2] }],
      'options.weight',
      'broadcasts to the input shape [2, 3]',
      'got shape [2]',
    ),
    c(
      'weight of a higher rank than the input',
      () => [v.input(), v.target(), { weight: tf.ones([1, 2, 3]) }],
      'options.weight',
      'broadcasts to the input shape [2, 3]',
      'got shape [1, 2, 3]',
    ),
    c(
      'labelSmoothing (PyTorch has none for BCE)',
      () => [v.input(), v.target(), { labelSmoothing: 0.1 }],
      'options.labelSmoothing',
      'an unknown option',
    ),
    c(
      'ignoreIndex (PyTorch has none for BCE)',
      () => [v.input(), v.target(), { ignoreIndex: -1 }],
      'options.ignoreIndex',
      'an unknown option',
    ),
  ];
}

const CASES: BadCase[] = [
  ...(Object.keys(LOSSES) as LossName[]).flatMap(commonCases),
  ...bceCases('binaryCrossEntropy'),
  ...bceCases('binaryCrossEntropyWithLogits'),
  ...((): BadCase[] => {
    const loss = 'binaryCrossEntropy';
    const v = VALID[loss];
    const c = (what: string, args: () => unknown[], argument: string, ...fragments: Array<string | RegExp>): BadCase => ({
      what,
      loss,
      args,
      argument,
      fragments,
    });
    return [
      c(
        'a probability above 1',
        () => [
          [
            [0.5, 0.2],
            [1.5, 0],
          ],
          [
            [0, 1],
            [1, 0],
          ],
        ],
        'input',
        'probabilities in [0, 1]',
        'got 1.5 at position [1, 0]',
      ),
      c(
        'a negative probability',
        () => [
          [0.5, -0.25],
          [0, 1],
        ],
        'input',
        'probabilities in [0, 1]',
        'got -0.25 at position [1]',
      ),
      c(
        'a NaN probability (PyTorch rejects it too)',
        () => [
          [0.5, 0.5, NaN],
          [0, 1, 1],
        ],
        'input',
        'got NaN at position [2]',
      ),
      c('an infinite probability', () => [[Infinity], [1]], 'input', 'got Infinity at position [0]'),
      c(
        'logits given as probabilities',
        () => [
          tf.tensor2d([
            [0.3, 2.5],
            [-1, 0.4],
          ]),
          tf.tensor2d([
            [0, 1],
            [1, 0],
          ]),
        ],
        'input',
        'got 2.5 at position [0, 1]',
      ),
      c(
        'posWeight (BCE with logits only)',
        () => [v.input(), v.target(), { posWeight: [2, 1, 1] }],
        'options.posWeight',
        'an unknown option',
      ),
    ];
  })(),
  ...((): BadCase[] => {
    const loss = 'binaryCrossEntropyWithLogits';
    const v = VALID[loss];
    const c = (what: string, args: () => unknown[], argument: string, ...fragments: Array<string | RegExp>): BadCase => ({
      what,
      loss,
      args,
      argument,
      fragments,
    });
    return [
      c(
        'posWeight that does not broadcast ([2] against [2, 3])',
        () => [v.input(), v.target(), { posWeight: [1, 2] }],
        'options.posWeight',
        'broadcasts to the input shape [2, 3]',
        'got shape [2]',
      ),
      c(
        'posWeight of a higher rank than the input',
        () => [[1, 2, 3], [0, 1, 0], { posWeight: [[1, 1, 1]] }],
        'options.posWeight',
        'got shape [1, 3]',
      ),
      c(
        'posWeight [C, 1] against [N, C] (channels-first broadcast on the wrong axis)',
        () => [v.input(), v.target(), { posWeight: tf.ones([3, 1]) }],
        'options.posWeight',
        'got shape [3, 1]',
      ),
      c(
        'posWeight an int32 tensor',
        () => [v.input(), v.target(), { posWeight: tf.tensor1d([1, 2, 3], 'int32') }],
        'options.posWeight',
        'a float32 tensor',
        'dtype int32',
      ),
      c('posWeight null', () => [v.input(), v.target(), { posWeight: null }], 'options.posWeight', 'got null'),
      c('posWeight a string', () => [v.input(), v.target(), { posWeight: 'auto' }], 'options.posWeight', 'got the string "auto"'),
    ];
  })(),
  ...(['crossEntropy', 'nllLoss'] as const).flatMap((loss): BadCase[] => {
    const v = VALID[loss];
    const c = (what: string, args: () => unknown[], argument: string, ...fragments: Array<string | RegExp>): BadCase => ({
      what,
      loss,
      args,
      argument,
      fragments,
    });
    const indices = (values: number[]) => tf.tensor1d(values);
    return [
      c(
        'target [N, 1] against input [N, C]',
        () => [v.input(), tf.tensor2d([[0], [2]], [2, 1], 'int32')],
        'target',
        'class indices of shape [2]',
        'got shape [2, 1]',
      ),
      c(
        'target of the wrong batch size',
        () => [v.input(), tf.tensor1d([0, 1, 2], 'int32')],
        'target',
        'class indices of shape [2]',
        'got shape [3]',
      ),
      c(
        'target [N, d] against input [N, C, d] given as [N, d, C] (channels-last without classAxis)',
        () => [tf.zeros([2, 5, 3]), tf.zeros([2, 5], 'int32')],
        'target',
        'class indices of shape [2, 3]',
        'got shape [2, 5]',
      ),
      c(
        'target of channels-first shape against channels-last input (classAxis -1)',
        () => [tf.zeros([2, 5, 3]), tf.zeros([2, 3], 'int32'), { classAxis: -1 }],
        'target',
        'class indices of shape [2, 5]',
        'class axis 2',
        'got shape [2, 3]',
      ),
      c(
        'a class index equal to the number of classes',
        () => [v.input(), indices([0, 3])],
        'target',
        'class indices in [0, 3) or ignoreIndex -100',
        'got 3 (out of range) at position [1]',
      ),
      c(
        'a class index of -1 (not the ignoreIndex)',
        () => [v.input(), indices([-1, 0])],
        'target',
        'got -1 (out of range) at position [0]',
      ),
      c(
        'a class index of -100 with another ignoreIndex',
        () => [v.input(), indices([-100, 0]), { ignoreIndex: -1 }],
        'target',
        'or ignoreIndex -1',
        'got -100 (out of range) at position [0]',
      ),
      c(
        'a non-integer class index in a float target',
        () => [v.input(), indices([0, 1.5])],
        'target',
        'got 1.5 (not an integer) at position [1]',
      ),
      c('a NaN class index', () => [v.input(), indices([NaN, 1])], 'target', 'got NaN (not an integer) at position [0]'),
      c('an infinite class index', () => [v.input(), indices([0, Infinity])], 'target', 'got Infinity (not an integer) at position [1]'),
      c('a class index of 1e10', () => [v.input(), indices([1e10, 0])], 'target', 'got 10000000000 (out of range) at position [0]'),
      c(
        'a bad class index deep in a K-dimensional target',
        () => [
          tf.zeros([2, 3, 2, 2]),
          tf.tensor3d(
            [
              [
                [0, 1],
                [2, 0],
              ],
              [
                [1, 1],
                [7, 0],
              ],
            ],
            [2, 2, 2],
            'int32',
          ),
        ],
        'target',
        'got 7 (out of range) at position [1, 1, 0]',
      ),
      c('a boolean target', () => [v.input(), tf.tensor1d([true, false], 'bool')], 'target', 'an int32 or float32 tensor', 'dtype bool'),
      c('ignoreIndex not an integer', () => [v.input(), v.target(), { ignoreIndex: 1.5 }], 'options.ignoreIndex', 'an integer', 'got 1.5'),
      c('ignoreIndex NaN', () => [v.input(), v.target(), { ignoreIndex: NaN }], 'options.ignoreIndex', 'got NaN'),
      c('ignoreIndex a string', () => [v.input(), v.target(), { ignoreIndex: '-100' }], 'options.ignoreIndex', 'got "-100"'),
      c(
        'classAxis beyond the rank',
        () => [v.input(), v.target(), { classAxis: 2 }],
        'options.classAxis',
        'an axis of the input of shape [2, 3] (from -2 to 1)',
        'got 2',
      ),
      c('classAxis below minus the rank', () => [v.input(), v.target(), { classAxis: -3 }], 'options.classAxis', 'got -3'),
      c('classAxis not an integer', () => [v.input(), v.target(), { classAxis: 1.5 }], 'options.classAxis', 'an integer', 'got 1.5'),
      c('classAxis a string', () => [v.input(), v.target(), { classAxis: 'last' }], 'options.classAxis', 'got "last"'),
      c(
        'classAxis 2 for an unbatched input [C]',
        () => [tf.tensor1d([1, 2, 3]), 1, { classAxis: 2 }],
        'options.classAxis',
        '-1, 0 or 1 for an unbatched input [C] of shape [3]',
        'got 2',
      ),
      c(
        'zero classes',
        () => [tf.zeros([2, 0]), tf.zeros([2], 'int32')],
        'input',
        'a tensor with at least one class along its class axis (axis 1)',
        'got shape [2, 0]',
      ),
      c('an empty array as input (no classes)', () => [[], 0], 'input', 'at least one class', 'got shape [0]'),
      c('a scalar input', () => [tf.scalar(1.5), 0], 'input', '[C], [N, C] or [N, C, d1, ..., dk]', 'got a scalar'),
      c(
        'weight [1, C] instead of [C]',
        () => [v.input(), v.target(), { weight: [[1, 2, 3]] }],
        'options.weight',
        'a tensor of shape [3] (one weight per class)',
        'got shape [1, 3]',
      ),
      c(
        'weight with one weight too many',
        () => [v.input(), v.target(), { weight: [1, 2, 3, 4] }],
        'options.weight',
        'shape [3]',
        'got shape [4]',
      ),
      c('posWeight (BCE with logits only)', () => [v.input(), v.target(), { posWeight: 2 }], 'options.posWeight', 'an unknown option'),
    ];
  }),
  ...((): BadCase[] => {
    const loss = 'crossEntropy';
    const v = VALID[loss];
    const c = (what: string, args: () => unknown[], argument: string, ...fragments: Array<string | RegExp>): BadCase => ({
      what,
      loss,
      args,
      argument,
      fragments,
    });
    const probabilities = () =>
      tf.tensor2d([
        [0.2, 0.3, 0.5],
        [1, 0, 0],
      ]);
    return [
      c(
        'int32 class probabilities (one-hot labels not converted to float)',
        () => [
          v.input(),
          tf.tensor2d(
            [
              [1, 0, 0],
              [0, 0, 1],
            ],
            [2, 3],
            'int32',
          ),
        ],
        'target',
        'class probabilities (float32) of shape [2, 3]',
        'got an int32 tensor (read as class indices) of shape [2, 3]',
      ),
      c(
        'ignoreIndex >= 0 with class-probability targets (PyTorch refuses it)',
        () => [v.input(), probabilities(), { ignoreIndex: 0 }],
        'options.ignoreIndex',
        'not supported with class-probability targets',
        'got 0',
      ),
      c(
        'labelSmoothing above 1',
        () => [v.input(), v.target(), { labelSmoothing: 1.5 }],
        'options.labelSmoothing',
        'a number in [0, 1]',
        'got 1.5',
      ),
      c('negative labelSmoothing', () => [v.input(), v.target(), { labelSmoothing: -0.1 }], 'options.labelSmoothing', 'got -0.1'),
      c(
        'labelSmoothing NaN (PyTorch accepts it silently)',
        () => [v.input(), v.target(), { labelSmoothing: NaN }],
        'options.labelSmoothing',
        'got NaN',
      ),
      c('labelSmoothing a string', () => [v.input(), v.target(), { labelSmoothing: '0.1' }], 'options.labelSmoothing', 'got "0.1"'),
      c('labelSmoothing given as a percentage', () => [v.input(), v.target(), { labelSmoothing: 10 }], 'options.labelSmoothing', 'got 10'),
    ];
  })(),
  ...((): BadCase[] => {
    const loss = 'nllLoss';
    const v = VALID[loss];
    const c = (what: string, args: () => unknown[], argument: string, ...fragments: Array<string | RegExp>): BadCase => ({
      what,
      loss,
      args,
      argument,
      fragments,
    });
    return [
      c(
        'class-probability targets (nll_loss takes class indices only)',
        () => [
          v.input(),
          tf.tensor2d([
            [0.2, 0.3, 0.5],
            [1, 0, 0],
          ]),
        ],
        'target',
        'class indices of shape [2]',
        'got shape [2, 3]',
      ),
      c(
        'labelSmoothing (crossEntropy only)',
        () => [v.input(), v.target(), { labelSmoothing: 0.1 }],
        'options.labelSmoothing',
        'an unknown option',
      ),
    ];
  })(),
  // The torch.nn-style modules check their options when called, under the functional loss's name.
  {
    what: 'CrossEntropyLoss with an unknown reduction',
    loss: 'crossEntropy',
    viaModule: true,
    args: () => [VALID.crossEntropy.input(), VALID.crossEntropy.target(), { reduction: 'avg' }],
    argument: 'options.reduction',
    fragments: ['got "avg"'],
  },
  {
    what: 'NLLLoss with a class index out of range',
    loss: 'nllLoss',
    viaModule: true,
    args: () => [VALID.nllLoss.input(), tf.tensor1d([0, 5], 'int32'), {}],
    argument: 'target',
    fragments: ['got 5 (out of range) at position [1]'],
  },
  {
    what: 'BCELoss constructed with null options',
    loss: 'binaryCrossEntropy',
    viaModule: true,
    args: () => [VALID.binaryCrossEntropy.input(), VALID.binaryCrossEntropy.target(), null],
    argument: 'options',
    fragments: ['got null'],
  },
  {
    what: 'BCEWithLogitsLoss with a posWeight that does not broadcast',
    loss: 'binaryCrossEntropyWithLogits',
    viaModule: true,
    args: () => [VALID.binaryCrossEntropyWithLogits.input(), VALID.binaryCrossEntropyWithLogits.target(), { posWeight: [1, 2] }],
    argument: 'options.posWeight',
    fragments: ['got shape [2]'],
  },
];

const MODULES: Record<LossName, new (options: never) => { forward(input: unknown, target: unknown): tf.Tensor }> = {
  binaryCrossEntropy: BCELoss as never,
  binaryCrossEntropyWithLogits: BCEWithLogitsLoss as never,
  crossEntropy: CrossEntropyLoss as never,
  nllLoss: NLLLoss as never,
};

/** The number of cases, printed in the test names so that the report can quote it. */
export const BATTERY_SIZE = CASES.length;

describeEachBackend(`bad-input battery (${CASES.length} cases)`, () => {
  it.each(CASES.map((badCase) => [`${badCase.viaModule ? 'module ' : ''}${badCase.loss}: ${badCase.what}`, badCase] as const))(
    '%s: LossInputError naming the argument, expected and actual; nothing leaks',
    (_, badCase) => {
      const args = badCase.args();
      const [input, target, options] = args;
      const call = badCase.viaModule
        ? () => new MODULES[badCase.loss](options as never).forward(input, target)
        : () => LOSSES[badCase.loss](...(args as [unknown, unknown, unknown?]));
      const error = expectInputError(call, `${badCase.loss}: argument '${badCase.argument}' must be `, ...badCase.fragments);
      expect(error.functionName).toBe(badCase.loss);
      expect(error.argument).toBe(badCase.argument);
      tf.dispose(args.filter((a): a is tf.Tensor => a instanceof tf.Tensor));
      const optionTensors =
        options !== null && typeof options === 'object' ? Object.values(options).filter((o): o is tf.Tensor => o instanceof tf.Tensor) : [];
      tf.dispose(optionTensors);
    },
  );

  it('rejects an unknown validation mode, listing the valid ones', () => {
    expectInputError(
      () => setValidation('fast' as never),
      "setValidation: argument 'mode' must be one of 'auto', 'sync', 'device'",
      'got the string "fast"',
    );
    expectInputError(() => setValidation(undefined as never), 'got undefined');
  });
});
