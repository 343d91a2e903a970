import { integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Failed sign-in counters, per client address (`ip:<addr>`) and per credential (`cred:<id>`), in
 * Postgres so that the limits hold across replicas.
 */
export const signinThrottle = pgTable('signin_throttle', {
  key: text('key').primaryKey(),
  windowStartedAt: timestamp('window_started_at', { withTimezone: true }).notNull(),
  failures: integer('failures').notNull(),
});
