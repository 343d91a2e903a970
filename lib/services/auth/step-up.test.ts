import { desc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, rows } from '@/db/client';
import { auditLog, staffCredentials, staffSessions } from '@/db/schema';
import { verifyChain } from '@/lib/audit';
import { storeChallenge } from '@/lib/auth/challenges';
import { testDatabase } from '@/test/db';
import { staffWithSession } from '@/test/staff';
import { finishEnrolment } from './enrol';
import { finishAddKey } from './keys';
import { beginStepUp, finishStepUp } from './step-up';

let database: Database;
beforeAll(async () => {
  database = await testDatabase();
});
afterAll(async () => {
  expect(await verifyChain(database.db)).toMatchObject({ ok: true });
  await database.close();
});

const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64url');

/** A well-formed answer to `challenge` whose signature is junk, as a forged or broken key would send. */
function forged(credentialId: string, challenge: string, type = 'webauthn.get') {
  return {
    id: credentialId,
    rawId: credentialId,
    type: 'public-key',
    response: {
      clientDataJSON: b64(JSON.stringify({ type, challenge, origin: 'http://localhost:3000' })),
      authenticatorData: b64(Buffer.alloc(37, 1)),
      signature: b64(Buffer.alloc(64, 2)),
      attestationObject: b64(Buffer.alloc(16, 3)),
    },
    clientExtensionResults: {},
  };
}

async function lastEntry() {
  const [e] = await database.db.select().from(auditLog).orderBy(desc(auditLog.seq)).limit(1);
  return e!;
}

const err = (p: Promise<unknown>) =>
  p.then(
    () => null,
    (e: unknown) => e as { status?: number; code?: string; message: string },
  );

describe('a failed step-up', () => {
  it('answers 403 with a clear message, is audited as a failure, and does not stamp the session', async () => {
    const me = await staffWithSession(database.db, 'superadmin');
    const [key] = await database.db
      .select()
      .from(staffCredentials)
      .where(eq(staffCredentials.staffId, me.staffId));
    const { challenge } = await beginStepUp(me);
    const e = await err(finishStepUp(me, forged(key!.id, challenge)));
    expect(e).toMatchObject({
      status: 403,
      code: 'step_up_failed',
      message: expect.stringMatching(/security-key check failed/),
    });
    expect(await lastEntry()).toMatchObject({
      action: 'staff.step_up',
      outcome: 'failure',
      actorStaffId: me.staffId,
      targetId: key!.id,
    });
    const [session] = await database.db
      .select()
      .from(staffSessions)
      .where(eq(staffSessions.id, me.sessionId));
    expect(session!.stepUpAt).toBeNull();

    // A replayed or unknown challenge is refused and audited the same way.
    const replay = await err(finishStepUp(me, forged(key!.id, challenge)));
    expect(replay).toMatchObject({ status: 403, code: 'step_up_failed' });
    expect(await lastEntry()).toMatchObject({ action: 'staff.step_up', outcome: 'failure' });
  });
});

describe('a refused enrolment challenge', () => {
  it('is audited as a failed enrolment', async () => {
    const [before] = await rows<{ n: number }>(database.db, sql`select count(*)::int as n from audit_log`);
    const challenge = b64('never-issued-challenge-0123456789');
    const e = await err(
      finishEnrolment(
        database.db,
        { requestId: 'r', ip: '10.0.0.9', userAgent: 'vitest' },
        {
          token: 'A'.repeat(43),
          displayName: 'Eve',
          nickname: 'k',
          response: forged('AAAAAAAAAAAAAAAAAAAA', challenge, 'webauthn.create'),
        },
      ),
    );
    expect(e).toMatchObject({ status: 400, code: 'challenge_invalid' });
    const [after] = await rows<{ n: number }>(database.db, sql`select count(*)::int as n from audit_log`);
    expect(after!.n).toBe(before!.n + 1);
    expect(await lastEntry()).toMatchObject({
      action: 'staff.enrolled',
      outcome: 'failure',
      srcIp: '10.0.0.9',
      diff: { reason: 'challenge_invalid' },
    });
  });

  it('is audited as a failed key addition for a signed-in staff member', async () => {
    const me = await staffWithSession(database.db, 'support');
    const challenge = b64('never-issued-challenge-for-add-key-01');
    const e = await err(
      finishAddKey(me, {
        nickname: 'Spare',
        response: forged('AAAAAAAAAAAAAAAAAAAA', challenge, 'webauthn.create'),
      }),
    );
    expect(e).toMatchObject({ status: 400, code: 'challenge_invalid' });
    expect(await lastEntry()).toMatchObject({
      action: 'staff.key.added',
      outcome: 'failure',
      actorStaffId: me.staffId,
      diff: { reason: 'challenge_invalid' },
    });
  });

  it('is consumed even when the key is refused', async () => {
    const challenge = b64('issued-challenge-for-registration-01');
    await storeChallenge(database.db, challenge, 'registration', null);
    await err(
      finishEnrolment(
        database.db,
        { requestId: 'r', ip: null, userAgent: null },
        {
          token: 'A'.repeat(43),
          displayName: 'Eve',
          nickname: 'k',
          response: forged('AAAAAAAAAAAAAAAAAAAA', challenge, 'webauthn.create'),
        },
      ),
    );
    const [row] = await rows<{ consumed: boolean }>(
      database.db,
      sql`select consumed_at is not null as consumed from webauthn_challenges where challenge = ${challenge}`,
    );
    expect(row).toEqual({ consumed: true });
  });
});
