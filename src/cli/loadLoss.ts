import { resolve } from 'path';
import { pathToFileURL } from 'url';
import type { LossFunction } from '../check/equivalence';

/**
 * `import()` that TypeScript's CommonJS output leaves alone (it would turn a plain `import()` into
 * `require`, which cannot load an ES module).
 */
const importModule = new Function('url', 'return import(url)') as (url: string) => Promise<Record<string, unknown>>;

/** A CommonJS module through `require` (its `module.exports` as the default export), an ES module through `import()`. */
async function loadModule(path: string): Promise<Record<string, unknown>> {
  try {
    const exports: unknown = require(path);
    return typeof exports === 'function' ? { default: exports } : (exports as Record<string, unknown>);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw error;
    return importModule(pathToFileURL(path).href);
  }
}

/**
 * The loss a user's module exports: the export named `exportName`; else the default export (or
 * `module.exports` itself) when it is a function; else an export named `loss`; else its only function.
 */
export async function loadLoss(modulePath: string, exportName?: string): Promise<{ name: string; loss: LossFunction }> {
  const exports = await loadModule(resolve(modulePath));
  const functions = Object.entries(exports).filter(([, value]) => typeof value === 'function');
  const pick = (name: string) => functions.find(([key]) => key === name);
  const chosen =
    exportName !== undefined ? pick(exportName) : (pick('default') ?? pick('loss') ?? (functions.length === 1 ? functions[0] : undefined));
  if (chosen === undefined) {
    const found = functions.map(([key]) => key).join(', ') || 'no functions';
    const wanted =
      exportName !== undefined
        ? `an export named '${exportName}'`
        : "a default export, an export named 'loss', or a single exported function";
    throw new Error(`${modulePath} must export the loss as ${wanted}; it exports ${found}`);
  }
  return { name: chosen[0], loss: chosen[1] as LossFunction };
}
