import { and, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Tx } from '@/db/client';
import { actingContexts, staffSessions, staffUsers } from '@/db/schema';
import { type AuditRecorder, withAudit } from '@/lib/audit';
import { dualControlled, requireSecondPerson } from '@/lib/approvals/gate';
import { requirePermission } from '@/lib/auth/permissions';
import { STAFF_ROLES } from '@/lib/auth/roles';
import { requireFreshAuth, revokeAllSessions, type StaffCtx } from '@/lib/auth/session';
import { AppError, ConflictError, NotFoundError, parseInput } from '@/lib/errors';

const StaffId = z.uuid('Not a staff id.');
const Version = z.int('Send the version you edited.').min(1);

/** Locks the staff row and checks the version the editor saw; a stale one gets 409 and the current row. */
async function lockStaff(tx: Tx, staffId: string, version: number) {
  const [staff] = await tx.select().from(staffUsers).where(eq(staffUsers.id, staffId)).for('update');
  if (!staff) throw new NotFoundError('No such staff member.');
  if (staff.version !== version) {
    throw new ConflictError(
      'Someone changed this staff member since you loaded the page. Review the current values.',
      {
        role: staff.role,
        status: staff.status,
        version: staff.version,
      },
    );
  }
  return staff;
}

/**
 * There must always be an active superadmin, or nobody could manage staff again. Locks the active
 * superadmins' rows (in id order, before the target's row, so that two such changes cannot deadlock)
 * and returns a check to run once the target is known.
 */
async function lockSuperadmins(tx: Tx) {
  const active = await tx
    .select({ id: staffUsers.id })
    .from(staffUsers)
    .where(and(eq(staffUsers.role, 'superadmin'), eq(staffUsers.status, 'active')))
    .orderBy(staffUsers.id)
    .for('update');
  return (leaving: string) => {
    const remaining = active.filter((s) => s.id !== leaving).length;
    if (remaining === 0) {
      throw new AppError(
        409,
        'last_superadmin',
        'This is the last active superadmin. Make someone else superadmin first.',
      );
    }
    return remaining;
  };
}

const PRIVILEGED = new Set(['admin', 'superadmin']);

/**
 * Ends the staff member's open acting context when their role changes or they are disabled: the context
 * was granted to the old role. One `acting.ended_by_admin` entry per context ended.
 */
async function endActingContexts(tx: Tx, audit: AuditRecorder, staffId: string, by: string, why: string) {
  const ended = await tx
    .update(actingContexts)
    .set({ endedAt: sql`now()`, endedBy: by, endReason: 'ended_by_admin' })
    .where(and(eq(actingContexts.staffId, staffId), isNull(actingContexts.endedAt)))
    .returning();
  for (const ac of ended) {
    audit.also(
      { action: 'acting.ended_by_admin', orgId: ac.orgId, targetType: 'acting_context', targetId: ac.id },
      { staff_id: staffId, ticket_ref: ac.ticketRef, because: why },
    );
  }
  return ended.length;
}

export const changeRole = dualControlled('staff.role', async (ctx: StaffCtx, raw: unknown) => {
  requirePermission(ctx, 'staff.manage');
  const input = parseInput(
    z.object({ staffId: StaffId, role: z.enum(STAFF_ROLES, 'Choose one of the roles.'), version: Version }),
    raw,
  );
  requireFreshAuth(ctx);
  if (input.staffId === ctx.staffId) throw new AppError(409, 'own_role', 'You cannot change your own role.');
  return withAudit(
    ctx,
    { action: 'staff.role_changed', targetType: 'staff_user', targetId: input.staffId },
    async (tx, audit) => {
      const keepASuperadmin = await lockSuperadmins(tx);
      const staff = await lockStaff(tx, input.staffId, input.version);
      const remaining =
        staff.role === 'superadmin' && input.role !== 'superadmin' ? keepASuperadmin(staff.id) : null;
      const [after] = await tx
        .update(staffUsers)
        .set({ role: input.role, version: sql`${staffUsers.version} + 1` })
        .where(eq(staffUsers.id, staff.id))
        .returning();
      const ended = await endActingContexts(tx, audit, staff.id, ctx.staffId, 'staff.role_changed');
      audit.diff({ role: staff.role }, { role: after!.role });
      audit.detail({ acting_contexts_ended: ended });
      requireSecondPerson(
        ctx,
        remaining === 1 ? 'last_superadmin_peer' : PRIVILEGED.has(input.role) && 'privileged_staff',
        {
          permission: 'staff.manage',
          summary: `Make ${staff.email} ${input.role}`,
          diff: audit.toDiff(),
        },
      );
      return after!;
    },
  );
});

