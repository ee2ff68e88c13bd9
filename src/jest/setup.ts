/**
 * `tfjs-loss-adapter/jest/setup`: for Jest's `setupFilesAfterEnv`. Registers the matchers of
 * `tfjs-loss-adapter/jest` with the global `expect` before every test file:
 *
 * ```js no-run
 * // jest.config.js
 * module.exports = { setupFilesAfterEnv: ['tfjs-loss-adapter/jest/setup'] };
 * ```
 *
 * Without a global `expect` (Jest's `injectGlobals: false`) it throws, rather than leave every matcher
 * undefined: register them with `expect.extend(matchers)` and the `expect` of `@jest/globals` instead.
 */
import './index';

if (typeof (globalThis as { expect?: { extend?: unknown } }).expect?.extend !== 'function') {
  throw new Error(
    "tfjs-loss-adapter/jest/setup: there is no global expect to register the matchers with (is Jest's injectGlobals false?); " +
      "call expect.extend(matchers) with the expect of '@jest/globals' and the matchers of 'tfjs-loss-adapter/jest' instead",
  );
}
