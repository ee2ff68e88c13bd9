#!/usr/bin/env node
// Part of `npm run docs`, after TypeDoc: every export of every entry point (values and types, read
// from the TypeScript sources) must have a page in docs/api (TypeDoc's JSON, docs/api/api.json).
// Exports without a doc comment are listed; they are in the reference, with only their signature.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENTRIES, ROOT, entryExports, landedEntries } from './entries.mjs';

const MODULE_KIND = 2; // TypeDoc's ReflectionKind.Module

const reference = join(ROOT, 'docs/api/api.json');
if (!existsSync(reference)) {
  console.error('docs: docs/api/api.json is missing: run TypeDoc first (npm run docs)');
  process.exit(1);
}
const project = JSON.parse(readFileSync(reference, 'utf8'));
const landed = landedEntries();
// With a single entry point TypeDoc puts its exports at the top; with several, one module per entry.
const modules =
  project.children?.every((child) => child.kind === MODULE_KIND) && landed.length > 1
    ? new Map(project.children.map((module) => [module.name, module.children ?? []]))
    : new Map([['tfjs-loss-adapter', project.children ?? []]]);

const hasComment = (reflection) =>
  Boolean(reflection.comment?.summary?.length || reflection.signatures?.some((signature) => signature.comment?.summary?.length));
let missing = 0;
for (const [subpath, names] of entryExports(landed)) {
  const moduleName = `tfjs-loss-adapter${subpath.slice(1)}`;
  const documented = new Map((modules.get(moduleName) ?? []).map((reflection) => [reflection.name, reflection]));
  const absent = names.filter((name) => !documented.has(name));
  const bare = names.filter((name) => documented.has(name) && !hasComment(documented.get(name)));
  missing += absent.length;
  console.log(
    `docs: '${moduleName}': ${names.length - absent.length} of ${names.length} exports in docs/api${absent.length ? `; MISSING: ${absent.join(', ')}` : ''}`,
  );
  if (bare.length) console.log(`      without a doc comment: ${bare.join(', ')}`);
}
for (const entry of ENTRIES.filter((entry) => !landed.includes(entry)))
  console.log(`docs: '${entry.subpath}' skipped (src/${entry.dir}/index.ts has not landed)`);
if (missing) {
  console.error(`docs: ${missing} export(s) missing from the API reference`);
  process.exit(1);
}
