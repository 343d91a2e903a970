import { bigint, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * Ed25519-signed heads of the audit chain; they make tail truncation and rollback detectable. Append-only
 * in the database, like audit_log (custom migration). The signed payload is specified in docs/AUDIT.md.
 */
export const auditCheckpoints = pgTable(
  'audit_checkpoints',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    chainId: text('chain_id').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    headHmac: text('head_hmac').notNull(),
    signedAt: timestamp('signed_at', { withTimezone: true, precision: 3 }).notNull(),
    keyId: text('key_id').notNull(),
    signature: text('signature').notNull(),
  },
  (t) => [
    index('audit_checkpoints_seq').on(t.chainId, t.seq),
    index('audit_checkpoints_signed').on(t.signedAt),
  ],
);
