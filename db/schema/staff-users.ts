import { sql } from 'drizzle-orm';
import { type AnyPgColumn, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { staffRole, staffStatus } from './enums';

export const staffUsers = pgTable(
  'staff_users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    email: text('email').notNull(),
    displayName: text('display_name').notNull(),
    role: staffRole('role').notNull(),
    status: staffStatus('status').notNull().default('active'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    createdBy: uuid('created_by').references((): AnyPgColumn => staffUsers.id),
    version: integer('version').notNull().default(1),
  },
  (t) => [uniqueIndex('staff_users_email_lower').on(sql`lower(${t.email})`)],
);
