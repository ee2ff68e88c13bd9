import { resolve } from 'path';
import { pathToFileURL } from 'url';
import type { CaseKind } from '../check/cases';
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
    // `module.exports = loss` (with perhaps `module.exports.kinds = [...]`): the function is the default export.
    return typeof exports === 'function' ? { ...exports, default: exports } : (exports as Record<string, unknown>);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_REQUIRE_ESM') throw error;
    return importModule(pathToFileURL(path).href);
  }
}

const ALL_KINDS: readonly CaseKind[] = ['binary', 'multiclass'];

/** The kinds a module declares with `export const kinds = ...`: 'binary', 'multiclass', 'all', or a list of the first two. */
function declaredKinds(modulePath: string, declared: unknown): CaseKind[] | undefined {
  if (declared === undefined) return undefined;
  if (declared === 'all') return [...ALL_KINDS];
  const list: unknown[] = Array.isArray(declared) ? declared : [declared];
  if (list.length === 0 || list.some((kind) => !ALL_KINDS.includes(kind as CaseKind))) {
    throw new Error(
      `${modulePath}: its 'kinds' export must be 'binary', 'multiclass', 'all' or a non-empty list of 'binary' and 'multiclass', got ${JSON.stringify(declared) ?? String(declared)}`,
    );
  }
  return [...new Set(list as CaseKind[])];
}

/**
 * The loss a user's module exports: the export named `exportName`; else the default export (or
 * `module.exports` itself) when it is a function; else an export named `loss`; else its only function.
 * With it, the input kinds the module declares in an export named `kinds`, if it has one.
 */
export async function loadLoss(
  modulePath: string,
  exportName?: string,
): Promise<{ name: string; loss: LossFunction; kinds: CaseKind[] | undefined }> {
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
  return { name: chosen[0], loss: chosen[1] as LossFunction, kinds: declaredKinds(modulePath, exports.kinds) };
}
