import { bigint, boolean, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { mfaMethod, planTier } from './enums';

/** Exactly one row per canonical tier key; the key itself is a Postgres enum. */
export const planTiers = pgTable('plan_tiers', {
  key: planTier('key').primaryKey(),
  label: text('label').notNull(),
  description: text('description').notNull(),
  monthlyRequestQuota: bigint('monthly_request_quota', { mode: 'number' }).notNull(),
  requestsPerMinute: integer('requests_per_minute').notNull(),
  tokensPerMinute: integer('tokens_per_minute').notNull(),
  concurrentRequests: integer('concurrent_requests').notNull(),
  mfaRequired: boolean('mfa_required').notNull(),
  mfaAllowedMethods: mfaMethod('mfa_allowed_methods').array().notNull(),
  version: integer('version').notNull().default(1),
});
