import { and, desc, eq, sql } from 'drizzle-orm';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, rows } from '@/db/client';
import { actingContexts, auditLog, organizations } from '@/db/schema';
import { verifyChain } from '@/lib/audit';
import { requireActingFor } from '@/lib/auth/acting';
import { type StaffCtx, validateSession } from '@/lib/auth/session';
import { config } from '@/lib/config';
import { addSupportNote } from '@/lib/services/orgs/support-notes';
import { changeRole, setStaffStatus } from '@/lib/services/staff/manage';
import { testDatabase } from '@/test/db';
import { approvedBy } from '@/test/approvals';
import { staffWithSession } from '@/test/staff';
import { endActingContext, startActing, stopActing } from './acting';
import { mintPlatformToken, publicJwks, rotateSigningKey } from './platform-tokens';

let database: Database;
let orgA: string;
let orgB: string;
beforeAll(async () => {
  database = await testDatabase();
  const orgs = await database.db
    .insert(organizations)
    .values([
      { slug: 'acme-bank', name: 'Acme Bank', planTier: 'enterprise_saas' },
      { slug: 'zen-health', name: 'Zen Health', planTier: 'team_saas' },
    ])
    .returning();
  orgA = orgs[0]!.id;
  orgB = orgs[1]!.id;
});
afterAll(async () => {
  expect(await verifyChain(database.db)).toMatchObject({ ok: true });
  await database.close();
});

const meta = { requestId: 'req-acting', ip: '10.0.0.7', userAgent: 'vitest' };

/** The next request of the same session, carrying `claim` as the JWT's acting_context_id. */
async function nextRequest(ctx: StaffCtx, claim: string | null): Promise<StaffCtx> {
  const r = await validateSession(database.db, ctx.sessionId, meta, undefined, undefined, claim);
  if (!r.ok) throw new Error(r.reason);
  return r.ctx;
}

async function actingFor(role: 'support' | 'admin' | 'billing' | 'superadmin', orgId: string, minutes = 30) {
  const ctx = await staffWithSession(database.db, role);
  const started = await startActing(ctx, {
    orgId,
    reason: 'Customer ticket about limits',
    ticketRef: 'SUP-1001',
    durationMinutes: minutes,
  });
  return nextRequest(ctx, started.id);
}

async function entriesFor(staffId: string) {
  return database.db.select().from(auditLog).where(eq(auditLog.actorStaffId, staffId)).orderBy(auditLog.seq);
}

async function auditCount(): Promise<number> {
  const [r] = await rows<{ n: number }>(database.db, sql`select count(*)::int as n from audit_log`);
  return r!.n;
}

const err = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as { status: number; code: string; message: string },
  );

