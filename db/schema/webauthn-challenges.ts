import { pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { challengePurpose } from './enums';
import { staffUsers } from './staff-users';

/** Single-use ceremony challenges, in Postgres so that any replica can finish a ceremony. */
export const webauthnChallenges = pgTable('webauthn_challenges', {
  id: uuid('id').primaryKey().defaultRandom(),
  challenge: text('challenge').notNull().unique(),
  purpose: challengePurpose('purpose').notNull(),
  staffId: uuid('staff_id').references(() => staffUsers.id),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  consumedAt: timestamp('consumed_at', { withTimezone: true }),
});
