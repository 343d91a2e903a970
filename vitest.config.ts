import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    include: ['lib/**/*.test.ts', 'db/**/*.test.ts', 'test/**/*.test.ts', 'scripts/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: {
      LOG_LEVEL: 'silent',
      SECRETS_BACKEND: 'env',
      // A fixed test key ring; production refuses SECRETS_BACKEND=env.
      SECRET_TOKEN_SIGNING_KEK: Buffer.alloc(32, 9).toString('base64'),
      SECRET_AUDIT_HMAC_KEYS: JSON.stringify({
        active: 'test-k1',
        keys: { 'test-k1': Buffer.alloc(32, 7).toString('base64') },
      }),
    },
  },
});
