import { asc, count, desc, eq, inArray } from 'drizzle-orm';
import { organizations, outposts } from '@/db/schema';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';

/** How many Outposts the pool view lists at most; it says so when there are more. */
export const OUTPOSTS_LIMIT = 1000;

/**
 * Every Outpost with its organisation and inference mode, for the GPU pool view: CPU trials first (the
 * exceptions), then by organisation and name.
 */
export async function listOutposts(ctx: StaffCtx) {
  requirePermission(ctx, 'pool.read');
  const [rows, [total]] = await Promise.all([
    ctx.db
      .select({
        id: outposts.id,
        name: outposts.name,
        region: outposts.region,
        inferenceMode: outposts.inferenceMode,
        lastHeartbeatAt: outposts.lastHeartbeatAt,
        version: outposts.version,
        orgId: organizations.id,
        orgName: organizations.name,
        orgSlug: organizations.slug,
      })
      .from(outposts)
      .innerJoin(organizations, eq(organizations.id, outposts.orgId))
      .orderBy(desc(outposts.inferenceMode), asc(organizations.name), asc(outposts.name))
      .limit(OUTPOSTS_LIMIT),
    ctx.db.select({ n: count() }).from(outposts),
  ]);
  return { rows, total: total?.n ?? 0 };
}

/**
 * The organisations with these slugs, by slug: the gateway's fail-closed counter names the organisation by
 * its slug (docs/PLATFORM_CONTRACT.md), and the pool view links each to its page.
 */
export async function orgsBySlug(ctx: StaffCtx, slugs: string[]) {
  requirePermission(ctx, 'pool.read');
  if (!slugs.length) return new Map<string, { id: string; name: string }>();
  const rows = await ctx.db
    .select({ id: organizations.id, slug: organizations.slug, name: organizations.name })
    .from(organizations)
    .where(inArray(organizations.slug, slugs));
  return new Map(rows.map((r) => [r.slug, { id: r.id, name: r.name }]));
}
