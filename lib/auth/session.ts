import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db, Tx } from '@/db/client';
import { actingContexts, organizations, staffSessions, staffUsers } from '@/db/schema';
import { type AuditCtx, withAudit } from '@/lib/audit';
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
  /** The acting context open in the database, whether or not the session cookie carries it yet. */
  openActing: ActingContext | null;
  /** The acting context in force: open in the database and named by the session's JWT claim. */
  acting: ActingContext | null;
}

export interface ActingContext {
  id: string;
  orgId: string;
  orgName: string;
  orgSlug: string;
  reason: string;
  ticketRef: string;
  startedAt: Date;
  expiresAt: Date;
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
  /** `acting_context_id` from the session JWT. */
  claimedActingContextId: string | null = null,
  /**
   * `false` for a request the browser makes by itself (the navigation badge's poll): it is checked like any
   * other, but is no sign of a person at the keyboard, so it does not move the idle deadline.
   */
  touch = true,
): Promise<{ ok: true; ctx: StaffCtx } | { ok: false; reason: SessionRefusal }> {
  // The open acting context comes with the session, in one round trip: this runs on every request.
  const [row] = await db
    .select({
      session: staffSessions,
      staff: staffUsers,
      ac: actingContexts,
      orgName: organizations.name,
      orgSlug: organizations.slug,
    })
    .from(staffSessions)
    .innerJoin(staffUsers, eq(staffUsers.id, staffSessions.staffId))
    .leftJoin(
      actingContexts,
      and(eq(actingContexts.staffId, staffSessions.staffId), isNull(actingContexts.endedAt)),
    )
    .leftJoin(organizations, eq(organizations.id, actingContexts.orgId))
    .where(eq(staffSessions.id, sessionId));
  if (!row) return { ok: false, reason: 'unknown' };
  const { session, staff } = row;
  if (session.revokedAt) return { ok: false, reason: 'revoked' };
  if (session.absoluteExpiresAt <= now) return { ok: false, reason: 'expired' };
  if (session.idleExpiresAt <= now) return { ok: false, reason: 'idle' };
  if (staff.status !== 'active') return { ok: false, reason: 'disabled' };

  // Moving the idle deadline is a write on every request; a few seconds of slack saves most of them.
  const slackMs = Math.min(15_000, (limits.idleS * 1000) / 4);
  if (touch && now.getTime() - session.lastSeenAt.getTime() > slackMs) {
    const idle = new Date(Math.min(now.getTime() + limits.idleS * 1000, session.absoluteExpiresAt.getTime()));
    await db
      .update(staffSessions)
      .set({ lastSeenAt: now, idleExpiresAt: idle })
      .where(and(eq(staffSessions.id, sessionId), isNull(staffSessions.revokedAt)));
  }
  const base = {
    db,
    actor: { staffId: staff.id, email: staff.email, actingOrgId: null, actingContextId: null },
    requestId: meta.requestId,
    ip: meta.ip,
    userAgent: meta.userAgent,
  };
  const openActing = row.ac ? await openActingContext(base, { ...row, ac: row.ac }, now) : null;
  // A claim the database does not back (ended, expired, replaced) grants nothing.
  const acting = openActing && openActing.id === claimedActingContextId ? openActing : null;
  return {
    ok: true,
    ctx: {
      ...base,
      actor: { ...base.actor, actingOrgId: acting?.orgId ?? null, actingContextId: acting?.id ?? null },
      staffId: staff.id,
      email: staff.email,
      displayName: staff.displayName,
      role: staff.role,
      sessionId: session.id,
      authTime: session.createdAt,
      stepUpAt: session.stepUpAt,
      openActing,
      acting,
    },
  };
}

/**
 * The staff member's open acting context, as read with the session. One that has passed its expiry is ended here, on the first
 * request that notices, and audited once: the UPDATE matches only while it is still open.
 */
async function openActingContext(
  ctx: AuditCtx,
  row: { ac: typeof actingContexts.$inferSelect; orgName: string | null; orgSlug: string | null },
  now: Date,
): Promise<ActingContext | null> {
  const { ac } = row;
  if (ac.expiresAt > now) {
    return {
      id: ac.id,
      orgId: ac.orgId,
      orgName: row.orgName ?? '',
      orgSlug: row.orgSlug ?? '',
      reason: ac.reason,
      ticketRef: ac.ticketRef,
      startedAt: ac.startedAt,
      expiresAt: ac.expiresAt,
    };
  }
  const expiredCtx = { ...ctx, actor: { ...ctx.actor, actingOrgId: ac.orgId, actingContextId: ac.id } };
  await withAudit(
    expiredCtx,
    { action: 'acting.expired', orgId: ac.orgId, targetType: 'acting_context', targetId: ac.id },
    async (tx, audit) => {
      const ended = await tx
        .update(actingContexts)
        .set({ endedAt: ac.expiresAt, endReason: 'expired' })
        .where(and(eq(actingContexts.id, ac.id), isNull(actingContexts.endedAt)))
        .returning({ id: actingContexts.id });
      // Another request ended it first: roll back, so that the expiry is audited exactly once.
      if (ended.length === 0) throw new AlreadyEnded();
      audit.detail({ reason: ac.reason, ticket_ref: ac.ticketRef, expires_at: ac.expiresAt });
    },
  ).catch((err: unknown) => {
    if (!(err instanceof AlreadyEnded)) throw err;
  });
  return null;
}

class AlreadyEnded extends Error {}

/** What the session JWT carries after an update: the role and the open acting context, from the rows. */
export async function sessionClaims(db: Db, sessionId: string) {
  const [row] = await db
    .select({ staffId: staffSessions.staffId, role: staffUsers.role })
    .from(staffSessions)
    .innerJoin(staffUsers, eq(staffUsers.id, staffSessions.staffId))
    .where(and(eq(staffSessions.id, sessionId), isNull(staffSessions.revokedAt)));
  if (!row) return null;
  const [acting] = await db
    .select({ id: actingContexts.id, orgId: actingContexts.orgId, expiresAt: actingContexts.expiresAt })
    .from(actingContexts)
    .where(and(eq(actingContexts.staffId, row.staffId), isNull(actingContexts.endedAt)));
  return { role: row.role, acting: acting && acting.expiresAt > new Date() ? acting : null };
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
 * How recent the key check must be for a write that blocks an organisation (the kill switch, a limit of 0),
 * and for its approval: the UI asks for a touch before each such write, and this holds the server to it.
 */
export const BLOCKING_STEP_UP_MAX_AGE_S = 60;

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
