import nextVitals from 'eslint-config-next/core-web-vitals';
import nextTs from 'eslint-config-next/typescript';

const dbImportBan = {
  patterns: [
    {
      group: ['@/db', '@/db/*', '**/db', '**/db/*', 'drizzle-orm', 'drizzle-orm/*'],
      message:
        'app/ and components/ never touch the database: read through lib/queries and write through lib/services.',
    },
  ],
};

export default [
  ...nextVitals,
  ...nextTs,
  {
    ignores: [
      '.next/**',
      '.data/**',
      'node_modules/**',
      'test-results/**',
      'playwright-report/**',
      'next-env.d.ts',
    ],
  },
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['app/**', 'components/**'],
    rules: { 'no-restricted-imports': ['error', dbImportBan] },
  },
];
