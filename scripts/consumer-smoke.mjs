#!/usr/bin/env node
// `npm run test:consumer`: the package as a user gets it. Packs the tarball, checks what it contains
// against package.json, installs it into a fresh project outside the repo (from the npm cache that the
// repo's `npm ci` filled, and the registry for what the cache lacks), then from that project: requires
// every entry from CommonJS, imports every entry from an ES module, type-checks a TypeScript consumer
// under moduleResolution node16 (ESM and CJS files), bundler and node10, runs a few training steps
// through an optimizer and model.fit, runs Jest + ts-jest with the testing guide's Jest set-up as written there
// (global expect and @jest/globals; passing and failing matchers), and runs the bin (verify, verify --loss,
// fixture-script and verify --fixtures on PyTorch recordings). Any failure exits 1.
// Set KEEP_CONSUMER=1 to keep the temporary project.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { ENTRIES, ROOT, entryExports, entrySource, landedEntries } from './entries.mjs';

const require = createRequire(import.meta.url);
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const failures = [];

function check(ok, message) {
  if (!ok) failures.push(message);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${message}`);
}

function run(command, args, cwd) {
  try {
    return execFileSync(command, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    throw Object.assign(new Error(`${command} ${args.join(' ')} (in ${cwd}) exited ${error.status}:\n${error.stdout}${error.stderr}`), {
      status: error.status,
    });
  }
}

function timed(label, body) {
  const start = Date.now();
  const result = body();
  console.log(`-- ${label}: ${((Date.now() - start) / 1000).toFixed(1)} s`);
  return result;
}

/** Does a package.json `sideEffects` pattern match this path of the package? */
function matchesPattern(pattern, path) {
  const normalized = pattern.replace(/^\.\//, '');
  const target = normalized.includes('/') ? path : posix.basename(path);
  // NUL marks where a `**` was, since no path contains it.
  const regex = normalized
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*\*\/?/g, '\u0000')
    .replace(/\*/g, '[^/]*')
    // eslint-disable-next-line no-control-regex
    .replace(/\u0000/g, '(?:.*/)?');
  return new RegExp(`^${regex}$`).test(target);
}

function checkTarball(packed, landed) {
  const files = new Set(packed.files.map((file) => file.path));
  const has = (target) => files.has(target.replace(/^\.\//, ''));
  for (const entry of ENTRIES) {
    const conditions = manifest.exports[entry.subpath];
    check(conditions !== undefined, `exports map has '${entry.subpath}'`);
    if (!landed.includes(entry)) {
      console.log(`SKIP entry '${entry.subpath}': ${relative(ROOT, entrySource(entry))} has not landed`);
      continue;
    }
    for (const [condition, targets] of Object.entries(conditions)) {
      for (const [kind, target] of Object.entries(targets))
        check(has(target), `'${entry.subpath}' ${condition}.${kind} -> ${target} is in the tarball`);
    }
    const legacyTypes = entry.subpath === '.' ? manifest.types : manifest.typesVersions['*'][entry.subpath.slice(2)]?.[0];
    check(legacyTypes !== undefined && has(legacyTypes), `'${entry.subpath}' has types for moduleResolution node10 (${legacyTypes})`);
  }
  for (const field of ['main', 'module', 'types']) check(has(manifest[field]), `${field} -> ${manifest[field]} is in the tarball`);
  for (const [name, target] of Object.entries(manifest.bin)) {
    check(
      has(target) && readFileSync(join(ROOT, target), 'utf8').startsWith('#!/usr/bin/env node'),
      `bin '${name}' -> ${target} is in the tarball with a node shebang`,
    );
  }
  const allowed = /^(dist\/(cjs|esm)\/|python\/record_fixture\.py$|package\.json$|README\.md$|LICENSE$|CHANGELOG\.md$)/;
  const stray = [...files].filter((path) => !allowed.test(path));
  check(
    stray.length === 0,
    `the tarball holds only dist/, the fixture recorder, package.json and the docs${stray.length ? ` (also: ${stray.join(', ')})` : ''}`,
  );
  check(files.has('python/record_fixture.py'), 'python/record_fixture.py (the PyTorch fixture recorder) is in the tarball');
  for (const required of ['README.md', 'LICENSE', 'CHANGELOG.md']) check(files.has(required), `${required} is in the tarball`);
  // Modules that register something when imported (a layer class for serialization, Jest matchers)
  // must be listed in sideEffects, or a bundler drops `import 'tfjs-loss-adapter/jest'` altogether.
  const registration = /\b(registerClass|\w*[eE]xpect\.extend)\(/;
  const registering = [...files].filter((path) => /\.m?js$/.test(path) && registration.test(readFileSync(join(ROOT, path), 'utf8')));
  for (const path of registering) {
    const what = registration.exec(readFileSync(join(ROOT, path), 'utf8'))[1];
    check(
      manifest.sideEffects.some((pattern) => matchesPattern(pattern, path)),
      `${path} calls ${what}() when imported and is listed in sideEffects`,
    );
  }
}

/** The consumer's TypeScript file: every entry imported and used with its types; misuse must be a type error. */
function typescriptConsumer(landed) {
  const lines = [`import * as tf from '@tensorflow/tfjs';`];
  for (const entry of landed) {
    // '.' -> main, './layers' -> layers, './jest/setup' -> jestSetup
    const alias = entry.subpath === '.' ? 'main' : entry.subpath.slice(2).replace(/\/(\w)/g, (_, c) => c.toUpperCase());
    lines.push(`import * as ${alias} from 'tfjs-loss-adapter${entry.subpath.slice(1)}';`);
    // Were the module's types unresolved (any), these directives would be unused, which is an error.
    lines.push(`// @ts-expect-error: not an export of 'tfjs-loss-adapter${entry.subpath.slice(1)}'`);
    lines.push(`${alias}.notAnExport;`);
  }
  lines.push(
    `import { classificationLoss, crossEntropy, LossInputError, runVerifySuite } from 'tfjs-loss-adapter';`,
    `import type { ClassificationLossOptions, CrossEntropyOptions, Reduction } from 'tfjs-loss-adapter';`,
    `const reduction: Reduction = 'sum';`,
    `const options: CrossEntropyOptions = { reduction, labelSmoothing: 0.1 };`,
    `const loss: tf.Tensor = crossEntropy(tf.tensor2d([[1, 2]]), [1], options);`,
    `// @ts-expect-error: 'average' is not a Reduction`,
    `crossEntropy(tf.tensor2d([[1, 2]]), [1], { reduction: 'average' });`,
    `const adapterOptions: ClassificationLossOptions = { binaryAsTwoClass: true, reduction: 'sum' };`,
    `const adapted: tf.Tensor = classificationLoss(tf.tensor1d([2, -1]), tf.tensor1d([1, 0]), adapterOptions);`,
    `const rows: { check: string; passed: boolean }[] = runVerifySuite();`,
    `const isInputError = (e: unknown): boolean => e instanceof LossInputError;`,
    `export { loss, adapted, rows, isInputError };`,
  );
  if (landed.some((entry) => entry.subpath === './layers')) {
    lines.push(
      `const layersLoss: layers.LayersLoss = layers.sparseCategoricalCrossEntropyLoss({ labelSmoothing: 0.1 });`,
      `const twoClassLayer: tf.layers.Layer = new layers.BinaryAsTwoClass();`,
      `// @ts-expect-error: posWeight is an option of the binary loss only`,
      `layers.categoricalCrossEntropyLoss({ posWeight: 2 });`,
      `export { layersLoss, twoClassLayer };`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The module resolutions a TypeScript consumer may use. The package's .d.ts files themselves are
 * checked once (skipLibCheck off under node16, which reaches both the ESM and the CJS declarations).
 */
const TYPESCRIPT_SETUPS = {
  'node16 (ESM .mts and CJS .cts; our .d.ts checked, skipLibCheck off)': {
    options: { module: 'node16', moduleResolution: 'node16', skipLibCheck: false },
    files: ['consumer.mts', 'consumer.cts'],
  },
  bundler: { options: { module: 'esnext', moduleResolution: 'bundler', skipLibCheck: true }, files: ['consumer.ts'] },
  node10: { options: { module: 'commonjs', moduleResolution: 'node10', skipLibCheck: true }, files: ['consumer.ts'] },
};

/**
 * A TypeScript test file using the matchers, type-checked under node16 as ESM and CJS: their types come
 * from importing the entry, for the global expect and for the expect of @jest/globals.
 */
const JEST_TYPESCRIPT_CONSUMER = `import * as tf from '@tensorflow/tfjs';
import { expect as globalsExpect } from '@jest/globals';
import { matchers } from 'tfjs-loss-adapter/jest';
import { crossEntropy } from 'tfjs-loss-adapter';
globalsExpect.extend(matchers);
test('typed matchers', () => {
  expect(crossEntropy(tf.tensor2d([[1, 2]]), [1])).toBeCloseToTensor(0.3133, { atol: 1e-4 });
  expect(() => crossEntropy(tf.tensor2d([[1, 2]]), [1])).not.toLeakTensors();
  globalsExpect(crossEntropy(tf.tensor2d([[1, 2]]), [1])).toBeCloseToTensor(0.3133, { atol: 1e-4 });
  // @ts-expect-error: the tolerance is an object { rtol, atol }
  expect(tf.scalar(1)).toBeCloseToTensor(1, 1e-4);
  // @ts-expect-error: the tolerance is an object { rtol, atol }
  globalsExpect(tf.scalar(1)).toBeCloseToTensor(1, 1e-4);
});
`;

const MATCHERS = ['toBeCloseToTensor', 'toPassGradcheck', 'toBeEquivalentLoss', 'toLeakTensors'];

/** The guide whose Jest set-up and example the consumer's Jest project uses verbatim. */
const TESTING_GUIDE = 'docs/testing-your-losses.md';

/** The testing guide's Jest set-up and example, as written there: the code block after each `<!-- jest-setup: NAME -->`. */
function guideJestSnippets() {
  const guide = readFileSync(join(ROOT, TESTING_GUIDE), 'utf8');
  const snippets = new Map([...guide.matchAll(/<!-- jest-setup: (\S+) -->\n```[^\n]*\n([\s\S]*?)```/g)].map((m) => [m[1], m[2]]));
  for (const name of ['jest.config.js', 'tsconfig.json', '@jest/globals', 'example.test.ts'])
    if (!snippets.has(name)) throw new Error(`${TESTING_GUIDE} has no code block marked <!-- jest-setup: ${name} -->`);
  return snippets;
}

/**
 * Matcher tests with expected values from mathematics: each file has tests named 'passes: ...', which
 * must pass, and one named 'fails: ...', whose matcher must fail (a value 1e-3 off). `header` registers
 * the matchers, or not (the setup file does). The @ts-expect-error lines fail to compile if the
 * matchers' types were missing or \`any\`.
 */
function matcherTests(header) {
  return `${header}
import * as tf from '@tensorflow/tfjs';
import { crossEntropy } from 'tfjs-loss-adapter';

tf.enableProdMode();
const logits = [[2, 0, -1], [0.5, 1.5, 0]];
const targets = [0, 1];
// -log softmax(z)[y], averaged, in float64.
const expected = logits.reduce((sum, row, n) => sum + Math.log(row.reduce((s, v) => s + Math.exp(v), 0)) - row[targets[n]], 0) / logits.length;

test('passes: toBeCloseToTensor, toPassGradcheck, toLeakTensors, typed', () => {
  const z = tf.tensor2d(logits);
  expect(crossEntropy(z, targets)).toBeCloseToTensor(expected, { atol: 1e-6 });
  expect((x: tf.Tensor) => crossEntropy(x, targets, { reduction: 'sum' })).toPassGradcheck([z]);
  expect(() => crossEntropy(z, targets)).not.toLeakTensors();
  expect(() => {
    tf.ones([2]);
  }).toLeakTensors();
  // @ts-expect-error: the tolerance is an object { rtol, atol }
  expect(tf.scalar(1)).toBeCloseToTensor(1, 1e-4);
  // @ts-expect-error: toPassGradcheck takes a list of tensors (and at run time, gradcheck says so)
  expect(() => expect((x: tf.Tensor) => x.sum()).toPassGradcheck(z)).toThrow("argument 'inputs' must be a non-empty array of tensors");
});

test('fails: toBeCloseToTensor with a value 1e-3 off', () => {
  expect(crossEntropy(tf.tensor2d(logits), targets)).toBeCloseToTensor(expected + 1e-3);
});
`;
}

/** The test files of the Jest project and how each must end: every test passing, or 'passes: ...' passing and 'fails: ...' failing. */
const JEST_FILES = {
  'example.test.ts': 'all pass',
  'global-expect.test.ts': 'one fails',
  'jest-globals.test.ts': 'one fails',
};

/**
 * Jest's JSON report of a run (it exits 1 when a test fails, as some of ours must): per test file, the
 * tests' titles, statuses and failure messages, or why the file could not run (a type error, say).
 */
function runJest(dir, args) {
  const outputFile = join(dir, `jest-results-${Date.now()}.json`);
  const jest = join(dir, '..', 'node_modules/jest/bin/jest.js'); // the consumer's, one level up
  try {
    run(process.execPath, [jest, '--ci', '--json', `--outputFile=${outputFile}`, ...args], dir);
  } catch (error) {
    if (!existsSync(outputFile)) throw error;
  }
  const report = JSON.parse(readFileSync(outputFile, 'utf8'));
  return new Map(report.testResults.map((file) => [posix.basename(file.name), file]));
}

/** Checks one test file of a Jest run against what it must give. */
function checkJestFile(results, file, how) {
  const tests = results.get(file)?.assertionResults ?? [];
  if (tests.length === 0) {
    check(false, `Jest ran the tests of ${file}${results.has(file) ? `:\n${results.get(file).message}` : ''}`);
    return;
  }
  const mustFail = (t) => how === 'one fails' && t.title.startsWith('fails:');
  const wrong = tests.filter((t) => t.status !== (mustFail(t) ? 'failed' : 'passed'));
  const describe = (t) => `'${t.title}' ${t.status}${t.failureMessages.length ? `:\n${t.failureMessages.join('\n')}` : ''}`;
  check(
    wrong.length === 0,
    `${file}: ${tests.length} tests, ${how === 'all pass' ? 'all passing' : "'passes:' passing, 'fails:' failing"}${wrong.length ? `; ${wrong.map(describe).join('; ')}` : ''}`,
  );
  if (how === 'one fails') {
    const failing = tests.filter(mustFail);
    check(
      failing.length === 1 && /toBeCloseToTensor[\s\S]*1 of 1 elements differ/.test(failing[0].failureMessages.join('\n')),
      `${file}: its one 'fails:' test fails in the matcher, with the matcher's message`,
    );
  }
}

/**
 * A Jest project beside the consumer (it uses the consumer's node_modules) with the testing guide's set-up
 * verbatim: its jest.config.js (ts-jest, setupFilesAfterEnv) and tsconfig.json, its example test, and
 * its @jest/globals snippet at the top of a test run with `injectGlobals: false` and no @types/jest, so
 * that only the snippet can register the matchers and only the import can give their types.
 */
function jestProject(project) {
  const snippets = guideJestSnippets();
  const dir = join(project, 'jest-project');
  mkdirSync(dir);
  writeFileSync(join(dir, 'jest.config.js'), snippets.get('jest.config.js'));
  writeFileSync(join(dir, 'tsconfig.json'), snippets.get('tsconfig.json'));
  writeFileSync(join(dir, 'example.test.ts'), snippets.get('example.test.ts'));
  writeFileSync(join(dir, 'global-expect.test.ts'), matcherTests('// The matchers come from the setup file in jest.config.js.'));
  writeFileSync(join(dir, 'jest-globals.test.ts'), matcherTests(`${snippets.get('@jest/globals')}import { test } from '@jest/globals';`));
  const guideConfig = JSON.parse(snippets.get('tsconfig.json'));
  writeFileSync(
    join(dir, 'tsconfig.globals.json'),
    JSON.stringify({ compilerOptions: { ...guideConfig.compilerOptions, types: [] }, files: ['jest-globals.test.ts'] }, null, 2),
  );
  writeFileSync(
    join(dir, 'jest.globals.config.js'),
    `module.exports = {
  injectGlobals: false,
  testMatch: ['**/jest-globals.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.globals.json' }] },
};
`,
  );
  const tsc = join(project, 'node_modules/typescript/bin/tsc');
  for (const [config, what] of [
    ['tsconfig.json', "the guide's tsconfig.json (global expect; all three test files)"],
    ['tsconfig.globals.json', '@jest/globals without @types/jest'],
  ]) {
    let errors = '';
    try {
      run(process.execPath, [tsc, '-p', config, '--noEmit', '--pretty', 'false'], dir);
    } catch (error) {
      errors = error.message;
    }
    check(errors === '', `the Jest tests type-check with ${what}${errors ? `:\n${errors}` : ''}`);
  }
  const withSetup = timed("jest with the guide's jest.config.js (setupFilesAfterEnv)", () =>
    runJest(dir, ['example.test.ts', 'global-expect.test.ts']),
  );
  for (const file of ['example.test.ts', 'global-expect.test.ts']) checkJestFile(withSetup, file, JEST_FILES[file]);
  const withGlobals = timed('jest with @jest/globals (injectGlobals: false)', () => runJest(dir, ['--config', 'jest.globals.config.js']));
  checkJestFile(withGlobals, 'jest-globals.test.ts', JEST_FILES['jest-globals.test.ts']);

  // Outside Jest, or with injectGlobals false, the setup file says why it cannot register the matchers.
  let setupError = '';
  try {
    run(process.execPath, ['-e', "require('tfjs-loss-adapter/jest/setup')"], project);
  } catch (error) {
    setupError = error.message;
  }
  check(
    /there is no global expect to register the matchers with/.test(setupError),
    'tfjs-loss-adapter/jest/setup throws where there is no global expect',
  );
}

/**
 * tsc's diagnostics for the consumer project, split into ours (the consumer's files and this package's
 * declarations) and tfjs' (its .d.ts files have errors of their own under strict with skipLibCheck off).
 */
function typeErrors(project) {
  let output = '';
  try {
    run(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--pretty', 'false'], project);
  } catch (error) {
    output = error.message.split('\n').slice(1).join('\n');
  }
  const diagnostics = output.split(/\n(?=\S)/).filter((line) => line.trim() !== '');
  const inTfjs = (diagnostic) => diagnostic.startsWith('node_modules/@tensorflow/');
  return { ours: diagnostics.filter((d) => !inTfjs(d)), tfjs: diagnostics.filter(inTfjs) };
}

/**
 * Requires (from a .cjs file) or imports (from an .mjs file) every entry and prints its export names,
 * with a stand-in for Jest's global `expect` that records the matchers registered with it (the jest
 * entries register them when imported, and the setup entry throws without a global `expect`).
 */
function entryProbe(landed, style) {
  const load = style === 'require' ? (id) => `require('${id}')` : (id) => `await import('${id}')`;
  const body = landed.map(
    (entry) =>
      `  '${entry.subpath}': Object.keys(${load(`tfjs-loss-adapter${entry.subpath.slice(1)}`)}).filter((k) => k !== 'default' && k !== '__esModule').sort(),`,
  );
  const deepImport =
    style === 'require'
      ? `require('tfjs-loss-adapter/dist/cjs/core/errors.js')`
      : `await import('tfjs-loss-adapter/dist/esm/core/errors.mjs')`;
  const probe = [
    `const registered = [];`,
    `globalThis.expect = { extend: (matchers) => registered.push(...Object.keys(matchers)) };`,
    `const names = {`,
    ...body,
    `};`,
    `let deep = 'loaded';`,
    `try { ${deepImport}; } catch (e) { deep = e.code; }`,
    `console.log(JSON.stringify({ names, deep, registered }));`,
  ];
  return `${probe.join('\n')}\n`;
}

/**
 * A few training steps: cross-entropy through an optimizer, the adapter against the native binary
 * loss, and model.fit and save/load with the layers entry.
 */
function trainingScript(landed) {
  return `import * as tf from '@tensorflow/tfjs';
import * as lib from 'tfjs-loss-adapter';
await tf.setBackend('cpu');
const results = {};

// Linearly separable 3-class data; zero-initialized weights, so the first loss is exactly ln 3.
const x = tf.tensor2d([[2, 0], [1.5, 0.5], [0, 2], [0.5, 1.5], [-2, -2], [-1.5, -1]]);
const y = tf.tensor1d([0, 0, 1, 1, 2, 2], 'int32');
const w = tf.variable(tf.zeros([2, 3]));
const b = tf.variable(tf.zeros([3]));
const optimizer = tf.train.sgd(0.5);
const ceLoss = () => lib.crossEntropy(tf.add(tf.matMul(x, w), b), y);
const first = tf.tidy(() => ceLoss().dataSync()[0]);
const tensorsBefore = tf.memory().numTensors;
for (let step = 0; step < 30; step++) optimizer.minimize(ceLoss);
results.crossEntropy = { first, last: tf.tidy(() => ceLoss().dataSync()[0]), leaked: tf.memory().numTensors - tensorsBefore };

// The adapter: a binary head trained natively (BCE with logits) and as a two-class head (cross-entropy
// on [0, z]) from the same zero weights: the same training run, step by step.
{
  const xb = tf.tensor2d([[1, 2], [2, 1], [-1, -2], [-2, 0.5], [0.5, -1]]);
  const yb = tf.tensor1d([1, 1, 0, 0, 1]);
  const train = (binaryAsTwoClass) => {
    const v = tf.variable(tf.zeros([2, 1]));
    const sgd = tf.train.sgd(0.3);
    const loss = () => lib.classificationLoss(tf.matMul(xb, v), yb, { binaryAsTwoClass });
    const start = tf.tidy(() => loss().dataSync()[0]);
    for (let step = 0; step < 20; step++) sgd.minimize(loss);
    return { start, end: tf.tidy(() => loss().dataSync()[0]), weights: Array.from(v.dataSync()) };
  };
  const native = train(false);
  const twoClass = train(true);
  results.adapter = { native, twoClass, maxWeightDifference: Math.max(...native.weights.map((value, k) => Math.abs(value - twoClass.weights[k]))) };
}
${
  landed.some((entry) => entry.subpath === './layers')
    ? `
// The layers entry: a one-logit head trained with model.fit through binaryCrossEntropyWithLogitsLoss,
// and the same head + BinaryAsTwoClass through categoricalCrossEntropyLoss on one-hot labels, from the
// same (zero) weights: the same training run. sparseCategoricalCrossEntropyLoss with [N, 1] labels
// (through fitDataset, as tfjs-layers' fit checks labels against the output shape). Then the two-class
// model is saved and loaded again: BinaryAsTwoClass must be registered by importing the entry.
const layers = await import('tfjs-loss-adapter/layers');
const xb = tf.tensor2d([[1, 2], [2, 1], [-1, -2], [-2, 0.5], [0.5, -1], [-0.5, -1.5]]);
const yb = tf.tensor2d([1, 1, 0, 0, 1, 0], [6, 1]);
const head = (twoClass) => tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2], kernelInitializer: 'zeros' }), ...(twoClass ? [new layers.BinaryAsTwoClass()] : [])] });
const native = head(false);
native.compile({ optimizer: tf.train.sgd(0.3), loss: layers.binaryCrossEntropyWithLogitsLoss() });
const nativeLoss = (await native.fit(xb, yb, { epochs: 10, batchSize: 6, shuffle: false, verbose: 0 })).history.loss;
const twoClass = head(true);
twoClass.compile({ optimizer: tf.train.sgd(0.3), loss: layers.categoricalCrossEntropyLoss() });
const oneHot = tf.concat([tf.sub(1, yb), yb], 1);
const twoClassLoss = (await twoClass.fit(xb, oneHot, { epochs: 10, batchSize: 6, shuffle: false, verbose: 0 })).history.loss;
const weightsOf = (model) => model.getWeights().flatMap((w) => Array.from(w.dataSync()));
const nativeWeights = weightsOf(native);
const maxWeightDifference = Math.max(...weightsOf(twoClass).map((value, k) => Math.abs(value - nativeWeights[k])));

