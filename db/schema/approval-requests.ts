import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { approvalStatus } from './enums';
import { organizations } from './organizations';
import { staffUsers } from './staff-users';

/** A dual-controlled write waiting for (or decided by) a second person: lib/approvals. */
export const approvalRequests = pgTable(
  'approval_requests',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** The service verb (lib/approvals/verbs.ts) and the input it validated. */
    verb: text('verb').notNull(),
    input: jsonb('input').notNull(),
    /** Why it needs a second person (DUAL_CONTROL in lib/auth/permissions.ts). */
    rule: text('rule').notNull(),
    /** The permission an approver needs (the verb's own). */
    permission: text('permission').notNull(),
    orgId: uuid('org_id').references(() => organizations.id),
    /** The organisation's version the request was based on. */
    orgVersion: integer('org_version'),
    /** What the write would change, from a dry run of the verb: `{ before, after, … }`. */
    diff: jsonb('diff'),
    summary: text('summary').notNull(),
    requestedBy: uuid('requested_by')
      .notNull()
      .references(() => staffUsers.id),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull().defaultNow(),
    requesterStepUpAt: timestamp('requester_step_up_at', { withTimezone: true }),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    status: approvalStatus('status').notNull().default('pending'),
    decidedBy: uuid('decided_by').references(() => staffUsers.id),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    deciderStepUpAt: timestamp('decider_step_up_at', { withTimezone: true }),
    /** A rejection's or a break-glass's reason, or why the execution failed. */
    decisionReason: text('decision_reason'),
    ticketRef: text('ticket_ref'),
    reviewedBy: uuid('reviewed_by').references(() => staffUsers.id),
    reviewedAt: timestamp('reviewed_at', { withTimezone: true }),
  },
  (t) => [
    index('approval_requests_pending_idx')
      .on(t.expiresAt)
      .where(sql`${t.status} = 'pending'`),
    index('approval_requests_requested_at_idx').on(t.requestedAt),
  ],
);
