import { pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { staffRole } from './enums';
import { staffUsers } from './staff-users';

/** A single-use enrolment invitation. Only the SHA-256 of the token is stored. */
export const staffInvites = pgTable('staff_invites', {
  id: uuid('id').primaryKey().defaultRandom(),
  tokenHash: text('token_hash').notNull().unique(),
  email: text('email').notNull(),
  role: staffRole('role').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true }),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  revokedBy: uuid('revoked_by').references(() => staffUsers.id),
  createdBy: uuid('created_by').references(() => staffUsers.id),
});
