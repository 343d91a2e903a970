import { desc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, rows } from '@/db/client';
import { auditLog, staffCredentials, staffInvites, staffSessions, staffUsers } from '@/db/schema';
import { verifyChain } from '@/lib/audit';
import { validateSession } from '@/lib/auth/session';
import { inviteState } from '@/lib/services/auth/enrol';
import { renameKey, revokeKey, unlockKey } from '@/lib/services/auth/keys';
import { testDatabase } from '@/test/db';
import { staffWithSession } from '@/test/staff';
import { hashInviteToken, inviteStaff, revokeInvite } from './invites';
import { changeRole, revokeSession, setStaffStatus, signOut } from './manage';
import { approvedBy, written } from '@/test/approvals';
import { ApprovalPending } from '@/lib/approvals/gate';
import { breakGlass } from '@/lib/services/approvals/approvals';

/** inviteStaff, where no second person is needed: its own result. */
const inviteDirect = (...args: Parameters<typeof inviteStaff>) => written(inviteStaff(...args));

let database: Database;
beforeAll(async () => {
  database = await testDatabase();
});
afterAll(async () => {
  expect(await verifyChain(database.db)).toMatchObject({ ok: true });
  await database.close();
});

async function auditCount(): Promise<number> {
  const [r] = await rows<{ n: number }>(database.db, sql`select count(*)::int as n from audit_log`);
  return r!.n;
}

async function lastEntry() {
  const [e] = await database.db.select().from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
  return e!;
}

async function errorOf(p: Promise<unknown>) {
  return p.then(
    () => null,
    (e: unknown) => e as { status?: number; code?: string; message: string; extra?: Record<string, unknown> },
  );
}

describe('invitations', () => {
  it('are created by a superadmin, store only the token hash, and lead to a valid enrolment page', async () => {
    const admin = await staffWithSession(database.db, 'superadmin');
    const invite = await inviteDirect(admin, { email: 'new.hire@arbitex.ai', role: 'support' });
    const token = invite.url.split('/enroll/')[1]!;
    const [row] = await database.db
      .select()
      .from(staffInvites)
      .where(eq(staffInvites.email, 'new.hire@arbitex.ai'));
    expect(row!.tokenHash).toBe(hashInviteToken(token));
    expect(JSON.stringify(row)).not.toContain(token);
    expect(await inviteState(database.db, token)).toMatchObject({
      state: 'valid',
      email: 'new.hire@arbitex.ai',
      role: 'support',
    });
    expect(await lastEntry()).toMatchObject({
      action: 'staff.invited',
      actorStaffId: admin.staffId,
      targetId: row!.id,
    });
    expect(JSON.stringify((await lastEntry()).diff)).not.toContain(token);
  });

  it('are refused to other roles, with nothing written', async () => {
    const before = await auditCount();
    for (const role of ['admin', 'support', 'billing', 'auditor'] as const) {
      const ctx = await staffWithSession(database.db, role);
      expect(await errorOf(inviteDirect(ctx, { email: 'x@arbitex.ai', role: 'superadmin' }))).toMatchObject({
        status: 403,
      });
    }
    expect(await auditCount()).toBe(before);
  });

  it('name the bad field and refuse an existing staff member', async () => {
    const admin = await staffWithSession(database.db, 'superadmin');
    expect(await errorOf(inviteDirect(admin, { email: 'not-an-email', role: 'support' }))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^E-mail: /),
    });
    expect(await errorOf(inviteDirect(admin, { email: 'a@arbitex.ai', role: 'owner' }))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^Role: /),
    });
    expect(
      await errorOf(inviteDirect(admin, { email: admin.email.toUpperCase(), role: 'support' })),
    ).toMatchObject({ status: 409 });
  });

  it('tell used, expired and unknown links apart, and treat a forged token as unknown', async () => {
    const admin = await staffWithSession(database.db, 'superadmin');
    const used = (await inviteDirect(admin, { email: 'used@arbitex.ai', role: 'auditor' })).url.split(
      '/enroll/',
    )[1]!;
    const expired = (await inviteDirect(admin, { email: 'late@arbitex.ai', role: 'auditor' })).url.split(
      '/enroll/',
    )[1]!;
    await database.db
      .update(staffInvites)
      .set({ usedAt: sql`now()` })
      .where(eq(staffInvites.tokenHash, hashInviteToken(used)));
    await database.db
      .update(staffInvites)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(staffInvites.tokenHash, hashInviteToken(expired)));
    expect(await inviteState(database.db, used)).toEqual({ state: 'used' });
    expect(await inviteState(database.db, expired)).toEqual({ state: 'expired' });
    expect(await inviteState(database.db, 'A'.repeat(43))).toEqual({ state: 'unknown' });
    expect(await inviteState(database.db, '../../etc/passwd')).toEqual({ state: 'unknown' });
  });
});

