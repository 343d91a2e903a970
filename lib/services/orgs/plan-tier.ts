import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { enterpriseEntitlements, organizations } from '@/db/schema';
import { unchanged, withAudit } from '@/lib/audit';
import { dualControlled, requireSecondPerson } from '@/lib/approvals/gate';
import { requireActingFor } from '@/lib/auth/acting';
import { requirePermission } from '@/lib/auth/permissions';
import { requireFreshAuth, type StaffCtx } from '@/lib/auth/session';
import { AppError, parseInput } from '@/lib/errors';
import { ENTERPRISE_TIERS, PLAN_TIERS, TIER_LABELS } from '@/lib/plans';
import { bumpOrgVersion, lockOrg, notifyOrgChanged } from './common';

const Input = z.object({
  orgId: z.uuid('Choose an organisation.'),
  planTier: z.enum(PLAN_TIERS, 'Choose one of the five plan tiers.'),
  version: z.int('Send the version you edited.').min(1),
  /** Required, and true, when leaving an enterprise tier with entitlements: they are deleted. */
  removeEntitlements: z.boolean().optional(),
});

/**
 * Moves an organisation to another plan tier (acting context, step-up). Leaving the enterprise tiers
 * while it has entitlements must say explicitly that they are removed; they are kept in the audit entry.
 */
export const setPlanTier = dualControlled('org.plan_tier', async (ctx: StaffCtx, raw: unknown) => {
  requirePermission(ctx, 'orgs.plan_tier.write');
  const input = parseInput(Input, raw);
  requireActingFor(ctx, input.orgId);
  requireFreshAuth(ctx);
  return withAudit(
    ctx,
    {
      action: 'org.plan_tier.updated',
      orgId: input.orgId,
      targetType: 'organization',
      targetId: input.orgId,
    },
    async (tx, audit) => {
      const org = await lockOrg(tx, input.orgId, input.version);
      if (org.planTier === input.planTier) {
        return unchanged(`${org.name} is already on ${TIER_LABELS[org.planTier]}.`);
      }
      const [entitlements] = await tx
        .select()
        .from(enterpriseEntitlements)
        .where(eq(enterpriseEntitlements.orgId, org.id));
      if (entitlements && !ENTERPRISE_TIERS.has(input.planTier)) {
        if (input.removeEntitlements !== true) {
          throw new AppError(
            409,
            'entitlements_decision_required',
            `${org.name} has enterprise entitlements, which only enterprise tiers may hold. Confirm that they are removed with the move to ${input.planTier}.`,
            { entitlements },
          );
        }
        await tx.delete(enterpriseEntitlements).where(eq(enterpriseEntitlements.orgId, org.id));
        audit.detail({ removed_entitlements: entitlements });
      }
      await tx.update(organizations).set({ planTier: input.planTier }).where(eq(organizations.id, org.id));
      const after = await bumpOrgVersion(tx, org.id);
      await notifyOrgChanged(tx, org.id);
      audit.diff({ plan_tier: org.planTier }, { plan_tier: after.planTier });
      requireSecondPerson(
        ctx,
        entitlements && input.removeEntitlements ? 'entitlement_removal' : 'plan_tier_change',
        {
          permission: 'orgs.plan_tier.write',
          summary: `Move ${org.name} to ${input.planTier}`,
          orgId: org.id,
          orgVersion: org.version,
          diff: audit.toDiff(),
        },
      );
      return after;
    },
  );
});
