import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { orgStatus, planTier } from './enums';
import { planTiers } from './plan-tiers';

export const organizations = pgTable(
  'organizations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    slug: text('slug').notNull().unique(),
    name: text('name').notNull(),
    planTier: planTier('plan_tier')
      .notNull()
      .references(() => planTiers.key),
    status: orgStatus('status').notNull().default('active'),
    suspendedReason: text('suspended_reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (t) => [
    index('organizations_name_lower').on(sql`lower(${t.name})`, t.id),
    index('organizations_tier').on(t.planTier, t.id),
  ],
);
