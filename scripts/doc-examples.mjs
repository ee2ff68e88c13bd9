#!/usr/bin/env node
// `npm run test:docs`: runs every code example of the documentation, so that none can go stale.
//
//   node scripts/doc-examples.mjs [file-or-dir ...]     (default: README.md, docs/, src/)
//
// What is an example: a fenced block whose info string starts with js, javascript, ts or typescript,
// in Markdown files and in the doc comments (`/** ... *\/`) of TypeScript files. The info string's
// second word says how it runs:
//   (none)   its own ES module, run with Node (ts through tsx) from the repository root on the tfjs
//            `cpu` backend; `tfjs-loss-adapter` and its subpaths resolve to the built package (dist/).
//   jest     a Jest test file; all of them run in one Jest run, with the matchers of the package.
//   no-run   shown, not run (a browser-only snippet, a configuration file). Counted in the summary.
// Every ts example, Jest ones included, is also type-checked against the package's declarations.
//
// Expected output: each line an example prints to stdout is announced, in order, by a `// => <line>`
// comment, at the end of the line that prints it or on a line of its own. The printed lines must be
// exactly the announced ones (trailing spaces aside): an example that announces nothing prints nothing.
//
// An example without an import statement gets a prelude: `tf` (@tensorflow/tfjs) and the exports of
// `tfjs-loss-adapter` and `tfjs-loss-adapter/layers` it names. It keeps doc-comment examples short;
// guides write their imports, as a reader copies them.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, extname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ENTRIES, ROOT, entryExports } from './entries.mjs';

const LANGUAGES = new Map([
  ['js', 'js'],
  ['javascript', 'js'],
  ['ts', 'ts'],
  ['typescript', 'ts'],
]);
const MODES = ['run', 'jest', 'no-run'];
const DEFAULT_SOURCES = ['README.md', 'docs', 'src'];
/**
 * Inside the package's directory, so that `tfjs-loss-adapter` resolves to the package itself (its
 * `exports`); one per run, so that runs side by side (a test of this script, say) keep apart.
 */
const WORK_DIR = join(ROOT, '.doc-examples', String(process.pid));
const EXAMPLE_TIMEOUT_MS = 180_000;
const ANNOUNCEMENT = /\/\/ => ?(.*)$/;

/**
 * The fenced code blocks of a Markdown text: `{ info, code, line }` with `line` the 1-based line of the
 * opening fence. Fences may be indented (inside a list); the block's lines lose that indentation.
 */
export function fencedBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`]*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, info] = open;
    const body = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const close = new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`).exec(lines[j]);
      if (close) break;
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j].trimStart());
    }
    blocks.push({ info: info.trim(), code: body.join('\n'), line: i + 1 });
    i = j;
  }
  return blocks;
}

/**
 * The doc comments of a TypeScript source as Markdown, each with the line it starts on: the comment's
 * ` * ` margins removed, so that its fenced blocks read as in a Markdown file.
 */
export function docComments(source) {
  const comments = [];
  const pattern = /\/\*\*([\s\S]*?)\*\//g;
  for (let match; (match = pattern.exec(source));) {
    const line = source.slice(0, match.index).split('\n').length;
    const text = match[1]
      .split('\n')
      .map((row) => row.replace(/^\s*\* ?/, ''))
      .join('\n');
    comments.push({ text, line });
  }
  return comments;
}

/** The examples of one file (Markdown, or the doc comments of TypeScript): `{ file, line, language, mode, code }`. */
export function examplesOf(file, text) {
  const documents = extname(file) === '.md' ? [{ text, line: 1 }] : docComments(text);
  const examples = [];
  for (const document of documents) {
    for (const block of fencedBlocks(document.text)) {
      const [word, mode = 'run', ...rest] = block.info.split(/\s+/);
      const language = LANGUAGES.get(word);
      if (!language) continue;
      if (!MODES.includes(mode) || rest.length > 0) {
        throw new Error(
          `${file}:${document.line + block.line - 1}: unknown example mode '${block.info}' (expected ${word} [${MODES.join('|')}])`,
        );
      }
      examples.push({ file, line: document.line + block.line - 1, language, mode, code: block.code });
    }
  }
  return examples;
}

/** The lines an example announces with `// => <line>` comments, in order. */
export function announcedOutput(code) {
  return code
    .split('\n')
    .map((line) => ANNOUNCEMENT.exec(line))
    .filter(Boolean)
    .map((match) => match[1].trimEnd());
}

/**
 * Compares what an example printed with what it announced. `null` when they agree, else a message
 * showing the first line that differs.
 */