export const setStaffStatus = dualControlled('staff.status', async (ctx: StaffCtx, raw: unknown) => {
  requirePermission(ctx, 'staff.manage');
  const input = parseInput(
    z.object({ staffId: StaffId, status: z.enum(['active', 'disabled']), version: Version }),
    raw,
  );
  requireFreshAuth(ctx);
  if (input.staffId === ctx.staffId) throw new AppError(409, 'own_status', 'You cannot disable yourself.');
  const action = input.status === 'disabled' ? 'staff.disabled' : 'staff.enabled';
  return withAudit(ctx, { action, targetType: 'staff_user', targetId: input.staffId }, async (tx, audit) => {
    const keepASuperadmin = await lockSuperadmins(tx);
    const staff = await lockStaff(tx, input.staffId, input.version);
    const remaining =
      staff.role === 'superadmin' && input.status === 'disabled' ? keepASuperadmin(staff.id) : null;
    const [after] = await tx
      .update(staffUsers)
      .set({ status: input.status, version: sql`${staffUsers.version} + 1` })
      .where(eq(staffUsers.id, staff.id))
      .returning();
    const disabling = input.status === 'disabled';
    const revoked = disabling ? await revokeAllSessions(tx, staff.id, ctx.staffId) : 0;
    const ended = disabling ? await endActingContexts(tx, audit, staff.id, ctx.staffId, 'staff.disabled') : 0;
    audit.diff({ status: staff.status }, { status: after!.status });
    audit.detail({ sessions_revoked: revoked, acting_contexts_ended: ended });
    requireSecondPerson(ctx, remaining === 1 && 'last_superadmin_peer', {
      permission: 'staff.manage',
      summary: `Disable the superadmin ${staff.email}`,
      diff: audit.toDiff(),
    });
    return after!;
  });
});

/** Revokes one session: your own, or anyone's with staff.manage. Takes effect on its next request. */
export async function revokeSession(ctx: StaffCtx, raw: unknown) {
  const { sessionId } = parseInput(z.object({ sessionId: z.uuid('Not a session id.') }), raw);
  const [session] = await ctx.db.select().from(staffSessions).where(eq(staffSessions.id, sessionId));
  if (!session) throw new NotFoundError('No such session.');
  if (session.staffId !== ctx.staffId) requirePermission(ctx, 'staff.manage');
  return withAudit(
    ctx,
    { action: 'staff.session.revoked', targetType: 'staff_session', targetId: sessionId },
    async (tx, audit) => {
      const revoked = await tx
        .update(staffSessions)
        .set({ revokedAt: sql`now()`, revokedBy: ctx.staffId })
        .where(and(eq(staffSessions.id, sessionId), isNull(staffSessions.revokedAt)))
        .returning({ id: staffSessions.id });
      if (revoked.length === 0) throw new AppError(409, 'conflict', 'This session has already ended.');
      audit.detail({ staff_id: session.staffId });
    },
  );
}

/** Ends the caller's own session. */
export function signOut(ctx: StaffCtx) {
  return withAudit(
    ctx,
    { action: 'staff.signout', targetType: 'staff_session', targetId: ctx.sessionId },
    async (tx) => {
      await tx
        .update(staffSessions)
        .set({ revokedAt: sql`now()`, revokedBy: ctx.staffId })
        .where(and(eq(staffSessions.id, ctx.sessionId), isNull(staffSessions.revokedAt)));
    },
  );
}
