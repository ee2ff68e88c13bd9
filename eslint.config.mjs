// ESLint: typescript-eslint's recommended rules over the sources, tests, scripts and tools.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'docs/api/', 'scratch/', '.doc-examples/', 'coverage/', 'node_modules/', 'src/kernels/host/simd/*.wasm*'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The CLI loads optional backends and users' loss modules at run time.
    files: ['src/cli/**/*.ts', '__tests__/helpers/backends.ts', '__tests__/cli/fixtures/*.js', 'examples/fixtures/custom/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