const sparse = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [2], kernelInitializer: 'zeros' })] });
sparse.compile({ optimizer: tf.train.sgd(0.5), loss: layers.sparseCategoricalCrossEntropyLoss() });
const labels = tf.reshape(tf.cast(y, 'float32'), [-1, 1]);
const dataset = tf.data.zip({ xs: tf.data.array(tf.unstack(x)), ys: tf.data.array(tf.unstack(labels)) }).batch(6);
const sparseLoss = (await sparse.fitDataset(dataset, { epochs: 10, verbose: 0 })).history.loss;

const artifacts = await new Promise((resolve) => twoClass.save(tf.io.withSaveHandler(async (saved) => (resolve(saved), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }))));
const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
const roundTripDifference = tf.tidy(() => tf.max(tf.abs(tf.sub(twoClass.predict(xb), loaded.predict(xb)))).dataSync()[0]);
results.layers = { nativeLoss, twoClassLoss, maxWeightDifference, sparseLoss, roundTripDifference, outputShape: loaded.outputs[0].shape };
`
    : ''
}
console.log(JSON.stringify(results));
`;
}

/** The bin's exit code and output, whatever the code. */
function runBin(project, args) {
  try {
    return { status: 0, output: run(join(project, 'node_modules/.bin/tfjs-loss-adapter'), args, project) };
  } catch (error) {
    return { status: error.status, output: error.message };
  }
}

