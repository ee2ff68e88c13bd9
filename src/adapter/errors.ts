import { LossInputError } from '../core/errors';

/**
 * Runs `body`, which calls lower-level losses, and reports their LossInputErrors as the caller's own:
 * under `functionName`, with arguments renamed by `argumentNames` (e.g. crossEntropy's `input` is the
 * caller's `logits`, or a layers loss's `yPred`). The expected and actual parts are kept as they are.
 */
export function asCallerErrors<T>(functionName: string, argumentNames: Readonly<Record<string, string>>, body: () => T): T {
  try {
    return body();
  } catch (e) {
    if (!(e instanceof LossInputError)) throw e;
    throw new LossInputError(functionName, argumentNames[e.argument] ?? e.argument, e.expected, e.actual);
  }
}
