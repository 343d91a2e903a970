import { bigint, date, index, pgTable, primaryKey, uuid } from 'drizzle-orm/pg-core';
import { organizations } from './organizations';

/** Written by the platform; the portal only reads it. `month` is the first day of the month. */
export const usageMonthly = pgTable(
  'usage_monthly',
  {
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    month: date('month').notNull(),
    requests: bigint('requests', { mode: 'number' }).notNull(),
    tokens: bigint('tokens', { mode: 'number' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.orgId, t.month] }),
    // /orgs sorted by usage walks this backwards: one month's rows by (requests, org_id), most first.
    index('usage_monthly_month_requests').on(t.month, t.requests, t.orgId),
  ],
);
