import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '@/db/client';
import { staffSessions, staffUsers } from '@/db/schema';
import { StepUpRequiredError } from '@/lib/errors';
import { testDatabase } from '@/test/db';
import { staffWithSession } from '@/test/staff';
import { requireFreshAuth, validateSession } from './session';

let database: Database;
beforeAll(async () => {
  database = await testDatabase();
});
afterAll(() => database.close());

const meta = { requestId: null, ip: null, userAgent: null };
const limits = { idleS: 900, absoluteS: 8 * 3600 };

describe('validateSession', () => {
  it('accepts a live session and reads role and email from the database, not the cookie', async () => {
    const ctx = await staffWithSession(database.db, 'support');
    await database.db.update(staffUsers).set({ role: 'auditor' }).where(eq(staffUsers.id, ctx.staffId));
    const again = await validateSession(database.db, ctx.sessionId, meta, limits);
    expect(again).toMatchObject({
      ok: true,
      ctx: { role: 'auditor', email: ctx.email, staffId: ctx.staffId },
    });
  });

  it.each([
    ['revoked', { revokedAt: sql`now()` }],
    ['idle', { idleExpiresAt: sql`now() - interval '1 second'` }],
    ['expired', { absoluteExpiresAt: sql`now() - interval '1 second'` }],
  ] as const)('refuses a %s session', async (reason, change) => {
    const ctx = await staffWithSession(database.db, 'admin');
    await database.db.update(staffSessions).set(change).where(eq(staffSessions.id, ctx.sessionId));
    expect(await validateSession(database.db, ctx.sessionId, meta, limits)).toEqual({ ok: false, reason });
  });

  it('refuses the session of a disabled staff member', async () => {
    const ctx = await staffWithSession(database.db, 'billing');
    await database.db.update(staffUsers).set({ status: 'disabled' }).where(eq(staffUsers.id, ctx.staffId));
    expect(await validateSession(database.db, ctx.sessionId, meta, limits)).toEqual({
      ok: false,
      reason: 'disabled',
    });
  });

  it('refuses a session id it has never issued', async () => {
    expect(await validateSession(database.db, crypto.randomUUID(), meta, limits)).toEqual({
      ok: false,
      reason: 'unknown',
    });
  });

  it('moves the idle deadline forward, but never past the absolute limit', async () => {
    const ctx = await staffWithSession(database.db, 'admin');
    const soon = new Date(Date.now() + 60_000);
    await database.db
      .update(staffSessions)
      .set({ lastSeenAt: sql`now() - interval '1 minute'`, absoluteExpiresAt: soon })
      .where(eq(staffSessions.id, ctx.sessionId));
    await validateSession(database.db, ctx.sessionId, meta, limits);
    const [row] = await database.db.select().from(staffSessions).where(eq(staffSessions.id, ctx.sessionId));
    expect(row!.idleExpiresAt.getTime()).toBe(soon.getTime());
    expect(Date.now() - row!.lastSeenAt.getTime()).toBeLessThan(5_000);
  });

  it('does not move the idle deadline for a background poll, which is no sign of a person', async () => {
    const ctx = await staffWithSession(database.db, 'admin');
    const idleAt = new Date(Date.now() + 30_000);
    await database.db
      .update(staffSessions)
      .set({ lastSeenAt: sql`now() - interval '1 minute'`, idleExpiresAt: idleAt })
      .where(eq(staffSessions.id, ctx.sessionId));
    const polled = await validateSession(database.db, ctx.sessionId, meta, limits, undefined, null, false);
    expect(polled.ok).toBe(true);
    const [row] = await database.db.select().from(staffSessions).where(eq(staffSessions.id, ctx.sessionId));
    expect(row!.idleExpiresAt.getTime()).toBe(idleAt.getTime());
    expect(Date.now() - row!.lastSeenAt.getTime()).toBeGreaterThan(55_000);
  });
});

describe('requireFreshAuth', () => {
  it('accepts a sign-in or a step-up within the window, and asks for a step-up after it', async () => {
    const fresh = await staffWithSession(database.db, 'superadmin');
    expect(() => requireFreshAuth(fresh, 300)).not.toThrow();
    const old = await staffWithSession(database.db, 'superadmin', { signedInSecondsAgo: 301 });
    expect(() => requireFreshAuth(old, 300)).toThrow(StepUpRequiredError);
    expect(() => requireFreshAuth({ ...old, stepUpAt: new Date(Date.now() - 10_000) }, 300)).not.toThrow();
    expect(() => requireFreshAuth({ ...old, stepUpAt: new Date(Date.now() - 301_000) }, 300)).toThrow(
      /fresh security-key check/,
    );
  });
});
