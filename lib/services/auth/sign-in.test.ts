import crypto from 'node:crypto';
import { and, desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '@/db/client';
import { auditLog, signinThrottle, staffCredentials } from '@/db/schema';
import { verifyChain } from '@/lib/audit';
import type { RequestMeta } from '@/lib/auth/session';
import { testDatabase } from '@/test/db';
import { softwareKey } from '@/test/software-key';
import { staffWithSession } from '@/test/staff';
import { beginSignIn, finishSignIn } from './sign-in';

let database: Database;
beforeAll(async () => {
  database = await testDatabase();
});
afterAll(async () => {
  expect(await verifyChain(database.db)).toMatchObject({ ok: true });
  await database.close();
});

const throttle = { perIp: 8, perCredential: 3, windowS: 900 };
/** A client address of its own for each test, so that the tests' limits do not meet. */
const client = (): RequestMeta => ({
  requestId: crypto.randomUUID(),
  ip: `198.51.100.${crypto.randomInt(1, 255)}`,
  userAgent: 'vitest',
});
const err = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as { status?: number; code?: string; message: string; limit?: string },
  );

async function challenge(meta: RequestMeta) {
  return (await beginSignIn(database.db, meta, {}, { throttle })).challenge;
}

/** An answer naming `credentialId` that anyone could make: no key signed it. */
function junk(credentialId: string, challengeValue: string) {
  const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');
  return {
    id: credentialId,
    rawId: credentialId,
    type: 'public-key',
    response: {
      clientDataJSON: b64(
        JSON.stringify({ type: 'webauthn.get', challenge: challengeValue, origin: 'http://localhost:3000' }),
      ),
      authenticatorData: b64(Buffer.alloc(37, 1)),
      signature: b64(Buffer.alloc(64, 2)),
    },
    clientExtensionResults: {},
  };
}

async function newestAudit(action: string, targetId?: string) {
  const [e] = await database.db
    .select()
    .from(auditLog)
    .where(and(eq(auditLog.action, action), targetId ? eq(auditLog.targetId, targetId) : undefined))
    .orderBy(desc(auditLog.seq))
    .limit(1);
  return e;
}

async function failures(key: string) {
  const [row] = await database.db.select().from(signinThrottle).where(eq(signinThrottle.key, key));
  return row?.failures ?? 0;
}

async function staffKey() {
  const staff = await staffWithSession(database.db, 'superadmin');
  return { staff, key: await softwareKey(database.db, staff.staffId) };
}

describe('sign-in options', () => {
  it('name no one: no e-mail is taken and no credential ids are handed out', async () => {
    const options = await beginSignIn(database.db, client(), {}, { throttle });
    expect(options.allowCredentials ?? []).toEqual([]);
    expect(options.userVerification).toBe('required');
    expect(
      await err(beginSignIn(database.db, client(), { email: 'superadmin@arbitex.local' })),
    ).toMatchObject({ status: 400, code: 'invalid', message: expect.stringMatching(/email/) });
  });
});

describe('a discoverable-credential sign-in', () => {
  it('opens a session for a signed assertion', async () => {
    const { staff, key } = await staffKey();
    const meta = client();
    const signed = await finishSignIn(database.db, meta, key.assert(await challenge(meta)), { throttle });
    expect(signed).toMatchObject({ staffId: staff.staffId, role: 'superadmin' });
    expect(await newestAudit('staff.signin.success', key.id)).toMatchObject({
      actorStaffId: staff.staffId,
      srcIp: meta.ip,
    });
  });
});

