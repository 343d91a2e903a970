import { sql } from 'drizzle-orm';
import { bigint, check, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * One verification of the audit chain, started from the portal or `npm run audit:verify`. The process that
 * runs it updates `checked` and `heartbeat_at` as it goes; any replica answers the page's polling from
 * this row, so a run does not depend on which replica the browser reaches.
 */
export const auditVerifyRuns = pgTable(
  'audit_verify_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    requestedBy: uuid('requested_by'),
    requestedEmail: text('requested_email').notNull(),
    /** `portal` or `cli`. */
    source: text('source').notNull(),
    fromSeq: bigint('from_seq', { mode: 'number' }).notNull(),
    toSeq: bigint('to_seq', { mode: 'number' }).notNull(),
    /** `running`, then `valid`, `broken` or `failed` (the run itself could not finish). */
    status: text('status').notNull().default('running'),
    checked: bigint('checked', { mode: 'number' }).notNull().default(0),
    startedAt: timestamp('started_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true, precision: 3 }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true, precision: 3 }),
    /** The verdict: first broken seq and kind, or the head and the checkpoint it matched. */
    result: jsonb('result'),
    /** Which process runs it (host and pid), for the operator. */
    runner: text('runner').notNull(),
  },
  (t) => [
    check('audit_verify_runs_status', sql`${t.status} in ('running', 'valid', 'broken', 'failed')`),
    check('audit_verify_runs_range', sql`${t.fromSeq} >= 1 and ${t.toSeq} >= ${t.fromSeq} - 1`),
    index('audit_verify_runs_started').on(t.startedAt),
  ],
);
