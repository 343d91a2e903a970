import { and, desc, eq, gt, isNull, sql } from 'drizzle-orm';
import { staffCredentials, staffInvites, staffSessions, staffUsers } from '@/db/schema';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { NotFoundError } from '@/lib/errors';

export async function listStaff(ctx: StaffCtx) {
  requirePermission(ctx, 'staff.read');
  return ctx.db
    .select({
      id: staffUsers.id,
      email: staffUsers.email,
      displayName: staffUsers.displayName,
      role: staffUsers.role,
      status: staffUsers.status,
      createdAt: staffUsers.createdAt,
      // The outer row is named in full: drizzle leaves a single table's columns unqualified, and a bare
      // "id" here would be the inner table's (a credential's text id, compared with a uuid).
      keys: sql<number>`(select count(*)::int from staff_credentials c where c.staff_id = staff_users.id and c.revoked_at is null)`,
      lastSignIn:
        sql<Date | null>`(select max(s.created_at) from staff_sessions s where s.staff_id = staff_users.id)`.mapWith(
          (v: string | Date | null) => (v ? new Date(v) : null),
        ),
    })
    .from(staffUsers)
    .orderBy(staffUsers.email);
}

/** Invitations that can still be used, soonest to expire first. */
export async function listPendingInvites(ctx: StaffCtx) {
  requirePermission(ctx, 'staff.read');
  return ctx.db
    .select({
      id: staffInvites.id,
      email: staffInvites.email,
      role: staffInvites.role,
      createdAt: staffInvites.createdAt,
      expiresAt: staffInvites.expiresAt,
    })
    .from(staffInvites)
    .where(
      and(
        isNull(staffInvites.usedAt),
        isNull(staffInvites.revokedAt),
        gt(staffInvites.expiresAt, sql`now()`),
      ),
    )
    .orderBy(staffInvites.expiresAt);
}

export type KeyView = Awaited<ReturnType<typeof keysOf>>[number];

function keysOf(ctx: StaffCtx, staffId: string) {
  return ctx.db
    .select({
      id: staffCredentials.id,
      nickname: staffCredentials.nickname,
      aaguid: staffCredentials.aaguid,
      createdAt: staffCredentials.createdAt,
      lastUsedAt: staffCredentials.lastUsedAt,
      revokedAt: staffCredentials.revokedAt,
      lockedAt: staffCredentials.lockedAt,
      lockedReason: staffCredentials.lockedReason,
    })
    .from(staffCredentials)
    .where(eq(staffCredentials.staffId, staffId))
    .orderBy(staffCredentials.createdAt);
}

export function myKeys(ctx: StaffCtx) {
  return keysOf(ctx, ctx.staffId);
}

export async function staffDetail(ctx: StaffCtx, staffId: string) {
  requirePermission(ctx, 'staff.read');
  const [staff] = await ctx.db.select().from(staffUsers).where(eq(staffUsers.id, staffId));
  if (!staff) throw new NotFoundError('No such staff member.');
  const sessions = await ctx.db
    .select()
    .from(staffSessions)
    .where(eq(staffSessions.staffId, staffId))
    .orderBy(desc(staffSessions.createdAt))
    .limit(20);
  return { staff, keys: await keysOf(ctx, staffId), sessions };
}