export function outputMismatch(announced, stdout) {
  const printed = stdout
    .replace(/\n+$/, '')
    .split('\n')
    .map((line) => line.trimEnd());
  if (stdout.trim() === '') printed.length = 0;
  const length = Math.max(announced.length, printed.length);
  for (let i = 0; i < length; i++) {
    if (announced[i] !== printed[i]) {
      const show = (line) => (line === undefined ? '(nothing)' : JSON.stringify(line));
      return `output line ${i + 1}: announced ${show(announced[i])}, printed ${show(printed[i])}\n  announced:\n${indentLines(announced)}\n  printed:\n${indentLines(printed)}`;
    }
  }
  return null;
}

const indentLines = (lines) => (lines.length === 0 ? '    (nothing)' : lines.map((line) => `    ${line}`).join('\n'));

/**
 * The import lines for an example that has none: `tf`, and each export of the main entry and of
 * `/layers` that the code names (the main entry's when both export a name).
 * @param {Map<string, string[]>} exportsByEntry entry subpath -> names
 */
export function prelude(code, exportsByEntry) {
  if (/^\s*import\s/m.test(code)) return '';
  const words = new Set(code.match(/[A-Za-z_$][\w$]*/g) ?? []);
  const taken = new Set(['tf']);
  const lines = [`import * as tf from '@tensorflow/tfjs';`];
  for (const subpath of ['.', './layers']) {
    const names = (exportsByEntry.get(subpath) ?? []).filter((name) => words.has(name) && !taken.has(name));
    names.forEach((name) => taken.add(name));
    if (names.length > 0) lines.push(`import { ${names.join(', ')} } from 'tfjs-loss-adapter${subpath.slice(1)}';`);
  }
  return `${lines.join('\n')}\n`;
}

/** The Markdown and TypeScript files under the given paths (docs/api, the generated reference, excluded). */
export function sourceFiles(paths) {
  const files = [];
  const visit = (path) => {
    if (statSync(path).isDirectory()) {
      if (['api', 'node_modules', '.doc-examples'].includes(basename(path))) return;
      for (const entry of readdirSync(path).sort()) visit(join(path, entry));
    } else if (/\.(md|ts)$/.test(path) && !path.endsWith('.d.ts')) {
      files.push(path);
    }
  };
  paths.forEach((path) => visit(resolve(ROOT, path)));
  return files;
}

function slug(example, index) {
  const name = relative(ROOT, example.file).replace(/[^\w]+/g, '_');
  return `${String(index).padStart(3, '0')}_${name}_L${example.line}`;
}

