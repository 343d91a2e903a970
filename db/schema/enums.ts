import { pgEnum } from 'drizzle-orm/pg-core';
import { STAFF_ROLES } from '@/lib/auth/roles';
import { INFERENCE_MODES, MFA_METHODS, PLAN_TIERS, SIEM_CONNECTORS } from '@/lib/plans';

export { INFERENCE_MODES, MFA_METHODS, PLAN_TIERS, SIEM_CONNECTORS };

/** The five canonical plan tiers (ADR-012), listed in lib/plans.ts. Postgres refuses any other key. */
export const planTier = pgEnum('plan_tier', PLAN_TIERS);

export const staffRole = pgEnum('staff_role', STAFF_ROLES);
export const staffStatus = pgEnum('staff_status', ['active', 'disabled']);

export const orgStatus = pgEnum('org_status', ['active', 'suspended']);

export const mfaMethod = pgEnum('mfa_method', MFA_METHODS);

export const inferenceMode = pgEnum('inference_mode', INFERENCE_MODES);

export const challengePurpose = pgEnum('challenge_purpose', ['registration', 'authentication', 'step_up']);

export const actingEndReason = pgEnum('acting_end_reason', [
  'stopped',
  'expired',
  'superseded',
  'ended_by_admin',
]);

export const siemConnector = pgEnum('siem_connector', SIEM_CONNECTORS);

export const auditOutcome = pgEnum('audit_outcome', ['success', 'denied', 'failure']);

/**
 * pending → approved (a second person executed it) | rejected | withdrawn | expired | failed (the
 * approval's execution was refused, e.g. the organisation changed). break_glass: executed by its requester
 * alone, waiting for another superadmin's review (reviewed_at).
 */
export const approvalStatus = pgEnum('approval_status', [
  'pending',
  'approved',
  'rejected',
  'withdrawn',
  'expired',
  'failed',
  'break_glass',
]);
