import { jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * ES256 keys that sign platform API tokens. The private key is stored encrypted (AES-256-GCM) under the
 * `token-signing-kek` secret; the newest key not retired signs, and retired keys stay in the JWKS until
 * every token they signed has expired.
 */
export const tokenSigningKeys = pgTable('token_signing_keys', {
  kid: text('kid').primaryKey(),
  publicJwk: jsonb('public_jwk').notNull(),
  privateKeyEnc: text('private_key_enc').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  retiredAt: timestamp('retired_at', { withTimezone: true }),
});
