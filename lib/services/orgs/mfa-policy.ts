import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { orgMfaPolicy, planTiers } from '@/db/schema';
import { sameValues, unchanged, withAudit } from '@/lib/audit';
import { dualControlled, requireSecondPerson } from '@/lib/approvals/gate';
import { requireActingFor } from '@/lib/auth/acting';
import { requirePermission } from '@/lib/auth/permissions';
import { requireFreshAuth, type StaffCtx } from '@/lib/auth/session';
import { NotFoundError, parseInput, ValidationError } from '@/lib/errors';
import { MFA_METHOD_LABELS, MFA_METHODS, type MfaMethod } from '@/lib/plans';
import { orgConfig } from '@/lib/queries/org-config';
import { checkVersion, notifyOrgChanged } from './common';
import { text } from '@/lib/text';

const Input = z.object({
  orgId: z.uuid('Choose an organisation.'),
  /** true: drop the organisation's override, so the tier's default applies. */
  useTierDefault: z.boolean().default(false),
  required: z.boolean('Say whether MFA is required.').optional(),
  methods: z
    .array(z.enum(MFA_METHODS, `Choose from ${Object.values(MFA_METHOD_LABELS).join(', ')}.`))
    .min(1, 'Allow at least one method.')
    .refine((m) => new Set(m).size === m.length, 'List each method once.')
    .optional(),
  reason: text().trim().max(500).optional(),
  /** The override's version the editor saw, or null when there was none. */
  version: z.int().min(1).nullable(),
});

interface Policy {
  required: boolean;
  methods: MfaMethod[];
}

/** Weaker: MFA no longer required, or any method allowed that was not allowed before. */
export function weakens(before: Policy, after: Policy): boolean {
  return (before.required && !after.required) || after.methods.some((m) => !before.methods.includes(m));
}

/**
 * Sets an organisation's MFA policy override, or drops it for the tier default (acting context, step-up).
 * A weakening change needs a reason and is marked as weakening in the audit entry.
 */
export const setMfaPolicy = dualControlled('org.mfa_policy', async (ctx: StaffCtx, raw: unknown) => {
  requirePermission(ctx, 'orgs.mfa_policy.write');
  const input = parseInput(Input, raw);
  requireActingFor(ctx, input.orgId);
  requireFreshAuth(ctx);
  if (!input.useTierDefault && (input.required === undefined || input.methods === undefined)) {
    throw new ValidationError({
      ...(input.required === undefined && { required: 'Say whether MFA is required.' }),
      ...(input.methods === undefined && { methods: 'Allow at least one method.' }),
    });
  }
  return withAudit(
    ctx,
    {
      action: 'org.mfa_policy.updated',
      orgId: input.orgId,
      targetType: 'organization',
      targetId: input.orgId,
    },
    async (tx, audit) => {
      const [current] = await tx
        .select()
        .from(orgMfaPolicy)
        .where(eq(orgMfaPolicy.orgId, input.orgId))
        .for('update');
      checkVersion(current, input.version, 'this MFA policy');
      const before = await orgConfig(tx, input.orgId);
      if (!before) throw new NotFoundError('No such organisation.');
      let after: Policy;
      if (input.useTierDefault) {
        const [tier] = await tx.select().from(planTiers).where(eq(planTiers.key, before.plan_tier));
        after = { required: tier!.mfaRequired, methods: tier!.mfaAllowedMethods };
      } else {
        after = { required: input.required!, methods: input.methods! };
      }
      const beforePolicy = { required: before.mfa_required, methods: before.mfa_allowed_methods };
      const source = input.useTierDefault ? 'tier' : 'org';
      // The same policy from the same source: a different order of the methods is no change either.
      const sorted = (p: Policy) => ({ required: p.required, methods: [...p.methods].sort() });
      if (source === before.mfa_source && sameValues(sorted(beforePolicy), sorted(after))) {
        return unchanged(
          source === 'tier'
            ? 'the organisation follows its tier’s MFA policy already.'
            : 'this is the organisation’s MFA policy already.',
        );
      }
      const weakening = weakens(beforePolicy, after);
      if (weakening && (input.reason ?? '').length < 10) {
        throw new ValidationError({
          reason: 'This change weakens the MFA policy: say why (at least 10 characters).',
        });
      }
      if (input.useTierDefault) {
        await tx.delete(orgMfaPolicy).where(eq(orgMfaPolicy.orgId, input.orgId));
      } else if (current) {
        await tx
          .update(orgMfaPolicy)
          .set({
            required: after.required,
            allowedMethods: after.methods,
            updatedAt: sql`now()`,
            version: sql`${orgMfaPolicy.version} + 1`,
          })
          .where(eq(orgMfaPolicy.orgId, input.orgId));
      } else {
        await tx
          .insert(orgMfaPolicy)
          .values({ orgId: input.orgId, required: after.required, allowedMethods: after.methods });
      }
      await notifyOrgChanged(tx, input.orgId);
      audit.diff({ ...beforePolicy, source: before.mfa_source }, { ...after, source });
      audit.detail({ weakening, ...(input.reason && { reason: input.reason }) });
      requireSecondPerson(ctx, weakening ? 'mfa_weakening' : 'mfa_policy_change', {
        permission: 'orgs.mfa_policy.write',
        summary: `${weakening ? 'Weaken' : 'Change'} the MFA policy of ${before.slug}`,
        orgId: input.orgId,
        diff: audit.toDiff(),
      });
      return orgConfig(tx, input.orgId);
    },
  );
});