function runProcess(command, args, options = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { cwd: ROOT, ...options });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), EXAMPLE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `tasks` (functions returning promises) with at most `limit` at a time, in order of the results. */
async function pooled(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

const where = (example) => `${relative(ROOT, example.file)}:${example.line}`;

async function runModule(example, file) {
  const args = example.language === 'ts' ? ['--import', 'tsx', file] : [file];
  const result = await runProcess(process.execPath, args, { env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
  if (result.code !== 0) {
    const reason = result.signal ? `killed (${result.signal}, over ${EXAMPLE_TIMEOUT_MS / 1000} s?)` : `exit ${result.code}`;
    return `${reason}\n${(result.stderr || result.stdout).trim().split('\n').slice(-15).join('\n')}`;
  }
  return outputMismatch(announcedOutput(example.code), result.stdout);
}

const JEST_MAPPER = {
  '^tfjs-loss-adapter$': '<rootDir>/dist/cjs/index.js',
  '^tfjs-loss-adapter/(layers|jest)$': '<rootDir>/dist/cjs/$1/index.js',
  '^tfjs-loss-adapter/jest/setup$': '<rootDir>/dist/cjs/jest/setup.js',
};

/** Runs every Jest example in one Jest run; a failure is reported against the example's file and line. */
async function runJest(examples) {
  if (examples.length === 0) return [];
  const config = {
    rootDir: ROOT,
    roots: [join(WORK_DIR, 'jest')],
    testMatch: ['**/*.test.ts', '**/*.test.js'],
    testEnvironment: 'node',
    transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
    moduleNameMapper: JEST_MAPPER,
    setupFiles: ['<rootDir>/__tests__/setup/prod-mode.ts'],
    // The set-up that docs/testing-your-losses.md gives users: the matchers on Jest's global expect.
    setupFilesAfterEnv: ['<rootDir>/dist/cjs/jest/setup.js'],
    testTimeout: EXAMPLE_TIMEOUT_MS,
  };
  const jest = createRequire(import.meta.url).resolve('jest/bin/jest');
  const report = join(WORK_DIR, 'jest-report.json');
  const result = await runProcess(process.execPath, [
    jest,
    '--config',
    JSON.stringify(config),
    '--json',
    `--outputFile=${report}`,
    '--silent',
  ]);
  const byFile = new Map();
  if (existsSync(report)) {
    for (const suite of JSON.parse(readFileSync(report, 'utf8')).testResults) byFile.set(basename(suite.name), suite);
  }
  return examples.map(({ file }) => {
    const suite = byFile.get(basename(file));
    if (!suite) return `Jest did not run it (exit ${result.code})\n${result.stderr.trim().split('\n').slice(-15).join('\n')}`;
    return suite.status === 'passed' ? null : suite.message.trim().split('\n').slice(0, 25).join('\n');
  });
}

/** Type-checks the ts examples in one `tsc` run; errors are reported against the example. */
async function typeCheck(written) {
  const typed = written.filter(({ example }) => example.language === 'ts');
  if (typed.length === 0) return new Map();
  const tsconfig = join(WORK_DIR, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      compilerOptions: {
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node', 'jest'],
      },
      // The matchers' types on Jest's global expect, as the testing guide's tsconfig gives them to users.
      files: [...typed.map(({ file }) => file), join(ROOT, 'dist/cjs/jest/index.d.ts')],
    }),
  );
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const result = await runProcess(process.execPath, [tsc, '-p', tsconfig, '--pretty', 'false']);
  const errors = new Map();
  for (const line of result.stdout.split('\n')) {
    const match = /^(.*?)\((\d+),\d+\): (error .*)$/.exec(line);
    if (!match) continue;
    const file = resolve(ROOT, match[1]);
    errors.set(file, [...(errors.get(file) ?? []), { line: Number(match[2]), message: match[3] }]);
  }
  if (result.code !== 0 && errors.size === 0) errors.set('tsc', [{ line: 0, message: result.stdout || result.stderr }]);
  return errors;
}

async function main(paths) {
  if (!existsSync(join(ROOT, 'dist/cjs/index.js'))) {
    console.error('doc-examples: dist/ is missing: run `npm run build` first');
    return 1;
  }
  const examples = sourceFiles(paths.length > 0 ? paths : DEFAULT_SOURCES).flatMap((file) => examplesOf(file, readFileSync(file, 'utf8')));
  const exportsByEntry = entryExports(
    ENTRIES.filter((entry) => ['.', './layers'].includes(entry.subpath)),
    { valuesOnly: true },
  );
  mkdirSync(join(WORK_DIR, 'jest'), { recursive: true });
  try {
    return await runExamples(examples, exportsByEntry);
  } finally {
    rmSync(WORK_DIR, { recursive: true, force: true });
  }
}

async function runExamples(examples, exportsByEntry) {
  const written = examples
    .map((example, index) => ({ example, index }))
    .filter(({ example }) => example.mode !== 'no-run')
    .map(({ example, index }) => {
      const header = `// ${where(example)}\n`;
      const file =
        example.mode === 'jest'
          ? join(WORK_DIR, 'jest', `${slug(example, index)}.test.${example.language}`)
          : join(WORK_DIR, `${slug(example, index)}.${example.language === 'ts' ? 'mts' : 'mjs'}`);
      const imports = prelude(example.code, exportsByEntry);
      writeFileSync(file, `${header}${imports}${example.code}\n`);
      // Line k of the example's code is line k + linesBefore of the file.
      return { example, file, linesBefore: 1 + imports.split('\n').length - 1 };
    });

  const modules = written.filter(({ example }) => example.mode === 'run');
  const jestExamples = written.filter(({ example }) => example.mode === 'jest');
  const [moduleFailures, jestFailures, typeErrors] = await Promise.all([
    pooled(
      modules.map(
        ({ example, file }) =>
          () =>
            runModule(example, file),
      ),
      2,
    ),
    runJest(jestExamples),
    typeCheck(written),
  ]);

  const failures = [];
  modules.forEach(({ example }, i) => moduleFailures[i] && failures.push([example, moduleFailures[i]]));
  jestExamples.forEach(({ example }, i) => jestFailures[i] && failures.push([example, jestFailures[i]]));
  for (const { example, file, linesBefore } of written) {
    const errors = typeErrors.get(file)?.map(({ line, message }) => `line ${example.line + line - linesBefore}: ${message}`);
    if (errors) failures.push([example, `type errors:\n${errors.join('\n')}`]);
  }
  if (typeErrors.has('tsc')) failures.push([{ file: join(WORK_DIR, 'tsconfig.json'), line: 1 }, typeErrors.get('tsc')[0].message]);

  for (const [example, message] of failures) console.log(`FAIL ${where(example)}\n  ${message.split('\n').join('\n  ')}\n`);
  const skipped = examples.filter((example) => example.mode === 'no-run');
  for (const example of skipped) console.log(`not run (marked no-run): ${where(example)}`);
  const files = new Set(examples.map((example) => example.file)).size;
  console.log(
    `doc-examples: ${written.length - new Set(failures.map(([example]) => example)).size} of ${written.length} examples passed ` +
      `(${modules.length} run, ${jestExamples.length} in Jest) in ${files} files; ${skipped.length} marked no-run`,
  );
  return failures.length > 0 ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}