describe('invitation safeguards', () => {
  it('need a fresh security-key check, with nothing written', async () => {
    const stale = await staffWithSession(database.db, 'superadmin', { signedInSecondsAgo: 600 });
    const before = await auditCount();
    expect(
      await errorOf(inviteDirect(stale, { email: 'stale.hire@arbitex.ai', role: 'support' })),
    ).toMatchObject({
      status: 403,
      code: 'step_up_required',
    });
    expect(await auditCount()).toBe(before);
    const pending = await database.db
      .select()
      .from(staffInvites)
      .where(eq(staffInvites.email, 'stale.hire@arbitex.ai'));
    expect(pending).toEqual([]);
  });

  it('allow one pending invitation per e-mail; a revoked one frees the address', async () => {
    const admin = await staffWithSession(database.db, 'superadmin');
    const first = await inviteDirect(admin, { email: 'twice@arbitex.ai', role: 'support' });
    const before = await auditCount();
    expect(await errorOf(inviteDirect(admin, { email: 'TWICE@arbitex.ai', role: 'admin' }))).toMatchObject({
      status: 409,
      code: 'invite_pending',
      message: expect.stringMatching(/already a pending invitation for TWICE@arbitex\.ai/),
    });
    expect(await auditCount()).toBe(before);

    const [row] = await database.db
      .select()
      .from(staffInvites)
      .where(eq(staffInvites.email, 'twice@arbitex.ai'));
    await revokeInvite(admin, { inviteId: row!.id });
    expect(await lastEntry()).toMatchObject({
      action: 'staff.invite_revoked',
      actorStaffId: admin.staffId,
      targetId: row!.id,
      outcome: 'success',
    });
    const token = first.url.split('/enroll/')[1]!;
    expect(await inviteState(database.db, token)).toEqual({ state: 'revoked' });
    expect(await errorOf(revokeInvite(admin, { inviteId: row!.id }))).toMatchObject({ status: 409 });
    await inviteDirect(admin, { email: 'twice@arbitex.ai', role: 'billing' });
  });

  it('are revoked only with staff.manage, naming a bad id', async () => {
    const admin = await staffWithSession(database.db, 'superadmin');
    await inviteDirect(admin, { email: 'keep@arbitex.ai', role: 'support' });
    const [row] = await database.db
      .select()
      .from(staffInvites)
      .where(eq(staffInvites.email, 'keep@arbitex.ai'));
    const before = await auditCount();
    for (const role of ['admin', 'support', 'billing', 'auditor'] as const) {
      const ctx = await staffWithSession(database.db, role);
      expect(await errorOf(revokeInvite(ctx, { inviteId: row!.id }))).toMatchObject({ status: 403 });
    }
    expect(await errorOf(revokeInvite(admin, { inviteId: 'nope' }))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^Invitation: /),
    });
    expect(await auditCount()).toBe(before);
  });
});

