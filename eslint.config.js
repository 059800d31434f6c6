// Lint runs as part of `npm test`; type-aware rules stay off to keep it fast.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Folders above store/, connectors/ and mappings/ (and the composition root). */
const UPPER_LAYERS = ['**/api/**', '**/temporal/**', '**/worker/**', '**/workflows/**', '**/activities/**', '**/webhooks/**', '**/cli/**', '**/config.js', '**/hub.js', '**/bootstrap.js'];

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
    // The web console runs in the browser.
    files: ['console/**/*.{ts,tsx}'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', location: 'readonly', history: 'readonly', navigator: 'readonly', sessionStorage: 'readonly', localStorage: 'readonly', AbortController: 'readonly', URLSearchParams: 'readonly', Intl: 'readonly', HTMLElement: 'readonly', requestAnimationFrame: 'readonly' } },
  },
  {
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // Workflow code must stay deterministic: no I/O, no clocks, no randomness.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'fs', 'http', 'https', 'crypto', 'undici', 'pg', '@electric-sql/*', 'ajv', 'jsonpath-plus', '../activities/*', '../store/*'], message: 'Workflows are deterministic: no I/O or heavy libraries (import activity types with `import type`).', allowTypeImports: true }] }],
      'no-restricted-globals': ['error', 'setInterval', 'fetch'],
    },
  },
  {
    // One-way layers (docs/architecture.md): the lower layers never reach up. Type imports count
    // too, since they tie a lower module to an upper one's shape. test/structure checks cycles.
    files: ['store/**/*.ts', 'connectors/**/*.ts', 'mappings/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: UPPER_LAYERS, message: 'store/, connectors/ and mappings/ sit below api/, temporal/, worker/, workflows/, activities/ and webhooks/: pass what they need in instead.' }] }],
    },
  },
  {
    files: ['webhooks/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/api/**', '**/temporal/**', '**/worker/**', '**/workflows/**', '**/activities/**', '**/config.js', '**/hub.js'], message: 'webhooks/ sits below the API, Temporal and the activities: inject what it starts or reads.' }] }],
    },
  },
  {
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['../*', '../**'], message: 'lib/ imports nothing of the project: it is the bottom layer.' }] }],
    },
  },
);