/**
 * As a user would: a mistyped option exits 2 before checking anything, and `verify --loss` fails a
 * loss that throws on one kind of input unless that kind is left out with --kinds.
 */
function checkBinStrictness(project) {
  for (const args of [
    ['verify', '--lost', './binary-loss.cjs'],
    ['verify', '--sed', '3'],
    ['verify', '--seed', 'abc'],
    ['verify', '--backend', 'gpu'],
    ['bench', '--quik'],
  ]) {
    const { status, output } = runBin(project, args);
    check(status === 2 && /usage:/.test(output), `tfjs-loss-adapter ${args.join(' ')} exits 2 with the usage (exit ${status})`);
  }
  writeFileSync(
    join(project, 'binary-loss.cjs'),
    `const tf = require('@tensorflow/tfjs');\nmodule.exports = (input, target) => tf.losses.sigmoidCrossEntropy(target, input);\n`,
  );
  const all = runBin(project, ['verify', '--backend', 'cpu', '--loss', './binary-loss.cjs']);
  check(
    all.status === 1 && /\[cpu\] binary: pass\n\[cpu\] multiclass: fail/.test(all.output),
    `verify --loss fails a binary-only loss on multiclass input (exit ${all.status})`,
  );
  const binary = runBin(project, ['verify', '--backend', 'cpu', '--loss', './binary-loss.cjs', '--kinds', 'binary']);
  check(
    binary.status === 0 && /\[cpu\] multiclass: skipped \(by --kinds\)/.test(binary.output),
    `verify --loss --kinds binary passes it, multiclass skipped (exit ${binary.status})`,
  );
}

