import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { auditCheckpoints } from './audit-checkpoints';

/**
 * What each configured witness answered when the portal sent it a checkpoint (lib/services/audit/witnessing.ts;
 * docs/AUDIT.md, "Witnesses"): one row per witness and request. Append-only in the database, like
 * audit_checkpoints (migration 0021): a witness's refusal is evidence too.
 */
export const auditCheckpointCosignatures = pgTable(
  'audit_checkpoint_cosignatures',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    checkpointId: uuid('checkpoint_id')
      .notNull()
      .references(() => auditCheckpoints.id),
    /** The witness's key name, from its verifier key. */
    witnessName: text('witness_name').notNull(),
    /** Its verifier key as configured (AUDIT_WITNESS_KEYS): what identifies the witness. */
    witnessKey: text('witness_key').notNull(),
    witnessUrl: text('witness_url').notNull(),
    outcome: text('outcome', { enum: ['cosigned', 'refused', 'unreachable', 'invalid'] }).notNull(),
    httpStatus: integer('http_status'),
    /** The tree size the consistency proof started from (after a retry, the one the witness reported). */
    oldSize: bigint('old_size', { mode: 'number' }),
    /** The size the witness said it last cosigned (a 409). */
    witnessSize: bigint('witness_size', { mode: 'number' }),
    cosignedAt: timestamp('cosigned_at', { withTimezone: true }),
    /** The cosignature line, `— <name> <base64>`, to append to the checkpoint's note. */
    cosignature: text('cosignature'),
    reason: text('reason'),
    /**
     * The answer shows that the witness cosigned another history than this database holds: the chain was
     * rolled back or forked behind a witnessed checkpoint (portal_audit_witness_alarms_total).
     */
    alarm: boolean('alarm').notNull().default(false),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check(
      'audit_checkpoint_cosignatures_outcome',
      sql`${t.outcome} in ('cosigned', 'refused', 'unreachable', 'invalid')`,
    ),
    check(
      'audit_checkpoint_cosignatures_cosigned',
      sql`(${t.outcome} = 'cosigned') = (${t.cosignature} is not null and ${t.cosignedAt} is not null)`,
    ),
    index('audit_checkpoint_cosignatures_witness').on(t.witnessKey, t.checkpointId),
  ],
);
