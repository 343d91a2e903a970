import { index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { organizations } from './organizations';
import { staffUsers } from './staff-users';

/** A note support staff leave on an organisation, inside an acting context. */
export const supportNotes = pgTable(
  'support_notes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    staffId: uuid('staff_id')
      .notNull()
      .references(() => staffUsers.id),
    actingContextId: uuid('acting_context_id').notNull(),
    body: text('body').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('support_notes_org').on(t.orgId, t.createdAt)],
);