/** `fixture` with its first recorded number of `quantity` ('value' or a gradient's name) multiplied by 1 + 1e-3. */
function perturbedFixture(fixture, quantity) {
  const copy = JSON.parse(JSON.stringify(fixture));
  const tensor = quantity === 'value' ? copy.cases[0].value : copy.cases[0].gradients[quantity];
  tensor.values[0] *= 1 + 1e-3;
  return copy;
}

/**
 * As a user porting from PyTorch would: the recorder's path from `fixture-script`, then `verify --fixtures`
 * on the committed recordings (the worked example, and NaN and ±Infinity), on copies with a value or a
 * gradient changed by 1e-3 relative, and with a user loss whose label smoothing divides by C + 1. When
 * /usr/bin/python3 has torch, fixtures are also recorded live with the installed recorder.
 */
function checkFixtures(project) {
  const script = runBin(project, ['fixture-script']);
  const recorder = script.output.trim();
  check(
    script.status === 0 && recorder === join(project, 'node_modules/tfjs-loss-adapter/python/record_fixture.py') && existsSync(recorder),
    `fixture-script prints the installed recorder's path (${recorder})`,
  );
  const fixtures = join(project, 'fixtures');
  mkdirSync(join(fixtures, 'custom'), { recursive: true });
  for (const file of ['cross-entropy.json', 'bce-with-logits.json', 'custom/binary-focal-loss.json'])
    writeFileSync(join(fixtures, file), readFileSync(join(ROOT, 'examples/fixtures', file)));
  writeFileSync(join(project, 'binary-focal-loss.js'), readFileSync(join(ROOT, 'examples/fixtures/custom/binary-focal-loss.js')));
  writeFileSync(join(project, 'smoothing-loss.js'), readFileSync(join(ROOT, '__tests__/cli/fixtures/smoothing-loss.js')));
  writeFileSync(join(project, 'non-finite.json'), readFileSync(join(ROOT, '__tests__/check/fixtures/non-finite.json')));
  const verify = (...args) => runBin(project, ['verify', '--backend', 'cpu', '--fixtures', ...args]);
  const passes = (args, what) => {
    const { status, output } = verify(...args);
    check(status === 0 && /every fixture matched/.test(output), `verify --fixtures ${args.join(' ')} exits 0: ${what} (exit ${status})`);
  };
  passes(['fixtures'], 'crossEntropy and binaryCrossEntropyWithLogits match their recordings');
  passes(['fixtures/custom', '--loss', './binary-focal-loss.js'], "a user's focal loss matches its recording");
  passes(['non-finite.json'], 'NaN and ±Infinity round-trip from PyTorch');
  passes(['fixtures/cross-entropy.json', '--loss', './smoothing-loss.js', '--export', 'correct'], 'a hand-written smoothed cross-entropy');
  const wrong = verify('fixtures/cross-entropy.json', '--loss', './smoothing-loss.js', '--export', 'dividedByCPlusOne');
  check(
    wrong.status === 1 && /dividedByCPlusOne: case 'crossEntropy 0': value differs/.test(wrong.output),
    `verify --fixtures fails a user loss smoothing with ε/(C + 1) against F.cross_entropy(label_smoothing=0.1) (exit ${wrong.status})`,
  );
  const recorded = JSON.parse(readFileSync(join(fixtures, 'cross-entropy.json'), 'utf8'));
  for (const [quantity, named] of [
    ['value', 'value differs'],
    ['input', 'gradient of input differs'],
  ]) {
    writeFileSync(join(project, 'changed.json'), JSON.stringify(perturbedFixture(recorded, quantity)));
    const { status, output } = verify('changed.json');
    check(
      status === 1 && output.includes(`case 'crossEntropy 0': ${named}`),
      `verify --fixtures exits 1 when the recorded ${quantity === 'value' ? 'value' : 'gradient'} changes by 1e-3 relative, naming '${named}' (exit ${status})`,
    );
  }
  let torch = false;
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' });
    torch = true;
  } catch {
    console.log('SKIP recording fixtures live: /usr/bin/python3 has no torch (the committed recordings are checked above)');
  }
  if (torch) {
    const python = [
      'import torch, torch.nn.functional as F',
      'from record_fixture import record',
      'x = torch.randn(5, 3, requires_grad=True)',
      "record('live/ce.json', F.cross_entropy, x, torch.tensor([0, 2, 1, 1, 0]), label_smoothing=0.1)",
      "record('live/bce.json', F.binary_cross_entropy_with_logits, torch.randn(4, requires_grad=True), torch.rand(4), pos_weight=torch.tensor([2.0]), reduction='none')",
    ].join('\n');
    execFileSync('/usr/bin/python3', ['-c', python], { cwd: project, env: { ...process.env, PYTHONPATH: dirname(recorder) } });
    passes(['live'], 'fixtures just recorded with the installed recorder and torch');
  }
}

