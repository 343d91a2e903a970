import { and, desc, eq, getTableColumns, gt, gte, isNull, sql } from 'drizzle-orm';
import {
  auditLog,
  enterpriseEntitlements,
  organizations,
  orgMfaPolicy,
  outposts,
  planTiers,
  rateLimitOverrides,
  rateLimits,
  staffUsers,
  supportNotes,
  usageMonthly,
} from '@/db/schema';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { NotFoundError } from '@/lib/errors';
import { orgConfig } from '@/lib/queries/org-config';

export async function listOrgs(ctx: StaffCtx) {
  requirePermission(ctx, 'orgs.read');
  return ctx.db
    .select({
      id: organizations.id,
      name: organizations.name,
      slug: organizations.slug,
      planTier: organizations.planTier,
      status: organizations.status,
    })
    .from(organizations)
    .orderBy(organizations.name)
    .limit(200);
}

export async function orgDetail(ctx: StaffCtx, orgId: string) {
  requirePermission(ctx, 'orgs.read');
  const [org] = await ctx.db.select().from(organizations).where(eq(organizations.id, orgId));
  if (!org) throw new NotFoundError('No such organisation.');
  const [
    config,
    [tier],
    [mfaOverride],
    [limits],
    overrides,
    [entitlements],
    orgOutposts,
    usage,
    notes,
    audit,
  ] = await Promise.all([
    orgConfig(ctx.db, orgId),
    ctx.db.select().from(planTiers).where(eq(planTiers.key, org.planTier)),
    ctx.db.select().from(orgMfaPolicy).where(eq(orgMfaPolicy.orgId, orgId)),
    ctx.db.select().from(rateLimits).where(eq(rateLimits.orgId, orgId)),
    liveOverrides(ctx, orgId),
    ctx.db.select().from(enterpriseEntitlements).where(eq(enterpriseEntitlements.orgId, orgId)),
    ctx.db.select().from(outposts).where(eq(outposts.orgId, orgId)).orderBy(outposts.name),
    ctx.db
      .select({ month: usageMonthly.month, requests: usageMonthly.requests, tokens: usageMonthly.tokens })
      .from(usageMonthly)
      .where(
        and(
          eq(usageMonthly.orgId, orgId),
          gte(usageMonthly.month, sql`date_trunc('month', now()) - interval '11 months'`),
        ),
      )
      .orderBy(usageMonthly.month),
    ctx.db
      .select({
        id: supportNotes.id,
        body: supportNotes.body,
        createdAt: supportNotes.createdAt,
        author: staffUsers.email,
      })
      .from(supportNotes)
      .innerJoin(staffUsers, eq(staffUsers.id, supportNotes.staffId))
      .where(eq(supportNotes.orgId, orgId))
      .orderBy(desc(supportNotes.createdAt))
      .limit(50),
    ctx.db.select().from(auditLog).where(eq(auditLog.orgId, orgId)).orderBy(desc(auditLog.seq)).limit(50),
  ]);
  return {
    org,
    config: config!,
    tier: tier!,
    mfaOverride: mfaOverride ?? null,
    limits: limits ?? null,
    overrides,
    entitlements: entitlements ?? null,
    outposts: orgOutposts,
    usage,
    notes,
    audit,
  };
}

/** Overrides not yet revoked or expired, newest first; the first is the one in force (as the view picks it). */
function liveOverrides(ctx: StaffCtx, orgId: string) {
  return ctx.db
    .select({ ...getTableColumns(rateLimitOverrides), createdByEmail: staffUsers.email })
    .from(rateLimitOverrides)
    .innerJoin(staffUsers, eq(staffUsers.id, rateLimitOverrides.createdBy))
    .where(
      and(
        eq(rateLimitOverrides.orgId, orgId),
        isNull(rateLimitOverrides.revokedAt),
        gt(rateLimitOverrides.expiresAt, sql`now()`),
      ),
    )
    .orderBy(desc(rateLimitOverrides.createdAt));
}
