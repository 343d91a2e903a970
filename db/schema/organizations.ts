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
  // The /orgs list's sort key is (lower(name) collate "C", id): with the C collation, a LIKE 'prefix%' on
  // it is an index range, and each filter's index below returns rows already in that order.
  (t) => [
    index('organizations_name_lower').on(sql`(lower(${t.name}) collate "C")`, t.id),
    index('organizations_tier').on(t.planTier, sql`(lower(${t.name}) collate "C")`, t.id),
    index('organizations_status').on(t.status, sql`(lower(${t.name}) collate "C")`, t.id),
  ],
);
