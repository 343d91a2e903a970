import { sql } from 'drizzle-orm';
import { bigint, check, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Where each SIEM sink stands in the audit chain (lib/siem): the last seq it delivered, committed only
 * after the SIEM accepted the batch, so a restart resumes right after it. `lease_owner` / `lease_until` make
 * one replica at a time the deliverer; the others stand by and take over when the lease runs out.
 */
export const siemCursor = pgTable(
  'siem_cursor',
  {
    sink: text('sink').primaryKey(),
    deliveredSeq: bigint('delivered_seq', { mode: 'number' }).notNull().default(0),
    leaseOwner: text('lease_owner'),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    lastAttemptAt: timestamp('last_attempt_at', { withTimezone: true }),
    lastSuccessAt: timestamp('last_success_at', { withTimezone: true }),
    lastError: text('last_error'),
    lastErrorAt: timestamp('last_error_at', { withTimezone: true }),
    /** Failed attempts since the last success. */
    failures: integer('failures').notNull().default(0),
    /** When the deliverer will try again after a failure. */
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('siem_cursor_seq', sql`${t.deliveredSeq} >= 0`)],
);
