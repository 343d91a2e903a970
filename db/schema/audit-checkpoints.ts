import { sql } from 'drizzle-orm';
import { bigint, check, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

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
    /**
     * The same head as a C2SP signed note (lib/audit/note.ts): the Merkle tree's size and root (hex), and
     * the note's text, signed with the same key. Null on checkpoints signed before migration 0020, or while
     * the tree was still being built.
     */
    treeSize: bigint('tree_size', { mode: 'number' }),
    rootHash: text('root_hash'),
    note: text('note'),
  },
  (t) => [
    check(
      'audit_checkpoints_note',
      sql`(${t.treeSize} is null and ${t.rootHash} is null and ${t.note} is null) or (${t.treeSize} >= 0 and ${t.rootHash} ~ '^[0-9a-f]{64}$' and ${t.note} is not null)`,
    ),
    index('audit_checkpoints_seq').on(t.chainId, t.seq),
    index('audit_checkpoints_signed').on(t.signedAt),
  ],
);
