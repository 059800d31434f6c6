// Lint runs as part of `npm test`; type-aware rules stay off to keep it fast.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-eval': 'error',
      'no-new-func': 'error',
    },
  },
  {
    // Workflow code must stay deterministic: no I/O, no clocks, no randomness.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'fs', 'http', 'https', 'crypto', 'undici', 'pg', '@electric-sql/*', 'ajv', 'jsonpath-plus', '../activities/*', '../store/*'], message: 'Workflows are deterministic: no I/O or heavy libraries (import activity types with `import type`).', allowTypeImports: true }] }],
      'no-restricted-globals': ['error', 'setInterval', 'fetch'],
    },
  },
);
