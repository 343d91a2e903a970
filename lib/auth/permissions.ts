import type { StaffRole } from '@/lib/auth/roles';
import { ForbiddenError } from '@/lib/errors';

/**
 * The one permission matrix (DESIGN section 1). Checks happen nowhere else: pages, route handlers,
 * server actions and services all call `requirePermission`. An acting context adds no rights.
 */
export const PERMISSIONS = [
  // Reads of everything that is not a secret.
  'orgs.read',
  'plans.read',
  'billing.read',
  'audit.read',
  'pool.read',
  // Organisation configuration.
  'orgs.plan_tier.write',
  'orgs.mfa_policy.write',
  'orgs.rate_limits.write',
  'orgs.rate_limits.override',
  /** Overrides longer than a week (up to MAX_OVERRIDE_DAYS); without it, lib/rate-limits.ts caps them. */
  'orgs.rate_limits.override_extended',
  'orgs.entitlements.write',
  'orgs.support_note.write',
  'orgs.outpost_mode.write',
  'orgs.suspend',
  'plans.write',
  // Acting for an organisation.
  'acting.start',
  'acting.list',
  'acting.end_any',
  'platform_token.mint',
  'platform_token.mint_admin',
  // The audit chain.
  'audit.verify',
  'audit.export',
  // Staff and keys.
  'staff.read',
  'staff.manage',
  'keys.rotate',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const READ: Permission[] = ['orgs.read', 'plans.read', 'billing.read', 'audit.read', 'pool.read'];
const ACT: Permission[] = ['acting.start', 'platform_token.mint'];

const ADMIN: Permission[] = [
  ...READ,
  ...ACT,
  'orgs.plan_tier.write',
  'orgs.mfa_policy.write',
  'orgs.rate_limits.write',
  'orgs.rate_limits.override',
  'orgs.rate_limits.override_extended',
  'orgs.entitlements.write',
  'orgs.support_note.write',
  'plans.write',
  'platform_token.mint_admin',
];

export const MATRIX: Readonly<Record<StaffRole, ReadonlySet<Permission>>> = {
  superadmin: new Set(PERMISSIONS),
  admin: new Set(ADMIN),
  support: new Set([...READ, ...ACT, 'orgs.rate_limits.override', 'orgs.support_note.write']),
  billing: new Set([...READ, ...ACT, 'orgs.plan_tier.write', 'orgs.entitlements.write']),
  auditor: new Set([...READ, 'acting.list', 'audit.verify', 'audit.export', 'staff.read']),
};

/** The scopes of a platform API token, and the permission that mints each (besides platform_token.mint). */
export const PLATFORM_SCOPES = ['org:read', 'org:admin'] as const;
export type PlatformScope = (typeof PLATFORM_SCOPES)[number];
export const SCOPE_PERMISSION: Readonly<Record<PlatformScope, Permission>> = {
  'org:read': 'platform_token.mint',
  'org:admin': 'platform_token.mint_admin',
};

/** The roles that hold a permission, for "who may edit this" on the screens. */
export function rolesWith(permission: Permission): StaffRole[] {
  return (Object.keys(MATRIX) as StaffRole[]).filter((role) => MATRIX[role].has(permission));
}

export function can(role: StaffRole, permission: Permission): boolean {
  return MATRIX[role].has(permission);
}

/** `why` tells the refused person what needed the permission, when it is not the whole request. */
export function requirePermission(ctx: { role: StaffRole }, permission: Permission, why?: string): void {
  if (!can(ctx.role, permission)) {
    throw new ForbiddenError(
      `${why ? `${why} ` : ''}Your role (${ctx.role}) does not have the permission ${permission}.`,
    );
  }
}

/**
 * The writes that need a second person (four eyes), each with its reason. The service verb names the rule
 * when its write falls under it; the requester's write is then stored as a request, and another staff member
 * with the verb's permission executes it (lib/approvals). A deployment may add OPTIONAL_DUAL_CONTROL rules
 * (APPROVAL_EXTRA_RULES), never remove these.
 */
export const DUAL_CONTROL = {
  kill_switch:
    'Suspending or resuming an organisation cuts off, or lets back in, every one of its users at once.',
  blocking_limit: 'A limit of 0 blocks the organisation, like the kill switch.',
  mfa_weakening: 'A weaker MFA policy lowers the protection of every account of the organisation.',
  entitlement_removal: 'Removing an enterprise entitlement takes away a contracted capability.',
  outpost_cpu_trial: 'The CPU trial is vendor-only: it runs a customer Outpost outside its GPU contract.',
  privileged_staff:
    'An admin or superadmin can change every customer: granting the role is not one person’s call.',
  last_superadmin_peer:
    'Disabling or demoting a superadmin so that only one active superadmin remains leaves nobody to check them.',
  key_rotation:
    'The HMAC, checkpoint and token-signing keys are what the audit record and the platform trust.',
} as const;

/** Rules a stricter deployment may add to DUAL_CONTROL (APPROVAL_EXTRA_RULES). */
export const OPTIONAL_DUAL_CONTROL = {
  plan_tier_change: 'Every change of an organisation’s plan tier.',
  mfa_policy_change: 'Every change of an organisation’s MFA policy.',
  entitlements_change: 'Every change of an organisation’s enterprise entitlements.',
  staff_invite: 'Every staff invitation, whatever the role.',
} as const;

export type DualControlRule = keyof typeof DUAL_CONTROL | keyof typeof OPTIONAL_DUAL_CONTROL;

export function dualControlReason(rule: DualControlRule): string {
  return rule in DUAL_CONTROL
    ? DUAL_CONTROL[rule as keyof typeof DUAL_CONTROL]
    : OPTIONAL_DUAL_CONTROL[rule as keyof typeof OPTIONAL_DUAL_CONTROL];
}
