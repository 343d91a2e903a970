import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { organizations } from '@/db/schema';
import { unchanged, withAudit } from '@/lib/audit';
import { dualControlled, requireSecondPerson } from '@/lib/approvals/gate';
import { requireActingFor } from '@/lib/auth/acting';
import { requirePermission } from '@/lib/auth/permissions';
import { BLOCKING_STEP_UP_MAX_AGE_S, requireFreshAuth, type StaffCtx } from '@/lib/auth/session';
import { parseInput, ValidationError } from '@/lib/errors';
import { bumpOrgVersion, lockOrg, notifyOrgChanged } from './common';
import { text } from '@/lib/text';

const Input = z.object({
  orgId: z.uuid('Choose an organisation.'),
  suspended: z.boolean('Say whether to suspend or resume the organisation.'),
  reason: text().trim().min(10, 'Say why (at least 10 characters).').max(500),
  version: z.int('Send the version you edited.').min(1),
});

/**
 * The kill switch: suspends an organisation, with the reason the gateway and the portal show, or resumes
 * it (superadmin, acting context, step-up: within the last minute for a suspension).
 */
export const setSuspended = dualControlled('org.suspension', async (ctx: StaffCtx, raw: unknown) => {
  requirePermission(ctx, 'orgs.suspend');
  const input = parseInput(Input, raw);
  requireActingFor(ctx, input.orgId);
  requireFreshAuth(ctx, input.suspended ? BLOCKING_STEP_UP_MAX_AGE_S : undefined);
  return withAudit(
    ctx,
    {
      action: input.suspended ? 'org.suspended' : 'org.resumed',
      orgId: input.orgId,
      targetType: 'organization',
      targetId: input.orgId,
    },
    async (tx, audit) => {
      const org = await lockOrg(tx, input.orgId, input.version);
      if ((org.status === 'suspended') === input.suspended) {
        // Resuming an active organisation, or suspending a suspended one for the reason it has: no-ops.
        if (!input.suspended || org.suspendedReason === input.reason) {
          return unchanged(`${org.name} is already ${input.suspended ? 'suspended' : 'active'}.`);
        }
        throw new ValidationError({
          suspended: `The organisation is already suspended, for another reason. Resume it first to suspend it for this one.`,
        });
      }
      await tx
        .update(organizations)
        .set(
          input.suspended
            ? { status: 'suspended', suspendedReason: input.reason }
            : { status: 'active', suspendedReason: null },
        )
        .where(eq(organizations.id, org.id));
      const after = await bumpOrgVersion(tx, org.id);
      await notifyOrgChanged(tx, org.id);
      audit.diff(
        { status: org.status, suspendedReason: org.suspendedReason },
        { status: after.status, suspendedReason: after.suspendedReason },
      );
      audit.detail({ reason: input.reason });
      requireSecondPerson(ctx, 'kill_switch', {
        permission: 'orgs.suspend',
        summary: `${input.suspended ? 'Suspend' : 'Resume'} ${org.name}`,
        orgId: org.id,
        orgVersion: org.version,
        diff: audit.toDiff(),
      });
      return after;
    },
  );
});
