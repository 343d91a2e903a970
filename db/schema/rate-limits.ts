import { bigint, integer, pgTable, uuid } from 'drizzle-orm/pg-core';
import { organizations } from './organizations';

/** An organisation's own limits. A null column, or no row, means the tier default applies. */
export const rateLimits = pgTable('rate_limits', {
  orgId: uuid('org_id')
    .primaryKey()
    .references(() => organizations.id),
  requestsPerMinute: integer('requests_per_minute'),
  tokensPerMinute: integer('tokens_per_minute'),
  concurrentRequests: integer('concurrent_requests'),
  monthlyRequestQuota: bigint('monthly_request_quota', { mode: 'number' }),
  version: integer('version').notNull().default(1),
});
