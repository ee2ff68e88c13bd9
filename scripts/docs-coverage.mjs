#!/usr/bin/env node
// Part of `npm run docs`, after TypeDoc. For every export of every entry point (values and types, read
// from the TypeScript sources):
// - it has a page in docs/api (TypeDoc's JSON, docs/api/api.json);
// - a value (function, class, constant) has a code example in its doc comment (run by test:docs);
// - a guide (README.md or docs/*.md) names it.
// And no user-facing text (README.md, docs/, doc comments in src/) refers to internal work items, and
// every relative link of the guides leads to a file, and to a heading of it, that exists.
// Exports without a doc comment are listed; they are in the reference, with only their signature.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
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

const GUIDES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];
const guideTexts = new Map(GUIDES.map((file) => [file, readFileSync(join(ROOT, file), 'utf8')]));
const guideText = [...guideTexts.values()].join('\n');
const values = new Map([...entryExports(landed, { valuesOnly: true })].map(([subpath, names]) => [subpath, new Set(names)]));

/** Every comment of the reflection and of its signatures. */
const commentsOf = (reflection) =>
  [reflection.comment, ...(reflection.signatures ?? []).map((signature) => signature.comment)].filter(Boolean);
const hasExample = (reflection) =>
  commentsOf(reflection).some((comment) =>
    [...comment.summary, ...(comment.blockTags ?? []).flatMap((tag) => tag.content)].some(
      (part) => part.kind === 'code' && /^```(js|ts)/.test(part.text),
    ),
  );
const hasComment = (reflection) =>
  Boolean(reflection.comment?.summary?.length || reflection.signatures?.some((signature) => signature.comment?.summary?.length));
let missing = 0;
let problems = 0;
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
  const withoutExample = names.filter((name) => values.get(subpath).has(name) && documented.has(name) && !hasExample(documented.get(name)));
  const unguided = names.filter((name) => !new RegExp(`\\b${name}\\b`).test(guideText));
  if (withoutExample.length) console.log(`      MISSING an example in the doc comment: ${withoutExample.join(', ')}`);
  if (unguided.length) console.log(`      MISSING from every guide (README.md, docs/*.md): ${unguided.join(', ')}`);
  problems += withoutExample.length + unguided.length;
}
for (const entry of ENTRIES.filter((entry) => !landed.includes(entry)))
  console.log(`docs: '${entry.subpath}' skipped (src/${entry.dir}/index.ts has not landed)`);

// Work items are the project's history (CHANGELOG.md), not something a reader can look up.
const WORK_ITEM = /\b(?:issues?|work items?|tickets?|PRs?)\s*#?\d+|(?<![\w&/])#\d+\b/gi;
const sources = (dir) =>
  readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath ?? entry.path, entry.name)));
const docComments = (text) => (text.match(/\/\*\*[\s\S]*?\*\//g) ?? []).join('\n');
const workItems = [...guideTexts, ...sources('src').map((file) => [file, docComments(readFileSync(join(ROOT, file), 'utf8'))])].flatMap(
  ([file, text]) => (text.match(WORK_ITEM) ?? []).map((reference) => `${file}: '${reference}'`),
);
for (const reference of workItems) console.log(`docs: a work-item reference in user-facing text: ${reference}`);

// Links between the guides, the README and the API reference: the file exists, and so does the heading.
const slug = (heading) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
const withoutCodeBlocks = (text) => text.replace(/^```[\s\S]*?^```/gm, '');
/** The heading anchors of each Markdown file linked to, read once per file. */
const anchorsByFile = new Map();
const anchorsOf = (file) => {
  if (anchorsByFile.has(file)) return anchorsByFile.get(file);
  const anchors = new Set();
  const seen = new Map();
  const text = withoutCodeBlocks(readFileSync(file, 'utf8'));
  for (const [, heading] of text.matchAll(/^#{1,6} (.*)$/gm)) {
    const base = slug(heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1'));
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  anchorsByFile.set(file, anchors);
  return anchors;
};
const brokenLinks = GUIDES.flatMap((guide) => {
  const text = withoutCodeBlocks(guideTexts.get(guide));
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1])
    .filter((target) => !/^[a-z]+:/.test(target))
    .filter((target) => {
      const [path, anchor] = target.split('#');
      const file = path === '' ? join(ROOT, guide) : join(ROOT, dirname(guide), path);
      if (!existsSync(file)) return true;
      return anchor !== undefined && file.endsWith('.md') && !anchorsOf(file).has(anchor);
    })
    .map((target) => `${guide}: (${target})`);
});
for (const link of brokenLinks) console.log(`docs: a broken link: ${link}`);

if (brokenLinks.length) console.error(`docs: ${brokenLinks.length} broken link(s) in the guides`);
if (missing) console.error(`docs: ${missing} export(s) missing from the API reference`);
if (problems) console.error(`docs: ${problems} export(s) without a doc-comment example or a guide that names them`);
if (workItems.length) console.error(`docs: ${workItems.length} work-item reference(s) in user-facing text`);
if (missing || problems || workItems.length || brokenLinks.length) process.exit(1);
