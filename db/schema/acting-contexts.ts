import { sql } from 'drizzle-orm';
import { index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { actingEndReason } from './enums';
import { organizations } from './organizations';
import { staffUsers } from './staff-users';

export const actingContexts = pgTable(
  'acting_contexts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    staffId: uuid('staff_id')
      .notNull()
      .references(() => staffUsers.id),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    reason: text('reason').notNull(),
    ticketRef: text('ticket_ref').notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    endedAt: timestamp('ended_at', { withTimezone: true }),
    endedBy: uuid('ended_by').references(() => staffUsers.id),
    endReason: actingEndReason('end_reason'),
  },
  (t) => [
    index('acting_contexts_staff').on(t.staffId, t.startedAt),
    // One acting context per staff member at a time, enforced by the database too.
    uniqueIndex('acting_contexts_one_open')
      .on(t.staffId)
      .where(sql`${t.endedAt} is null`),
  ],
);
