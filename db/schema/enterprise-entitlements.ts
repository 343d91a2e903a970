import { boolean, integer, pgTable, text, uuid } from 'drizzle-orm/pg-core';
import { siemConnector } from './enums';
import { organizations } from './organizations';

/** Typed enterprise entitlements (ADR-012: no JSON blobs). Only enterprise tiers may have a row. */
export const enterpriseEntitlements = pgTable('enterprise_entitlements', {
  orgId: uuid('org_id')
    .primaryKey()
    .references(() => organizations.id),
  maxOutposts: integer('max_outposts').notNull().default(0),
  ssoEnabled: boolean('sso_enabled').notNull().default(false),
  scimEnabled: boolean('scim_enabled').notNull().default(false),
  siemConnectors: siemConnector('siem_connectors').array().notNull().default([]),
  auditRetentionDays: integer('audit_retention_days').notNull().default(90),
  dedicatedSupport: boolean('dedicated_support').notNull().default(false),
  contractRef: text('contract_ref'),
  version: integer('version').notNull().default(1),
});