describe('acting contexts', () => {
  it('start with a reason and ticket, are audited, and put both identities on every org-scoped write', async () => {
    const ctx = await actingFor('support', orgA);
    expect(ctx.acting).toMatchObject({
      orgId: orgA,
      orgName: 'Acme Bank',
      reason: 'Customer ticket about limits',
      ticketRef: 'SUP-1001',
    });
    expect(ctx.acting!.expiresAt.getTime() - Date.now()).toBeGreaterThan(29 * 60_000);
    const note = await addSupportNote(ctx, { orgId: orgA, body: 'Raised the limit as agreed.' });
    const entries = await entriesFor(ctx.staffId);
    expect(entries.map((e) => e.action)).toEqual(['acting.started', 'org.support_note.created']);
    expect(entries[1]).toMatchObject({
      actorStaffId: ctx.staffId,
      actorEmail: ctx.email,
      actingOrgId: orgA,
      actingContextId: ctx.acting!.id,
      orgId: orgA,
      targetId: note.id,
      srcIp: '10.0.0.7',
    });
  });

  it('are required for org-scoped writes, and grant nothing for another organisation', async () => {
    const plain = await staffWithSession(database.db, 'support');
    const before = await rows<{ n: number }>(database.db, sql`select count(*)::int as n from support_notes`);
    expect(await err(addSupportNote(plain, { orgId: orgA, body: 'no context' }))).toMatchObject({
      status: 403,
      code: 'acting_required',
    });
    const acting = await actingFor('support', orgB);
    expect(await err(addSupportNote(acting, { orgId: orgA, body: 'wrong org' }))).toMatchObject({
      status: 403,
      message: expect.stringMatching(/acting for Zen Health, not this organisation/),
    });
    const after = await rows<{ n: number }>(database.db, sql`select count(*)::int as n from support_notes`);
    expect(after[0]!.n).toBe(before[0]!.n);
  });

  it('add no rights beyond the role', async () => {
    const billing = await actingFor('billing', orgA);
    expect(await err(addSupportNote(billing, { orgId: orgA, body: 'billing may not' }))).toMatchObject({
      status: 403,
      code: 'forbidden',
    });
    const auditor = await staffWithSession(database.db, 'auditor');
    expect(
      await err(startActing(auditor, { orgId: orgA, reason: 'Auditors never act', ticketRef: 'AUD-1' })),
    ).toMatchObject({ status: 403 });
  });

  it('check reason, ticket format and duration, naming the field', async () => {
    const ctx = await staffWithSession(database.db, 'admin');
    const bad = (input: object) =>
      err(startActing(ctx, { orgId: orgA, reason: 'A good long reason', ticketRef: 'SUP-1', ...input }));
    expect(await bad({ reason: 'short' })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^Reason: /),
    });
    expect(await bad({ ticketRef: 'see slack' })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^Ticket reference: /),
    });
    expect(await bad({ durationMinutes: 61 })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^Duration: At most 60/),
    });
    expect(await bad({ orgId: crypto.randomUUID() })).toMatchObject({ status: 404 });
  });

  it('are one per staff member: a new one supersedes the old, and both facts are audited', async () => {
    const first = await actingFor('admin', orgA);
    const second = await startActing(first, {
      orgId: orgB,
      reason: 'Second customer call',
      ticketRef: 'SUP-1002',
      durationMinutes: 10,
    });
    const open = await database.db
      .select()
      .from(actingContexts)
      .where(and(eq(actingContexts.staffId, first.staffId), sql`ended_at is null`));
    expect(open.map((a) => a.id)).toEqual([second.id]);
    const [old] = await database.db
      .select()
      .from(actingContexts)
      .where(eq(actingContexts.id, first.acting!.id));
    expect(old).toMatchObject({ endReason: 'superseded' });
    expect((await entriesFor(first.staffId)).map((e) => [e.action, e.targetId])).toEqual([
      ['acting.started', first.acting!.id],
      ['acting.superseded', first.acting!.id],
      ['acting.started', second.id],
    ]);
    // The old claim is stale now: it grants nothing.
    const stale = await nextRequest(first, first.acting!.id);
    expect(stale.acting).toBeNull();
    expect(stale.openActing?.id).toBe(second.id);
    expect(() => requireActingFor(stale, orgA)).toThrow(/acting for Zen Health/);
  });

  it('refuse a forged claim', async () => {
    const ctx = await actingFor('support', orgA);
    const forged = await nextRequest(ctx, crypto.randomUUID());
    expect(forged.acting).toBeNull();
    expect(await err(addSupportNote(forged, { orgId: orgA, body: 'forged claim' }))).toMatchObject({
      status: 403,
    });
  });

  it('end on the first request after expiry, audited exactly once', async () => {
    const ctx = await actingFor('support', orgA);
    await database.db
      .update(actingContexts)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(actingContexts.id, ctx.acting!.id));
    const [a, b] = await Promise.all([nextRequest(ctx, ctx.acting!.id), nextRequest(ctx, ctx.acting!.id)]);
    expect(a.acting).toBeNull();
    expect(b.acting).toBeNull();
    expect(await err(addSupportNote(a, { orgId: orgA, body: 'too late' }))).toMatchObject({ status: 403 });
    const expired = (await entriesFor(ctx.staffId)).filter((e) => e.action === 'acting.expired');
    expect(expired).toHaveLength(1);
    expect(expired[0]).toMatchObject({
      targetId: ctx.acting!.id,
      actingContextId: ctx.acting!.id,
      orgId: orgA,
    });
    const [row] = await database.db
      .select()
      .from(actingContexts)
      .where(eq(actingContexts.id, ctx.acting!.id));
    expect(row).toMatchObject({ endReason: 'expired' });
  });

  it('stop by their owner, or end by a superadmin, each audited', async () => {
    const ctx = await actingFor('support', orgA);
    await stopActing(ctx);
    expect((await entriesFor(ctx.staffId)).at(-1)).toMatchObject({
      action: 'acting.stopped',
      targetId: ctx.acting!.id,
    });
    expect(await err(stopActing(await nextRequest(ctx, null)))).toMatchObject({ status: 409 });

    const other = await actingFor('billing', orgB);
    const admin = await staffWithSession(database.db, 'admin');
    expect(await err(endActingContext(admin, { contextId: other.acting!.id }))).toMatchObject({
      status: 403,
    });
    const superadmin = await staffWithSession(database.db, 'superadmin');
    await endActingContext(superadmin, { contextId: other.acting!.id });
    const [last] = await database.db.select().from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
    expect(last).toMatchObject({
      action: 'acting.ended_by_admin',
      actorStaffId: superadmin.staffId,
      targetId: other.acting!.id,
    });
    expect((await nextRequest(other, other.acting!.id)).acting).toBeNull();
  });
});

