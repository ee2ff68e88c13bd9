#!/usr/bin/env node
// `npm run build`: the published dist/ tree, from a clean slate.
//
//   dist/cjs/   tsc (tsconfig.build.json): CommonJS .js + .d.ts for every file of src/, the CLI included.
//   dist/esm/   esbuild: one ES module (.mjs) per file of src/ except the Node-only CLI, relative
//               imports rewritten to the .mjs files (Node's ESM loader wants full paths), plus an
//               .d.mts for each entry that re-exports the CommonJS declarations, so TypeScript
//               sees ES-module types for the `import` condition (node16, nodenext, bundler).
//
// Then it checks that the browser entries (`.` and `./layers`) bundle for the browser platform
// without a single Node built-in; one that imports `fs`, `node:util`... fails the build.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import * as esbuild from 'esbuild';
import { ENTRIES, ROOT as root, entryPath, entrySource, landedEntries } from './entries.mjs';

const src = join(root, 'src');
const dist = join(root, 'dist');
const require = createRequire(import.meta.url);

/** Directories of src/ that are Node-only and stay out of the ES module build. */
const NODE_ONLY = ['cli'];

function sourceFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return NODE_ONLY.includes(relative(src, path)) ? [] : sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** `./foo` or `../bar` from `importer` -> the .ts file it names (`foo.ts` or `foo/index.ts`). */
function resolveSource(specifier, importer) {
  const base = resolve(dirname(importer), specifier);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts')]) if (existsSync(candidate)) return candidate;
  throw new Error(`cannot resolve '${specifier}' from ${relative(root, importer)}`);
}

/** Keeps every relative import external, rewritten to the sibling .mjs output, so each file stays its own module. */
const relativeImportsToMjs = {
  name: 'relative-imports-to-mjs',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, ({ path: specifier, importer, kind }) => {
      if (kind === 'entry-point') return undefined;
      const target = resolveSource(specifier, importer);
      let rewritten = relative(dirname(importer), target).split(sep).join('/').replace(/\.ts$/, '.mjs');
      if (!rewritten.startsWith('.')) rewritten = `./${rewritten}`;
      return { path: rewritten, external: true };
    });
  },
};

/** Fails the bundle on any import of a Node built-in (`fs`, `node:fs`, `fs/promises`...). */
const rejectNodeBuiltins = {
  name: 'reject-node-builtins',
  setup(build) {
    const builtins = new Set(builtinModules);
    build.onResolve({ filter: /.*/ }, ({ path: specifier, importer }) => {
      const name = specifier.replace(/^node:/, '');
      if (specifier.startsWith('node:') || builtins.has(name) || builtins.has(name.split('/')[0])) {
        return {
          errors: [{ text: `Node built-in '${specifier}' imported by ${relative(root, importer)}: the entry must stay browser-safe` }],
        };
      }
      return undefined;
    });
  },
};

function step(label, run) {
  const start = Date.now();
  run();
  console.log(`build: ${label} (${((Date.now() - start) / 1000).toFixed(1)} s)`);
}

async function main() {
  const entries = landedEntries();
  for (const { subpath } of ENTRIES.filter((entry) => !entries.includes(entry)))
    console.log(`build: entry '${subpath}' skipped (its source has not landed)`);
  rmSync(dist, { recursive: true, force: true });

  step('dist/cjs (tsc, CommonJS + declarations)', () =>
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' }),
  );

  const start = Date.now();
  await esbuild.build({
    entryPoints: sourceFiles(src),
    outbase: src,
    outdir: join(dist, 'esm'),
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    plugins: [relativeImportsToMjs],
    format: 'esm',
    platform: 'neutral',
    target: 'es2019',
    sourcemap: true,
    logLevel: 'warning',
  });
  for (const entry of entries) {
    const typesOut = join(dist, 'esm', `${entryPath(entry)}.d.mts`);
    mkdirSync(dirname(typesOut), { recursive: true });
    const cjsTypes = relative(dirname(typesOut), join(dist, 'cjs', `${entryPath(entry)}.js`))
      .split(sep)
      .join('/');
    writeFileSync(typesOut, `export * from '${cjsTypes}';\n`);
  }
  console.log(`build: dist/esm (esbuild, one ES module per file + a .d.mts per entry) (${((Date.now() - start) / 1000).toFixed(1)} s)`);

  for (const entry of entries.filter((entry) => entry.browser)) {
    await esbuild.build({
      entryPoints: [entrySource(entry)],
      bundle: true,
      write: false,
      platform: 'browser',
      external: ['@tensorflow/*'],
      plugins: [rejectNodeBuiltins],
      logLevel: 'error',
    });
    console.log(`build: entry '${entry.subpath}' bundles for the browser with no Node built-in`);
  }
}

main().catch((error) => {
  // tsc and esbuild have already printed their diagnostics; anything else is a bug in this script.
  if (error.status !== undefined) console.error(`build: tsc failed (exit ${error.status})`);
  else if (!error.errors?.length) console.error(error);
  process.exit(1);
});
