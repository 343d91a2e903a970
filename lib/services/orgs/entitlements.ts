import { count, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { enterpriseEntitlements, outposts } from '@/db/schema';
import { sameValues, unchanged, withAudit } from '@/lib/audit';
import { dualControlled, requireSecondPerson } from '@/lib/approvals/gate';
import { requireActingFor } from '@/lib/auth/acting';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { AppError, parseInput, ValidationError } from '@/lib/errors';
import { ENTERPRISE_TIERS, RETENTION_DAYS, SIEM_CONNECTORS, TIER_LABELS } from '@/lib/plans';
import { checkVersion, lockOrg, notifyOrgChanged } from './common';
import { text } from '@/lib/text';

const Input = z.object({
  orgId: z.uuid('Choose an organisation.'),
  maxOutposts: z.int('Enter a whole number.').min(0, 'At least 0.').max(100, 'At most 100.'),
  ssoEnabled: z.boolean('Say whether SSO is enabled.'),
  scimEnabled: z.boolean('Say whether SCIM is enabled.'),
  siemConnectors: z
    .array(z.enum(SIEM_CONNECTORS, 'Choose SIEM connectors from the list.'))
    .refine((c) => new Set(c).size === c.length, 'List each connector once.'),
  auditRetentionDays: z
    .int('Enter a whole number of days.')
    .min(RETENTION_DAYS.min, `At least ${RETENTION_DAYS.min} days.`)
    .max(RETENTION_DAYS.max, `At most ${RETENTION_DAYS.max} days (10 years).`),
  dedicatedSupport: z.boolean('Say whether dedicated support is included.'),
  contractRef: text()
    .trim()
    .max(100, 'At most 100 characters.')
    .nullish()
    .transform((v) => v || null),
  /** The entitlements row's version the editor saw, or null when there was none. */
  version: z.int('Send the version you edited.').min(1).nullable(),
});

/** The typed entitlements, without the key and version, as the audit entry shows them. */
function values(row: typeof enterpriseEntitlements.$inferSelect | undefined) {
  if (!row) return null;
  const { orgId: _orgId, version: _version, ...rest } = row;
  return rest;
}

/** Sets an enterprise organisation's entitlements (acting context). Other tiers may hold none: 409. */
type Entitlements = ReturnType<typeof values>;

/** Takes something away: a feature switched off, a connector dropped, or an allowance lowered. */
export function removesEntitlement(before: Entitlements, after: Entitlements): boolean {
  if (!before || !after) return false;
  return (
    (before.ssoEnabled && !after.ssoEnabled) ||
    (before.scimEnabled && !after.scimEnabled) ||
    (before.dedicatedSupport && !after.dedicatedSupport) ||
    before.siemConnectors.some((c) => !after.siemConnectors.includes(c)) ||
    after.maxOutposts < before.maxOutposts ||
    after.auditRetentionDays < before.auditRetentionDays
  );
}

export const setEntitlements = dualControlled('org.entitlements', async (ctx: StaffCtx, raw: unknown) => {
  requirePermission(ctx, 'orgs.entitlements.write');
  const input = parseInput(Input, raw);
  requireActingFor(ctx, input.orgId);
  const { orgId, version, ...entitlements } = input;
  return withAudit(
    ctx,
    { action: 'org.entitlements.updated', orgId, targetType: 'organization', targetId: orgId },
    async (tx, audit) => {
      // Locked so the tier cannot change under this write (setPlanTier locks the same row).
      const org = await lockOrg(tx, orgId);
      if (!ENTERPRISE_TIERS.has(org.planTier)) {
        throw new AppError(
          409,
          'not_enterprise_tier',
          `${org.name} is on ${TIER_LABELS[org.planTier]}; only the enterprise tiers hold entitlements.`,
          { planTier: org.planTier },
        );
      }
      const [current] = await tx
        .select()
        .from(enterpriseEntitlements)
        .where(eq(enterpriseEntitlements.orgId, orgId))
        .for('update');
      checkVersion(current, version, 'these entitlements');
      if (
        current &&
        sameValues(values(current), values({ orgId, version: current.version, ...entitlements }))
      ) {
        return unchanged('these are the organisation’s entitlements already.');
      }
      const [existing] = await tx.select({ n: count() }).from(outposts).where(eq(outposts.orgId, orgId));
      if (entitlements.maxOutposts < existing!.n) {
        throw new ValidationError({
          maxOutposts: `The organisation already runs ${existing!.n} Outposts; allow at least that many.`,
        });
      }
      const [after] = current
        ? await tx
            .update(enterpriseEntitlements)
            .set({ ...entitlements, version: sql`${enterpriseEntitlements.version} + 1` })
            .where(eq(enterpriseEntitlements.orgId, orgId))
            .returning()
        : await tx
            .insert(enterpriseEntitlements)
            .values({ orgId, ...entitlements })
            .returning();
      await notifyOrgChanged(tx, orgId);
      audit.diff(values(current), values(after));
      requireSecondPerson(
        ctx,
        removesEntitlement(values(current), values(after)) ? 'entitlement_removal' : 'entitlements_change',
        {
          permission: 'orgs.entitlements.write',
          summary: `Change the enterprise entitlements of ${org.name}`,
          orgId,
          orgVersion: org.version,
          diff: audit.toDiff(),
        },
      );
      return after!;
    },
  );
});
