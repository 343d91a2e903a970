import { sql } from 'drizzle-orm';
import { bigint, check, index, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { auditOutcome } from './enums';

/**
 * The append-only, HMAC-chained audit log (DESIGN section 6). No foreign keys: an entry must outlive
 * whatever it names. Triggers and grants that forbid UPDATE/DELETE/TRUNCATE are in a custom migration.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    seq: bigint('seq', { mode: 'number' }).primaryKey(),
    id: uuid('id').notNull().unique(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, precision: 3 }).notNull(),
    requestId: text('request_id'),
    actorStaffId: uuid('actor_staff_id'),
    actorEmail: text('actor_email'),
    actingOrgId: uuid('acting_org_id'),
    actingContextId: uuid('acting_context_id'),
    orgId: uuid('org_id'),
    action: text('action').notNull(),
    targetType: text('target_type'),
    targetId: text('target_id'),
    outcome: auditOutcome('outcome').notNull(),
    diff: jsonb('diff'),
    srcIp: text('src_ip'),
    userAgent: text('user_agent'),
    enforcementAction: text('enforcement_action'),
    policyRuleId: text('policy_rule_id'),
    packId: text('pack_id'),
    frameworkRef: text('framework_ref'),
    hmacKeyId: text('hmac_key_id').notNull(),
    prevHmac: text('prev_hmac').notNull().unique(),
    hmac: text('hmac').notNull().unique(),
  },
  (t) => [
    check('audit_log_seq_positive', sql`${t.seq} > 0`),
    check('audit_log_hmac_hex', sql`${t.hmac} ~ '^[0-9a-f]{64}$' and ${t.prevHmac} ~ '^[0-9a-f]{64}$'`),
    // Migration 0007 rebuilds the next three with INCLUDE columns (the explorer's other filters), which
    // drizzle-kit cannot express: index-only scans for combined filters.
    index('audit_log_org').on(t.orgId, t.seq),
    index('audit_log_actor').on(t.actorStaffId, t.seq),
    index('audit_log_acting_context').on(t.actingContextId, t.seq),
    index('audit_log_action').on(t.action, t.seq),
    index('audit_log_occurred').on(t.occurredAt),
  ],
);
