import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { planTiers } from '@/db/schema';
import { sameValues, unchanged, withAudit } from '@/lib/audit';
import { dualControlled, requireSecondPerson } from '@/lib/approvals/gate';
import { weakens } from '@/lib/services/orgs/mfa-policy';
import { requirePermission } from '@/lib/auth/permissions';
import { requireFreshAuth, type StaffCtx } from '@/lib/auth/session';
import { ConflictError, parseInput } from '@/lib/errors';
import { num } from '@/lib/format';
import { MFA_METHOD_LABELS, MFA_METHODS, PLAN_TIERS } from '@/lib/plans';
import { LIMIT_MAX } from '@/lib/rate-limits';
import { text } from '@/lib/text';

const positive = (max: number) =>
  z
    .int('Enter a whole number.')
    .min(1, 'A tier default must be at least 1.')
    .max(max, `At most ${num(max)}.`);

const Input = z.object({
  tier: z.enum(PLAN_TIERS, 'Choose one of the five plan tiers.'),
  label: text().trim().min(2, 'Give the tier a label.').max(60),
  monthlyRequestQuota: positive(LIMIT_MAX.monthlyRequestQuota),
  requestsPerMinute: positive(LIMIT_MAX.requestsPerMinute),
  tokensPerMinute: positive(LIMIT_MAX.tokensPerMinute),
  concurrentRequests: positive(LIMIT_MAX.concurrentRequests),
  mfaRequired: z.boolean(),
  mfaAllowedMethods: z
    .array(z.enum(MFA_METHODS, `Choose from ${Object.values(MFA_METHOD_LABELS).join(', ')}.`))
    .min(1, 'Allow at least one method.')
    .refine((m) => new Set(m).size === m.length, 'List each method once.'),
  version: z.int('Send the version you edited.').min(1),
});

/**
 * Edits a plan tier's defaults (admin, step-up). The five keys are fixed; only their defaults change.
 * Every organisation on the tier without its own value follows, so the gateway is told with one
 * notification naming the tier (docs/PLATFORM_CONTRACT.md).
 */
export const setPlanDefaults = dualControlled('plan.defaults', async (ctx: StaffCtx, raw: unknown) => {
  requirePermission(ctx, 'plans.write');
  const input = parseInput(Input, raw);
  requireFreshAuth(ctx);
  return withAudit(
    ctx,
    { action: 'plan.defaults.updated', targetType: 'plan_tier', targetId: input.tier },
    async (tx, audit) => {
      const [before] = await tx.select().from(planTiers).where(eq(planTiers.key, input.tier)).for('update');
      if (before!.version !== input.version) {
        throw new ConflictError(
          'Someone changed this tier since you loaded the page. Review the current values.',
          before,
        );
      }
      const { tier: _tier, version: _version, ...values } = input;
      const current = Object.fromEntries(
        Object.keys(values).map((k) => [k, before![k as keyof typeof values]]),
      );
      if (sameValues(current, values))
        return unchanged(`these are the ${before!.label} tier’s defaults already.`);
      const [after] = await tx
        .update(planTiers)
        .set({ ...values, version: sql`${planTiers.version} + 1` })
        .where(eq(planTiers.key, input.tier))
        .returning();
      await tx.execute(sql`select pg_notify('org_config_changed', ${`tier:${input.tier}`})`);
      const { version: _v1, ...b } = before!;
      const { version: _v2, ...a } = after!;
      audit.diff(b, a);
      const weakening = weakens(
        { required: before!.mfaRequired, methods: before!.mfaAllowedMethods },
        { required: after!.mfaRequired, methods: after!.mfaAllowedMethods },
      );
      requireSecondPerson(ctx, weakening && 'mfa_weakening', {
        permission: 'plans.write',
        summary: `Weaken the default MFA policy of the tier ${input.tier}`,
        diff: audit.toDiff(),
      });
      return after!;
    },
  );
});
