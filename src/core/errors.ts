/**
 * The one error type of this library: thrown for every invalid argument, before any work is done.
 * The message names the function, the argument, what was expected and what was given, e.g.
 *
 *     crossEntropy: argument 'target' must be class indices in [0, 3) or ignoreIndex -100,
 *     got 7 (out of range) at position [2]
 *
 * ```js
 * try {
 *   crossEntropy(tf.zeros([3, 3]), [0, 2, 7]);
 * } catch (e) {
 *   console.log(e instanceof LossInputError, e.functionName, e.argument); // => true crossEntropy target
 *   console.log(e.actual); // => 7 (out of range) at position [2]
 * }
 * ```
 */
export class LossInputError extends Error {
  constructor(
    /** The public function that rejected its input, e.g. `crossEntropy`. */
    readonly functionName: string,
    /** The argument at fault, e.g. `target` or `options.weight`. */
    readonly argument: string,
    /** What the argument must be. */
    readonly expected: string,
    /** What was given: a shape, a dtype, a value and its position. */
    readonly actual: string,
  ) {
    super(`${functionName}: argument '${argument}' must be ${expected}, got ${actual}`);
    this.name = 'LossInputError';
  }
}
