import { spawnSync } from 'child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';

// scripts/doc-examples.mjs: how it reads examples and announced output (its pure functions, called in a
// child Node because the script is an ES module), and, end to end, that a stale printed value fails it.
const SCRIPT = path.join(__dirname, '../../scripts/doc-examples.mjs');

type Call = [name: string, ...args: unknown[]];

function callScript(calls: Call[]): unknown[] {
  const code = `
    const script = await import(${JSON.stringify(pathToFileURL(SCRIPT).href)});
    const revive = (value) => (Array.isArray(value) && value[0] === '$map' ? new Map(value[1]) : value);
    const answers = JSON.parse(process.argv[1]).map(([name, ...args]) => {
      try {
        return { value: script[name](...args.map(revive)) };
      } catch (error) {
        return { error: error.message };
      }
    });
    console.log(JSON.stringify(answers));`;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', code, JSON.stringify(calls)], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(child.stderr);
  return JSON.parse(child.stdout);
}

const MARKDOWN = [
  '# Title',
  '',
  '```ts',
  "console.log('a'); // => a",
  '```',
  '',
  '1. In a list:',
  '',
  '   ```js jest',
  "   test('x', () => {});",
  '   ```',
  '',
  '```sh',
  'npm test',
  '```',
  '',
  '```ts no-run',
  'document.title;',
  '```',
].join('\n');

const DOC_COMMENT = [
  'const before = 1;',
  '/**',
  ' * Adds one.',
  ' *',
  ' * ```js',
  ' * console.log(addOne(1)); // => 2',
  ' * ```',
  ' */',
  'export const addOne = (x: number) => x + 1;',
].join('\n');

describe('scripts/doc-examples.mjs', () => {
  const [markdown, docComment, unknownMode, announced, agree, differs, silentButPrinted, preludeNeeded, preludeNotNeeded] = callScript([
    ['examplesOf', 'guide.md', MARKDOWN],
    ['examplesOf', 'add.ts', DOC_COMMENT],
    ['examplesOf', 'guide.md', '```ts maybe\nx\n```'],
    ['announcedOutput', 'console.log(1); // => 1\nconsole.log([1,\n  2]);\n// => [ 1, 2 ]\n// =>  padded  '],
    ['outputMismatch', ['1', '[ 1, 2 ]'], '1\n[ 1, 2 ]  \n'],
    ['outputMismatch', ['0.3171'], '0.3172\n'],
    ['outputMismatch', [], 'something\n'],
    [
      'prelude',
      'console.log(crossEntropy(z, y), BinaryAsTwoClass, sparseCrossEntropy);',
      [
        '$map',
        [
          ['.', ['crossEntropy', 'nllLoss']],
          ['./layers', ['BinaryAsTwoClass', 'crossEntropy']],
        ],
      ],
    ],
    ['prelude', "import * as tf from '@tensorflow/tfjs';\ncrossEntropy;", ['$map', [['.', ['crossEntropy']]]]],
  ]);

  it('finds js and ts blocks with their mode and line, in lists too, and skips other languages', () => {
    expect(markdown).toEqual({
      value: [
        { file: 'guide.md', line: 3, language: 'ts', mode: 'run', code: "console.log('a'); // => a" },
        { file: 'guide.md', line: 9, language: 'js', mode: 'jest', code: "test('x', () => {});" },
        { file: 'guide.md', line: 17, language: 'ts', mode: 'no-run', code: 'document.title;' },
      ],
    });
  });

  it('finds examples in doc comments, at the line of the source file', () => {
    expect(docComment).toEqual({
      value: [{ file: 'add.ts', line: 5, language: 'js', mode: 'run', code: 'console.log(addOne(1)); // => 2' }],
    });
  });

  it('rejects a mode it does not know instead of skipping the block', () => {
    expect(unknownMode).toEqual({ error: expect.stringContaining("unknown example mode 'ts maybe'") });
  });

  it('reads announced lines at the end of a line and on lines of their own, in order', () => {
    expect(announced).toEqual({ value: ['1', '[ 1, 2 ]', ' padded'] });
  });

  it('compares printed and announced lines exactly, trailing spaces aside', () => {
    expect(agree).toEqual({ value: null });
    expect(differs).toEqual({ value: expect.stringContaining('output line 1: announced "0.3171", printed "0.3172"') });
    expect(silentButPrinted).toEqual({ value: expect.stringContaining('announced (nothing), printed "something"') });
  });

  it('imports what an example names when it has no imports, the main entry first', () => {
    expect(preludeNeeded).toEqual({
      value:
        "import * as tf from '@tensorflow/tfjs';\n" +
        "import { crossEntropy } from 'tfjs-loss-adapter';\n" +
        "import { BinaryAsTwoClass } from 'tfjs-loss-adapter/layers';\n",
    });
    expect(preludeNotNeeded).toEqual({ value: '' });
  });

  describe('end to end, on a guide with one example', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'doc-examples-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const runOn = (printed: string) => {
      const guide = path.join(dir, `guide-${printed}.md`);
      writeFileSync(
        guide,
        [
          '```js',
          "import '@tensorflow/tfjs';",
          "import { crossEntropy } from 'tfjs-loss-adapter';",
          '',
          `console.log(crossEntropy([[2, 0, -1]], [0]).dataSync()[0].toFixed(4)); // => ${printed}`,
          '```',
          '',
        ].join('\n'),
      );
      return spawnSync(process.execPath, [SCRIPT, guide], { encoding: 'utf8' });
    };

    it('passes when the example prints what it announces', () => {
      const run = runOn('0.1698');
      expect(run.stdout).toContain('1 of 1 examples passed');
      expect(run.status).toBe(0);
    });

    it('fails, naming the file, line and values, when a printed value is changed in the guide', () => {
      const run = runOn('0.1699');
      expect(run.stdout).toMatch(/FAIL .*guide-0\.1699\.md:1\n {2}output line 1: announced "0\.1699", printed "0\.1698"/);
      expect(run.status).toBe(1);
    });
  });
});
