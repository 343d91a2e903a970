import { bigint, date, pgTable, primaryKey, uuid } from 'drizzle-orm/pg-core';
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
  (t) => [primaryKey({ columns: [t.orgId, t.month] })],
);
