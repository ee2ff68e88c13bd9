// The package's entry points, shared by the build, the consumer smoke test and the API docs.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * subpath: the key of package.json's `exports`; dir and file: its source, `src/<dir>/<file>.ts` (file
 * `index` unless given); browser: the entry must bundle for the browser with no Node built-in.
 */
export const ENTRIES = [
  { subpath: '.', dir: '', browser: true },
  { subpath: './layers', dir: 'layers', browser: true },
  { subpath: './jest', dir: 'jest', browser: false },
  { subpath: './jest/setup', dir: 'jest', file: 'setup', browser: false },
];

/** The entry's file in src/ and in dist/ without its extension, e.g. `jest/setup` or `index`. */
export function entryPath(entry) {
  return join(entry.dir, entry.file ?? 'index');
}

export function entrySource(entry) {
  return join(ROOT, 'src', `${entryPath(entry)}.ts`);
}

/** The entries whose source exists; the others have not landed yet and are reported as skipped. */
export function landedEntries() {
  return ENTRIES.filter((entry) => existsSync(entrySource(entry)));
}

/**
 * The names each entry exports, read from its TypeScript source: every export, or with `valuesOnly`
 * only those that exist at runtime (no interfaces, type aliases or `export type`).
 * @returns {Map<string, string[]>} entry subpath -> sorted names
 */
export function entryExports(entries, { valuesOnly = false } = {}) {
  const ts = createRequire(import.meta.url)('typescript');
  const program = ts.createProgram(entries.map(entrySource), { noEmit: true, skipLibCheck: true, types: [], strict: true });
  const checker = program.getTypeChecker();
  const typeOnly = (declaration) =>
    (ts.isExportSpecifier(declaration) && (declaration.isTypeOnly || declaration.parent.parent.isTypeOnly)) ||
    (ts.isExportDeclaration(declaration) && declaration.isTypeOnly);
  const isValue = (symbol) =>
    !(symbol.declarations ?? []).some(typeOnly) &&
    ((symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol).flags & ts.SymbolFlags.Value) !== 0;
  return new Map(
    entries.map((entry) => {
      const module = checker.getSymbolAtLocation(program.getSourceFile(entrySource(entry)));
      const names = checker
        .getExportsOfModule(module)
        .filter((symbol) => !valuesOnly || isValue(symbol))
        .map((symbol) => symbol.name);
      return [entry.subpath, names.sort()];
    }),
  );
}
