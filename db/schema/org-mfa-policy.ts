import { sql } from 'drizzle-orm';
import { boolean, check, integer, pgTable, timestamp, uuid } from 'drizzle-orm/pg-core';
import { mfaMethod } from './enums';
import { organizations } from './organizations';

/** An organisation's override of its tier's MFA policy. No row: the tier default applies. */
export const orgMfaPolicy = pgTable(
  'org_mfa_policy',
  {
    orgId: uuid('org_id')
      .primaryKey()
      .references(() => organizations.id),
    required: boolean('required').notNull(),
    /** All three methods means "any MFA". */
    allowedMethods: mfaMethod('allowed_methods').array().notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    version: integer('version').notNull().default(1),
  },
  (t) => [check('org_mfa_policy_methods_nonempty', sql`cardinality(${t.allowedMethods}) > 0`)],
);
