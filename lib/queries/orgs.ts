import { desc, eq } from 'drizzle-orm';
import { organizations, staffUsers, supportNotes } from '@/db/schema';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { NotFoundError } from '@/lib/errors';

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
  return { org, notes };
}