describe('role changes and disabling', () => {
  it('change the role with step-up and the current version, audited with before and after', async () => {
    const admin = await staffWithSession(database.db, 'superadmin');
    const target = await staffWithSession(database.db, 'support');
    const after = await changeRole(admin, { staffId: target.staffId, role: 'billing', version: 1 });
    expect(after).toMatchObject({ role: 'billing', version: 2 });
    expect(await lastEntry()).toMatchObject({
      action: 'staff.role_changed',
      actorStaffId: admin.staffId,
      targetId: target.staffId,
      diff: { before: { role: 'support' }, after: { role: 'billing' } },
    });
    // The target's very next request sees the new role.
    const next = await validateSession(database.db, target.sessionId, {
      requestId: null,
      ip: null,
      userAgent: null,
    });
    expect(next).toMatchObject({ ok: true, ctx: { role: 'billing' } });
  });

  it('answer a stale version with 409 and the current values, changing nothing', async () => {
    const admin = await staffWithSession(database.db, 'superadmin');
    const target = await staffWithSession(database.db, 'support');
    // Making an admin needs a second person (lib/approvals).
    await approvedBy(
      changeRole(admin, { staffId: target.staffId, role: 'admin', version: 1 }),
      await staffWithSession(database.db, 'superadmin'),
    );
    const before = await auditCount();
    const err = await errorOf(changeRole(admin, { staffId: target.staffId, role: 'auditor', version: 1 }));
    expect(err).toMatchObject({ status: 409, extra: { current: { role: 'admin', version: 2 } } });
    expect(await auditCount()).toBe(before);
  });

  it('need a fresh security-key check', async () => {
    const stale = await staffWithSession(database.db, 'superadmin', { signedInSecondsAgo: 600 });
    const target = await staffWithSession(database.db, 'support');
    expect(
      await errorOf(changeRole(stale, { staffId: target.staffId, role: 'admin', version: 1 })),
    ).toMatchObject({ code: 'step_up_required' });
    expect(
      await errorOf(setStaffStatus(stale, { staffId: target.staffId, status: 'disabled', version: 1 })),
    ).toMatchObject({ code: 'step_up_required' });
  });

  it('never leave the portal without an active superadmin, even when two disable each other at once', async () => {
    await database.db.update(staffUsers).set({ status: 'disabled' }).where(eq(staffUsers.role, 'superadmin'));
    const a = await staffWithSession(database.db, 'superadmin');
    const b = await staffWithSession(database.db, 'superadmin');
    expect(await errorOf(changeRole(a, { staffId: a.staffId, role: 'admin', version: 1 }))).toMatchObject({
      code: 'own_role',
    });
    // With two superadmins, disabling either leaves one alone: a request each (lib/approvals), and as the
    // other is the target, only break-glass can execute it. Both at once: one goes through.
    const requests = [
      await setStaffStatus(a, { staffId: b.staffId, status: 'disabled', version: 1 }),
      await setStaffStatus(b, { staffId: a.staffId, status: 'disabled', version: 1 }),
    ].map((r) => (r as ApprovalPending).approval);
    expect(requests.map((r) => r.rule)).toEqual(['last_superadmin_peer', 'last_superadmin_peer']);
    const glass = { reason: 'Offboarding during an incident, nobody else.', ticketRef: 'INC-4' };
    const results = await Promise.allSettled([
      breakGlass(a, { id: requests[0]!.id, ...glass }),
      breakGlass(b, { id: requests[1]!.id, ...glass }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ status: 409, code: 'last_superadmin' });
    const [active] = await rows<{ n: number }>(
      database.db,
      sql`select count(*)::int as n from staff_users where role = 'superadmin' and status = 'active'`,
    );
    expect(active!.n).toBe(1);
  });

  it('disable an account and end all its sessions at once', async () => {
    const admin = await staffWithSession(database.db, 'superadmin');
    const target = await staffWithSession(database.db, 'admin');
    await setStaffStatus(admin, { staffId: target.staffId, status: 'disabled', version: 1 });
    const sessions = await database.db
      .select()
      .from(staffSessions)
      .where(eq(staffSessions.staffId, target.staffId));
    expect(sessions.every((s) => s.revokedAt !== null && s.revokedBy === admin.staffId)).toBe(true);
    expect(await lastEntry()).toMatchObject({
      action: 'staff.disabled',
      diff: { sessions_revoked: 1, before: { status: 'active' }, after: { status: 'disabled' } },
    });
  });
});

describe('sessions', () => {
  it('can be revoked by their owner or a superadmin, and sign-out ends the current one', async () => {
    const admin = await staffWithSession(database.db, 'superadmin');
    const member = await staffWithSession(database.db, 'support');
    const otherMember = await staffWithSession(database.db, 'billing');
    expect(await errorOf(revokeSession(member, { sessionId: otherMember.sessionId }))).toMatchObject({
      status: 403,
    });
    await revokeSession(admin, { sessionId: member.sessionId });
    expect(await lastEntry()).toMatchObject({
      action: 'staff.session.revoked',
      targetId: member.sessionId,
      actorStaffId: admin.staffId,
    });
    expect(await errorOf(revokeSession(admin, { sessionId: member.sessionId }))).toMatchObject({
      status: 409,
    });

    await signOut(otherMember);
    expect(await lastEntry()).toMatchObject({ action: 'staff.signout', actorStaffId: otherMember.staffId });
    const again = await validateSession(database.db, otherMember.sessionId, {
      requestId: null,
      ip: null,
      userAgent: null,
    });
    expect(again).toEqual({ ok: false, reason: 'revoked' });
  });
});

describe('security keys', () => {
  async function keysOf(staffId: string) {
    return database.db
      .select()
      .from(staffCredentials)
      .where(eq(staffCredentials.staffId, staffId))
      .orderBy(staffCredentials.createdAt);
  }

  it('can be renamed and revoked, but never the last usable one', async () => {
    const me = await staffWithSession(database.db, 'support', { keys: 2 });
    const [first, second] = await keysOf(me.staffId);
    await renameKey(me, { credentialId: first!.id, nickname: 'Desk key' });
    expect(await lastEntry()).toMatchObject({
      action: 'staff.key.renamed',
      diff: { before: { nickname: 'Key 1' }, after: { nickname: 'Desk key' } },
    });
    await revokeKey(me, { credentialId: first!.id });
    const err = await errorOf(revokeKey(me, { credentialId: second!.id }));
    expect(err).toMatchObject({
      status: 409,
      code: 'last_key',
      message: expect.stringMatching(/last usable security key/),
    });
    expect((await keysOf(me.staffId)).map((k) => k.revokedAt !== null)).toEqual([true, false]);
  });

  it('counts a locked key as unusable when protecting the last key', async () => {
    const me = await staffWithSession(database.db, 'admin', { keys: 2 });
    const [first, second] = await keysOf(me.staffId);
    await database.db
      .update(staffCredentials)
      .set({ lockedAt: sql`now()`, lockedReason: 'counter regression' })
      .where(eq(staffCredentials.id, second!.id));
    expect(await errorOf(revokeKey(me, { credentialId: first!.id }))).toMatchObject({ code: 'last_key' });
  });

  it("belong to their owner: someone else's need staff.manage and a fresh check", async () => {
    const owner = await staffWithSession(database.db, 'support', { keys: 2 });
    const [key] = await keysOf(owner.staffId);
    const admin = await staffWithSession(database.db, 'admin');
    expect(await errorOf(revokeKey(admin, { credentialId: key!.id }))).toMatchObject({ status: 403 });
    const staleSuper = await staffWithSession(database.db, 'superadmin', { signedInSecondsAgo: 900 });
    expect(await errorOf(revokeKey(staleSuper, { credentialId: key!.id }))).toMatchObject({
      code: 'step_up_required',
    });
    const superadmin = await staffWithSession(database.db, 'superadmin');
    await revokeKey(superadmin, { credentialId: key!.id });
    expect(await lastEntry()).toMatchObject({
      action: 'staff.key.revoked',
      actorStaffId: superadmin.staffId,
      targetId: key!.id,
    });
  });

  it('are unlocked only by a superadmin with a reason, starting the counter again', async () => {
    const owner = await staffWithSession(database.db, 'billing', { keys: 2 });
    const [key] = await keysOf(owner.staffId);
    await database.db
      .update(staffCredentials)
      .set({ lockedAt: sql`now()`, lockedReason: 'counter regression: stored 9, reported 3', counter: 9 })
      .where(eq(staffCredentials.id, key!.id));
    expect(
      await errorOf(unlockKey(owner, { credentialId: key!.id, reason: 'it is my own key honestly' })),
    ).toMatchObject({ status: 403 });
    const superadmin = await staffWithSession(database.db, 'superadmin');
    expect(await errorOf(unlockKey(superadmin, { credentialId: key!.id, reason: 'short' }))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^Reason: /),
    });
    await unlockKey(superadmin, {
      credentialId: key!.id,
      reason: 'Checked the key in person with the owner (SEC-42).',
    });
    const [after] = await database.db.select().from(staffCredentials).where(eq(staffCredentials.id, key!.id));
    expect(after).toMatchObject({ lockedAt: null, lockedReason: null, counter: 0 });
    expect(await lastEntry()).toMatchObject({
      action: 'staff.key.unlocked',
      diff: { reason: 'Checked the key in person with the owner (SEC-42).' },
    });
  });
});
