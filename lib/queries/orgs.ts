import { desc, eq } from 'drizzle-orm';
import { auditLog, organizations, orgMfaPolicy, planTiers, staffUsers, supportNotes } from '@/db/schema';
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
  const config = (await orgConfig(ctx.db, orgId))!;
  const [tier] = await ctx.db.select().from(planTiers).where(eq(planTiers.key, org.planTier));
  const [mfaOverride] = await ctx.db.select().from(orgMfaPolicy).where(eq(orgMfaPolicy.orgId, orgId));
  const audit = await ctx.db
    .select()
    .from(auditLog)
    .where(eq(auditLog.orgId, orgId))
    .orderBy(desc(auditLog.seq))
    .limit(50);
  const notes = await ctx.db
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
    .limit(50);
  return { org, config, tier: tier!, mfaOverride: mfaOverride ?? null, notes, audit };
}
