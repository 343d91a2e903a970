import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db, Tx } from '@/db/client';
import { staffSessions, staffUsers } from '@/db/schema';
import type { AuditCtx } from '@/lib/audit';
import type { StaffRole } from '@/lib/auth/roles';
import { config } from '@/lib/config';
import { StepUpRequiredError } from '@/lib/errors';

/** Who is asking, checked against the database on this request. Services take it as their first argument. */
export interface StaffCtx extends AuditCtx {
  staffId: string;
  email: string;
  displayName: string;
  role: StaffRole;
  sessionId: string;
  /** When the session's sign-in ceremony happened. */
  authTime: Date;
  stepUpAt: Date | null;
}

export interface RequestMeta {
  requestId: string | null;
  ip: string | null;
  userAgent: string | null;
}

export type SessionRefusal = 'unknown' | 'revoked' | 'idle' | 'expired' | 'disabled';

export interface SessionLimits {
  idleS: number;
  absoluteS: number;
}

export function sessionLimits(): SessionLimits {
  const c = config();
  return { idleS: c.SESSION_IDLE_TIMEOUT_S, absoluteS: c.SESSION_ABSOLUTE_TIMEOUT_S };
}

/**
 * The full session check of DESIGN section 2, for one request: the row exists, is not revoked, has not
 * idled out or passed its absolute limit, and its staff member is active. Role and email come from the
 * database, never from the cookie. A valid session's idle deadline moves forward.
 */
export async function validateSession(
  db: Db,
  sessionId: string,
  meta: RequestMeta,
  limits: SessionLimits = sessionLimits(),
  now = new Date(),
): Promise<{ ok: true; ctx: StaffCtx } | { ok: false; reason: SessionRefusal }> {
  const [row] = await db
    .select({ session: staffSessions, staff: staffUsers })
    .from(staffSessions)
    .innerJoin(staffUsers, eq(staffUsers.id, staffSessions.staffId))
    .where(eq(staffSessions.id, sessionId));
  if (!row) return { ok: false, reason: 'unknown' };
  const { session, staff } = row;
  if (session.revokedAt) return { ok: false, reason: 'revoked' };
  if (session.absoluteExpiresAt <= now) return { ok: false, reason: 'expired' };
  if (session.idleExpiresAt <= now) return { ok: false, reason: 'idle' };
  if (staff.status !== 'active') return { ok: false, reason: 'disabled' };

  // Moving the idle deadline is a write on every request; a few seconds of slack saves most of them.
  const slackMs = Math.min(15_000, (limits.idleS * 1000) / 4);
  if (now.getTime() - session.lastSeenAt.getTime() > slackMs) {
    const idle = new Date(Math.min(now.getTime() + limits.idleS * 1000, session.absoluteExpiresAt.getTime()));
    await db
      .update(staffSessions)
      .set({ lastSeenAt: now, idleExpiresAt: idle })
      .where(and(eq(staffSessions.id, sessionId), isNull(staffSessions.revokedAt)));
  }
  return {
    ok: true,
    ctx: {
      db,
      actor: { staffId: staff.id, email: staff.email, actingOrgId: null, actingContextId: null },
      requestId: meta.requestId,
      ip: meta.ip,
      userAgent: meta.userAgent,
      staffId: staff.id,
      email: staff.email,
      displayName: staff.displayName,
      role: staff.role,
      sessionId: session.id,
      authTime: session.createdAt,
      stepUpAt: session.stepUpAt,
    },
  };
}

/** A new session row for a completed sign-in ceremony, in the sign-in's transaction. */
export function sessionDeadlines(limits: SessionLimits, now = new Date()) {
  const absolute = new Date(now.getTime() + limits.absoluteS * 1000);
  return {
    createdAt: now,
    lastSeenAt: now,
    idleExpiresAt: new Date(Math.min(now.getTime() + limits.idleS * 1000, absolute.getTime())),
    absoluteExpiresAt: absolute,
  };
}

/**
 * Sensitive writes need a user-verified assertion within `maxAgeS`: the sign-in itself, or a step-up.
 * Throws StepUpRequiredError, which the UI answers with the step-up dialog.
 */
export function requireFreshAuth(
  ctx: StaffCtx,
  maxAgeS = config().STEP_UP_MAX_AGE_S,
  now = new Date(),
): void {
  const freshest = Math.max(ctx.authTime.getTime(), ctx.stepUpAt?.getTime() ?? 0);
  if (now.getTime() - freshest > maxAgeS * 1000) throw new StepUpRequiredError(maxAgeS);
}

/** Revokes every live session of a staff member (disable, role change). Returns how many. */
export async function revokeAllSessions(db: Db | Tx, staffId: string, by: string | null) {
  const revoked = await db
    .update(staffSessions)
    .set({ revokedAt: sql`now()`, revokedBy: by })
    .where(and(eq(staffSessions.staffId, staffId), isNull(staffSessions.revokedAt)))
    .returning({ id: staffSessions.id });
  return revoked.length;
}