describe('platform API tokens', () => {
  async function verify(token: string, audience = config().PLATFORM_API_AUDIENCE) {
    return jwtVerify(token, createLocalJWKSet(await publicJwks(database.db)), {
      issuer: config().PORTAL_URL,
      audience,
      algorithms: ['ES256'],
    });
  }

  it('are minted only inside an acting context', async () => {
    const plain = await staffWithSession(database.db, 'support');
    expect(await err(mintPlatformToken(plain, {}))).toMatchObject({ status: 403, code: 'acting_required' });
    const auditorish = await staffWithSession(database.db, 'auditor');
    expect(await err(mintPlatformToken(auditorish, {}))).toMatchObject({ status: 403, code: 'forbidden' });
  });

  it('carry exactly the claims of DESIGN section 5, verify against the JWKS, and are audited by jti', async () => {
    const ctx = await actingFor('support', orgA);
    const minted = await mintPlatformToken(ctx, { scope: 'org:read' });
    const { payload, protectedHeader } = await verify(minted.token);
    expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: minted.kid, typ: 'JWT' });
    expect(Object.keys(payload).sort()).toEqual([
      'act',
      'acting_context_id',
      'acting_org_id',
      'aud',
      'exp',
      'iat',
      'iss',
      'jti',
      'scope',
      'sub',
    ]);
    expect(payload).toMatchObject({
      iss: config().PORTAL_URL,
      aud: config().PLATFORM_API_AUDIENCE,
      sub: ctx.staffId,
      act: { sub: ctx.email },
      acting_org_id: orgA,
      acting_context_id: ctx.acting!.id,
      scope: 'org:read',
      jti: minted.jti,
    });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(300);
    const [entry] = await database.db.select().from(auditLog).where(eq(auditLog.targetId, minted.jti));
    expect(entry).toMatchObject({
      action: 'platform_token.minted',
      actingContextId: ctx.acting!.id,
      orgId: orgA,
    });
    expect(JSON.stringify(entry)).not.toContain(minted.token);
  });

  it('never outlive the acting context', async () => {
    const ctx = await actingFor('support', orgA, 2);
    await database.db
      .update(actingContexts)
      .set({ expiresAt: sql`now() + interval '40 seconds'` })
      .where(eq(actingContexts.id, ctx.acting!.id));
    const again = await nextRequest(ctx, ctx.acting!.id);
    const { payload } = await verify((await mintPlatformToken(again, {})).token);
    expect(payload.exp!).toBeLessThanOrEqual(Math.floor(again.acting!.expiresAt.getTime() / 1000));
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(41);
  });

  it('are rejected for another audience, after expiry, and with a tampered signature', async () => {
    const ctx = await actingFor('support', orgA);
    const { token } = await mintPlatformToken(ctx, {});
    await expect(verify(token, 'https://someone-else.example')).rejects.toThrow(/aud/);
    const [h, p, s] = token.split('.');
    const flipped = `${h}.${p}.${s!.slice(0, -4)}${s!.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    await expect(verify(flipped)).rejects.toThrow(/signature/);
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString()) as Record<string, unknown>;
    const lifted = `${h}.${Buffer.from(JSON.stringify({ ...claims, acting_org_id: orgB })).toString('base64url')}.${s}`;
    await expect(verify(lifted)).rejects.toThrow(/signature/);
    await expect(
      jwtVerify(token, createLocalJWKSet(await publicJwks(database.db)), {
        currentDate: new Date(Date.now() + 301_000),
      }),
    ).rejects.toThrow(/exp/);
  });

  it('keep verifying after a rotation, while new ones use the new kid', async () => {
    const ctx = await actingFor('support', orgA);
    const before = await mintPlatformToken(ctx, {});
    const superadmin = await staffWithSession(database.db, 'superadmin');
    const stale = await staffWithSession(database.db, 'superadmin', { signedInSecondsAgo: 900 });
    expect(await err(rotateSigningKey(stale))).toMatchObject({ code: 'step_up_required' });
    expect(await err(rotateSigningKey(ctx))).toMatchObject({ status: 403 });
    // A second superadmin approves the rotation (lib/approvals).
    const rotated = await approvedBy(
      rotateSigningKey(superadmin),
      await staffWithSession(database.db, 'superadmin'),
    );
    expect(rotated.retired).toContain(before.kid);
    const after = await mintPlatformToken(ctx, {});
    expect(decodeProtectedHeader(after.token).kid).toBe(rotated.kid);
    await verify(before.token);
    await verify(after.token);
    const kids = (await publicJwks(database.db)).keys.map((k) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([before.kid, rotated.kid]));
    expect((await publicJwks(database.db)).keys.every((k) => !('d' in k))).toBe(true);
  });
});

describe('platform token scopes and ended contexts', () => {
  it('let only the roles the matrix names mint org:admin, and only after a fresh step-up', async () => {
    for (const role of ['support', 'billing'] as const) {
      const ctx = await actingFor(role, orgA);
      const before = await auditCount();
      expect(await err(mintPlatformToken(ctx, { scope: 'org:admin' })), role).toMatchObject({
        status: 403,
        code: 'forbidden',
        message: expect.stringMatching(/platform_token\.mint_admin/),
      });
      expect(await auditCount()).toBe(before);
      expect((await mintPlatformToken(ctx, { scope: 'org:read' })).token).toBeTruthy();
    }
    const admin = await actingFor('admin', orgA);
    const stale = { ...admin, authTime: new Date(Date.now() - 600_000), stepUpAt: null };
    expect(await err(mintPlatformToken(stale, { scope: 'org:admin' }))).toMatchObject({
      code: 'step_up_required',
    });
    expect(await err(mintPlatformToken(stale, { scope: 'org:read' }))).toBeNull();
    const { payload } = await jwtVerify(
      (await mintPlatformToken(admin, { scope: 'org:admin' })).token,
      createLocalJWKSet(await publicJwks(database.db)),
    );
    expect(payload.scope).toBe('org:admin');
  });

  it.each([
    ['disabling', (staffId: string) => ({ staffId, status: 'disabled', version: 1 }), setStaffStatus],
    ['a role change', (staffId: string) => ({ staffId, role: 'billing', version: 1 }), changeRole],
  ] as const)(
    '%s ends the open acting context, audited once, and the platform view says so',
    async (_, body, write) => {
      const member = await actingFor('support', orgA);
      const contextId = member.acting!.id;
      const [live] = await rows<{ live: boolean }>(
        database.db,
        sql`select live from platform_acting_contexts where acting_context_id = ${contextId}`,
      );
      expect(live).toEqual({ live: true });
      const superadmin = await staffWithSession(database.db, 'superadmin');
      await write(superadmin, body(member.staffId));
      const [ac] = await database.db.select().from(actingContexts).where(eq(actingContexts.id, contextId));
      expect(ac).toMatchObject({ endReason: 'ended_by_admin', endedBy: superadmin.staffId });
      const entries = await database.db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.targetId, contextId), eq(auditLog.action, 'acting.ended_by_admin')));
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ actorStaffId: superadmin.staffId, orgId: orgA, outcome: 'success' });
      const [after] = await rows<{ live: boolean; ended_at: string | null }>(
        database.db,
        sql`select live, ended_at from platform_acting_contexts where acting_context_id = ${contextId}`,
      );
      expect(after).toMatchObject({ live: false, ended_at: expect.anything() });
    },
  );

  it('are readable by platform_reader through the view only', async () => {
    const [grants] = await rows<{ view: boolean; table: boolean }>(
      database.db,
      sql`select has_table_privilege('platform_reader', 'platform_acting_contexts', 'SELECT') as view,
                 has_table_privilege('platform_reader', 'acting_contexts', 'SELECT') as table`,
    );
    expect(grants).toEqual({ view: true, table: false });
  });
});
