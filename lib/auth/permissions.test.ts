import { describe, expect, it } from 'vitest';
import { ForbiddenError } from '@/lib/errors';
import { can, PERMISSIONS, requirePermission } from './permissions';
import { STAFF_ROLES, type StaffRole } from './roles';

// The expected matrix, written out cell by cell from DESIGN section 1, so that any change to
// lib/auth/permissions.ts has to be made here too, on purpose.
const Y = true;
const N = false;
// prettier-ignore
const EXPECTED: Record<(typeof PERMISSIONS)[number], [superadmin: boolean, admin: boolean, support: boolean, billing: boolean, auditor: boolean]> = {
  'orgs.read':                 [Y, Y, Y, Y, Y],
  'plans.read':                [Y, Y, Y, Y, Y],
  'billing.read':              [Y, Y, Y, Y, Y],
  'audit.read':                [Y, Y, Y, Y, Y],
  'pool.read':                 [Y, Y, Y, Y, Y],
  'orgs.plan_tier.write':      [Y, Y, N, Y, N],
  'orgs.mfa_policy.write':     [Y, Y, N, N, N],
  'orgs.rate_limits.write':    [Y, Y, N, N, N],
  'orgs.rate_limits.override': [Y, Y, Y, N, N],
  'orgs.rate_limits.override_extended': [Y, Y, N, N, N],
  'orgs.entitlements.write':   [Y, Y, N, Y, N],
  'orgs.support_note.write':   [Y, Y, Y, N, N],
  'orgs.outpost_mode.write':   [Y, N, N, N, N],
  'orgs.suspend':              [Y, N, N, N, N],
  'plans.write':               [Y, Y, N, N, N],
  'acting.start':              [Y, Y, Y, Y, N],
  'acting.list':               [Y, N, N, N, Y],
  'acting.end_any':            [Y, N, N, N, N],
  'platform_token.mint':       [Y, Y, Y, Y, N],
  'platform_token.mint_admin': [Y, Y, N, N, N],
  'audit.verify':              [Y, N, N, N, Y],
  'audit.export':              [Y, N, N, N, Y],
  'staff.read':                [Y, N, N, N, Y],
  'staff.manage':              [Y, N, N, N, N],
  'keys.rotate':               [Y, N, N, N, N],
};

describe('the permission matrix', () => {
  it('lists every permission exactly once in the expected matrix', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...PERMISSIONS].sort());
  });

  const cells = STAFF_ROLES.flatMap((role, column) =>
    PERMISSIONS.map((permission) => [role, permission, EXPECTED[permission][column]!] as const),
  );

  it.each(cells)('%s × %s → %s', (role: StaffRole, permission, allowed) => {
    expect(can(role, permission)).toBe(allowed);
    if (allowed) expect(() => requirePermission({ role }, permission)).not.toThrow();
    else expect(() => requirePermission({ role }, permission)).toThrow(ForbiddenError);
  });

  it('never lets an auditor act for an organisation', () => {
    expect(can('auditor', 'acting.start')).toBe(false);
    expect(can('auditor', 'platform_token.mint')).toBe(false);
  });
});
