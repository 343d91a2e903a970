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

const config = [
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
    // Playwright fixtures call `use`, which is not React's hook.
    files: ['e2e/**'],
    rules: { 'react-hooks/rules-of-hooks': 'off' },
  },
  {
    files: ['app/**', 'components/**'],
    rules: { 'no-restricted-imports': ['error', dbImportBan] },
  },
  {
    // The witness runs outside the portal's trust domain (docs/AUDIT.md, "Witnesses"): of this project it
    // imports only the pure modules, never the database, the configuration or the secrets.
    files: [
      'scripts/audit-witness.ts',
      'lib/audit/witness-server.ts',
      'lib/audit/witness-protocol.ts',
      'lib/audit/note.ts',
      'lib/audit/merkle.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex:
                '^(?!@/lib/audit/(merkle|note|witness-protocol|witness-server)$|\\./(merkle|note|witness-protocol)$)(@/|\\.\\.?/)',
              message: 'The witness imports only merkle, note and witness-protocol of this project.',
            },
            {
              group: ['drizzle-orm', 'drizzle-orm/*', 'postgres', '@electric-sql/*', 'next', 'next/*'],
              message: 'The witness needs no database and no Next.',
            },
          ],
        },
      ],
    },
  },
];

export default config;
