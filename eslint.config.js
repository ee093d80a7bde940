import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import weft from './eslint/feature-boundaries.js';

export default tseslint.config(
  { ignores: ['console/**', 'dist/**', 'src/generated/**', 'clients/**', 'node_modules/**', 'tools/**/node_modules/**', 'coverage/**', 'tools/prisma/prisma.config.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // Feature boundaries (docs/layout.md): no feature imports another's repository; domain/ stays pure.
    files: ['src/**/*.ts'],
    plugins: { weft },
    rules: { 'weft/feature-boundaries': 'error' },
  },
  {
    // Tests read loosely typed JSON responses.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'process', 'console', 'URL', 'Buffer', 'fetch', 'AbortController', 'AbortSignal', 'performance',
          'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'queueMicrotask', 'structuredClone',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