function main() {
  const landed = landedEntries();
  const scratch = mkdtempSync(join(tmpdir(), 'tfjs-loss-adapter-consumer-'));
  try {
    timed('npm run build', () => run('npm', ['run', 'build'], ROOT));
    // --ignore-scripts: prepack would build a second time and mix its log into the JSON.
    const [packed] = timed('npm pack', () =>
      JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', scratch], ROOT)),
    );
    console.log(`packed ${packed.filename}: ${packed.entryCount} files, ${(packed.size / 1024).toFixed(0)} kB`);
    checkTarball(packed, landed);

    const project = join(scratch, 'consumer');
    mkdirSync(project);
    const version = (name) => require(`${name}/package.json`).version;
    // tfjs-data depends on @types/node "*": npm would pick the newest version it has heard of, whose own
    // dependencies the cache may lack. Pin it to the repo's, which `npm ci` cached.
    const consumerManifest = { name: 'consumer', version: '1.0.0', private: true, overrides: { '@types/node': version('@types/node') } };
    writeFileSync(join(project, 'package.json'), JSON.stringify(consumerManifest, null, 2));
    const withJest = landed.some((entry) => entry.subpath === './jest');
    const packages = [
      '@tensorflow/tfjs',
      '@tensorflow/tfjs-layers',
      'typescript',
      ...(withJest ? ['jest', '@types/jest', '@jest/globals', 'ts-jest'] : []),
    ];
    // --prefer-offline: the cache holds every tarball `npm ci` fetched, but not always the registry's
    // package documents that resolving `name@version` needs; those come from the registry.
    timed(`npm install --prefer-offline (the tarball, ${packages.join(', ')})`, () =>
      run(
        'npm',
        [
          'install',
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          join(scratch, packed.filename),
          ...packages.map((name) => `${name}@${version(name)}`),
        ],
        project,
      ),
    );

    const expected = entryExports(landed, { valuesOnly: true });
    for (const style of ['require', 'import']) {
      const file = style === 'require' ? 'entries.cjs' : 'entries.mjs';
      writeFileSync(join(project, file), entryProbe(landed, style));
      const { names, deep, registered } = JSON.parse(run(process.execPath, [file], project));
      for (const entry of landed) {
        const missing = expected.get(entry.subpath).filter((name) => !names[entry.subpath].includes(name));
        check(
          missing.length === 0,
          `${style}('tfjs-loss-adapter${entry.subpath.slice(1)}') gives all ${expected.get(entry.subpath).length} runtime exports${missing.length ? ` (missing: ${missing.join(', ')})` : ''}`,
        );
      }
      check(deep === 'ERR_PACKAGE_PATH_NOT_EXPORTED', `${style} of a file outside the exports map is refused (${deep})`);
      if (withJest) {
        check(
          MATCHERS.every((name) => registered.includes(name)),
          `${style} of the jest entries registers the matchers with a global expect (registered: ${registered.join(', ') || 'none'})`,
        );
      }
    }

    const source = typescriptConsumer(landed);
    for (const file of ['consumer.ts', 'consumer.mts', 'consumer.cts']) writeFileSync(join(project, file), source);
    const setups = { ...TYPESCRIPT_SETUPS };
    if (withJest) {
      for (const file of ['jest-consumer.mts', 'jest-consumer.cts']) writeFileSync(join(project, file), JEST_TYPESCRIPT_CONSUMER);
      setups['node16 with the jest matchers (types: jest)'] = {
        options: { module: 'node16', moduleResolution: 'node16', types: ['jest'], skipLibCheck: true },
        files: ['jest-consumer.mts', 'jest-consumer.cts'],
      };
    }
    timed('tsc --noEmit (node16, bundler, node10)', () => {
      for (const [setup, { options, files }] of Object.entries(setups)) {
        const config = {
          compilerOptions: { target: 'es2019', lib: ['es2019', 'dom'], strict: true, noEmit: true, types: [], ...options },
          files,
        };
        writeFileSync(join(project, 'tsconfig.json'), JSON.stringify(config, null, 2));
        const { ours, tfjs } = typeErrors(project);
        check(
          ours.length === 0,
          `TypeScript consumer type-checks with moduleResolution ${setup}${ours.length ? `:\n${ours.join('\n')}` : ''}`,
        );
        if (tfjs.length)
          console.log(
            `     (${tfjs.length} errors inside tfjs' own .d.ts under strict, not ours: ${[...new Set(tfjs.map((d) => d.split('(')[0]))].length} files)`,
          );
      }
    });

    writeFileSync(join(project, 'train.mjs'), trainingScript(landed));
    const training = timed('training steps', () => JSON.parse(run(process.execPath, ['train.mjs'], project)));
    const ce = training.crossEntropy;
    check(
      Math.abs(ce.first - Math.log(3)) < 1e-6 && ce.last < 0.5 * ce.first && ce.leaked === 0,
      `crossEntropy trains through tf.train.sgd().minimize: ${ce.first.toFixed(4)} -> ${ce.last.toFixed(4)} in 30 steps, ${ce.leaked} tensors leaked`,
    );
    const { native, twoClass, maxWeightDifference } = training.adapter;
    check(
      native.end < native.start && maxWeightDifference < 1e-5,
      `classificationLoss through sgd: binary head ${native.start.toFixed(4)} -> ${native.end.toFixed(4)}, as two-class ${twoClass.start.toFixed(4)} -> ${twoClass.end.toFixed(4)}, weights differ by ${maxWeightDifference.toExponential(1)}`,
    );
    if (training.layers) {
      const { nativeLoss, twoClassLoss, maxWeightDifference, sparseLoss, roundTripDifference, outputShape } = training.layers;
      const curve = (losses) => `${losses[0].toFixed(4)} -> ${losses.at(-1).toFixed(4)}`;
      check(
        nativeLoss.at(-1) < nativeLoss[0] && maxWeightDifference < 1e-5,
        `model.fit: binaryCrossEntropyWithLogitsLoss ${curve(nativeLoss)}, BinaryAsTwoClass + categoricalCrossEntropyLoss ${curve(twoClassLoss)}, weights differ by ${maxWeightDifference.toExponential(1)}`,
      );
      check(
        sparseLoss.at(-1) < sparseLoss[0],
        `model.fitDataset: sparseCategoricalCrossEntropyLoss with [N, 1] labels ${curve(sparseLoss)}`,
      );
      check(
        roundTripDifference === 0,
        `a model with BinaryAsTwoClass (output ${JSON.stringify(outputShape)}) saves and loads again, same predictions (max difference ${roundTripDifference})`,
      );
    } else {
      console.log("SKIP layers training: 'tfjs-loss-adapter/layers' has not landed");
    }

    if (withJest) jestProject(project);
    else console.log("SKIP jest matchers: 'tfjs-loss-adapter/jest' has not landed");

    const verify = timed('bin: tfjs-loss-adapter verify --backend cpu', () =>
      run(join(project, 'node_modules/.bin/tfjs-loss-adapter'), ['verify', '--backend', 'cpu'], project),
    );
    check(/every check passed/.test(verify), `the bin runs from the installed package: '${verify.trim().split('\n').at(-1)}'`);
    timed('bin: mistyped options, and verify --loss of a loss that throws on multiclass input', () => checkBinStrictness(project));
    timed('bin: fixture-script, and verify --fixtures on PyTorch recordings', () => checkFixtures(project));
  } finally {
    if (process.env.KEEP_CONSUMER) console.log(`kept ${scratch}`);
    else rmSync(scratch, { recursive: true, force: true });
  }
  if (failures.length) {
    console.error(`\nconsumer smoke test: ${failures.length} failure(s)`);
    process.exit(1);
  }
  console.log(
    `\nconsumer smoke test passed (entries: ${landed.map((entry) => `'${entry.subpath}'`).join(', ')}; not landed: ${
      ENTRIES.filter((entry) => !landed.includes(entry))
        .map((entry) => `'${entry.subpath}'`)
        .join(', ') || 'none'
    })`,
  );
}

try {
  main();
} catch (error) {
  console.error(`consumer smoke test: ${error.message}`);
  process.exit(1);
}
