import { bigint, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/** Ed25519-signed heads of the audit chain; they make tail truncation and rollback detectable. */
export const auditCheckpoints = pgTable('audit_checkpoints', {
  id: uuid('id').primaryKey().defaultRandom(),
  chainId: text('chain_id').notNull(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  headHmac: text('head_hmac').notNull(),
  signedAt: timestamp('signed_at', { withTimezone: true, precision: 3 }).notNull(),
  keyId: text('key_id').notNull(),
  signature: text('signature').notNull(),
});
