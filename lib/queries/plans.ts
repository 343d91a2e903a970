import { planTiers } from '@/db/schema';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { PLAN_TIERS } from '@/lib/plans';

/** The five tiers with their defaults, in their canonical order. */
export async function listPlanTiers(ctx: StaffCtx) {
  requirePermission(ctx, 'plans.read');
  const rows = await ctx.db.select().from(planTiers);
  return PLAN_TIERS.map((key) => rows.find((r) => r.key === key)!);
}
