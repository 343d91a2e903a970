import type { StaffCtx } from '@/lib/auth/session';
import { rotateSigningKey } from '@/lib/services/acting/platform-tokens';
import { rotateCheckpointKey, rotateHmacKey } from '@/lib/services/audit/keys';
import { setEntitlements } from '@/lib/services/orgs/entitlements';
import { setMfaPolicy } from '@/lib/services/orgs/mfa-policy';
import { setOutpostInferenceMode } from '@/lib/services/orgs/outpost-mode';
import { setPlanTier } from '@/lib/services/orgs/plan-tier';
import { createRateLimitOverride } from '@/lib/services/orgs/rate-limit-override';
import { setRateLimits } from '@/lib/services/orgs/rate-limits';
import { setSuspended } from '@/lib/services/orgs/suspension';
import { setPlanDefaults } from '@/lib/services/plans/plan-defaults';
import { inviteStaff } from '@/lib/services/staff/invites';
import { changeRole, setStaffStatus } from '@/lib/services/staff/manage';

/**
 * The service verbs that may need a second person, by the name their `dualControlled` wrapper stores in a
 * request. An approval runs the verb named here, with the stored input, as the approver.
 */
export const DUAL_CONTROLLED_VERBS: Record<string, (ctx: StaffCtx, raw?: unknown) => Promise<unknown>> = {
  'org.suspension': setSuspended,
  'org.rate_limits': setRateLimits,
  'org.rate_limit_override': createRateLimitOverride,
  'org.mfa_policy': setMfaPolicy,
  'org.entitlements': setEntitlements,
  'org.outpost_mode': setOutpostInferenceMode,
  'org.plan_tier': setPlanTier,
  'plan.defaults': setPlanDefaults,
  'staff.invite': inviteStaff,
  'staff.role': changeRole,
  'staff.status': setStaffStatus,
  'audit.hmac_key': rotateHmacKey,
  'audit.checkpoint_key': rotateCheckpointKey,
  'platform.signing_key': rotateSigningKey,
};
