import path from 'node:path';
import { defineConfig } from 'vitest/config';

/** A fixed Ed25519 private key (PKCS#8 DER, base64) made from a 32-byte seed. */
const ed25519 = (seed: number) =>
  Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.alloc(32, seed)]).toString(
    'base64',
  );

export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    include: ['lib/**/*.test.ts', 'db/**/*.test.ts', 'test/**/*.test.ts', 'scripts/**/*.test.ts'],
    // Builds the worker bundle that portal verifications run (when stale).
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: {
      LOG_LEVEL: 'silent',
      SECRETS_BACKEND: 'env',
      // A fixed test key ring; production refuses SECRETS_BACKEND=env.
      SECRET_TOKEN_SIGNING_KEK: Buffer.alloc(32, 9).toString('base64'),
      SECRET_AUDIT_HMAC_KEYS: JSON.stringify({
        active: 'test-k1',
        // test-k2 is staged for the rotation tests: in the ring, not active.
        keys: {
          'test-k1': Buffer.alloc(32, 7).toString('base64'),
          'test-k2': Buffer.alloc(32, 8).toString('base64'),
        },
      }),
      SECRET_AUDIT_CHECKPOINT_KEYS: JSON.stringify({
        active: 'test-cp1',
        keys: { 'test-cp1': ed25519(11), 'test-cp2': ed25519(12) },
      }),
    },
  },
});