describe('failed sign-ins', () => {
  it("junk naming a staff member's key counts against the client, never against the key", async () => {
    const { staff, key } = await staffKey();
    const attacker = client();
    // More unsigned answers naming the victim's key than the key's limit: each refused, audited, and
    // counted against the attacker's address only.
    for (let i = 0; i < throttle.perCredential + 2; i++) {
      const refused = await err(
        finishSignIn(database.db, attacker, junk(key.id, await challenge(attacker)), { throttle }),
      );
      expect(refused).toMatchObject({ status: 401, code: 'signin_failed' });
    }
    expect(await failures(`cred:${key.id}`)).toBe(0);
    expect(await failures(`ip:${attacker.ip}`)).toBe(throttle.perCredential + 2);
    const audited = await newestAudit('staff.signin.failure', key.id);
    expect(audited).toMatchObject({ outcome: 'failure', actorStaffId: staff.staffId, srcIp: attacker.ip });
    expect(audited!.diff).toMatchObject({ reason: expect.any(String), verified_by_key: false });

    // The key's owner still signs in.
    const owner = client();
    await expect(
      finishSignIn(database.db, owner, key.assert(await challenge(owner)), { throttle }),
    ).resolves.toMatchObject({ staffId: staff.staffId });

    // The attacker's address reaches its own limit: refused before any ceremony, and audited.
    while ((await failures(`ip:${attacker.ip}`)) < throttle.perIp) {
      await err(finishSignIn(database.db, attacker, junk(key.id, await challenge(attacker)), { throttle }));
    }
    const throttled = await err(beginSignIn(database.db, attacker, {}, { throttle }));
    expect(throttled).toMatchObject({ status: 429, limit: 'client_address' });
    const entry = await newestAudit('staff.signin.failure');
    expect(entry).toMatchObject({ outcome: 'denied', srcIp: attacker.ip, targetId: null });
    expect(entry!.diff).toMatchObject({ reason: 'throttled', limit: 'client_address' });
  });

  it('a refusal after the signature verified counts against the key, and its limit is audited', async () => {
    const { staff, key } = await staffKey();
    const holder = client();
    // Signed by the key, refused by the policy afterwards (the assertion now reports backup flags).
    for (let i = 0; i < throttle.perCredential; i++) {
      const refused = await err(
        finishSignIn(database.db, holder, key.assert(await challenge(holder), { backedUp: true }), {
          throttle,
        }),
      );
      expect(refused).toMatchObject({ status: 401, message: expect.stringMatching(/backed up or synced/) });
    }
    expect(await failures(`cred:${key.id}`)).toBe(throttle.perCredential);
    expect((await newestAudit('staff.signin.failure', key.id))!.diff).toMatchObject({
      reason: 'backed_up',
      verified_by_key: true,
    });

    // From any address, the key is now refused until its window ends; the refusal is audited against it.
    const elsewhere = client();
    const refused = await err(
      finishSignIn(database.db, elsewhere, key.assert(await challenge(elsewhere)), { throttle }),
    );
    expect(refused).toMatchObject({ status: 429, limit: 'credential' });
    const entry = await newestAudit('staff.signin.failure', key.id);
    expect(entry).toMatchObject({ outcome: 'denied', srcIp: elsewhere.ip, actorStaffId: null });
    expect(entry!.diff).toMatchObject({ reason: 'throttled', limit: 'credential' });
    const [cred] = await database.db.select().from(staffCredentials).where(eq(staffCredentials.id, key.id));
    expect(cred!.lastUsedAt).toBeNull();
    expect(staff.staffId).toBe(cred!.staffId);
  });

  it('a counter that went backwards locks the key and counts against it', async () => {
    const { key } = await staffKey();
    const meta = client();
    await finishSignIn(database.db, meta, key.assert(await challenge(meta), { counter: 10 }), { throttle });
    const refused = await err(
      finishSignIn(database.db, meta, key.assert(await challenge(meta), { counter: 4 }), { throttle }),
    );
    expect(refused).toMatchObject({ status: 401, message: expect.stringMatching(/went backwards/) });
    expect(await failures(`cred:${key.id}`)).toBe(1);
    const [cred] = await database.db
      .select({ lockedAt: staffCredentials.lockedAt })
      .from(staffCredentials)
      .where(eq(staffCredentials.id, key.id));
    expect(cred!.lockedAt).not.toBeNull();
  });
});
