import { index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { inferenceMode } from './enums';
import { organizations } from './organizations';

export const outposts = pgTable(
  'outposts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orgId: uuid('org_id')
      .notNull()
      .references(() => organizations.id),
    name: text('name').notNull(),
    region: text('region').notNull(),
    /** Vendor-only (ADR-013): only a superadmin changes it; no customer path touches it. */
    inferenceMode: inferenceMode('inference_mode').notNull().default('gpu'),
    lastHeartbeatAt: timestamp('last_heartbeat_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (t) => [index('outposts_org').on(t.orgId)],
);
