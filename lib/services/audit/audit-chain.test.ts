import { spawnSync } from 'node:child_process';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, rows } from '@/db/client';
import { pgError } from '@/db/errors';
import { auditCheckpoints, auditVerifyRuns } from '@/db/schema';
import { hmacKeyRing, verifyChain } from '@/lib/audit';
import { checkpointIfDue, checkpointPayload, readCheckpoints } from '@/lib/audit/checkpoint';
import { checkpointKeyRing, publicKeyPem } from '@/lib/audit/checkpoint-keys';
import { activeKeysFromChain, syncKeyRings } from '@/lib/audit/key-state';
import { readEntries } from '@/lib/audit/verify';
import { ForbiddenError, StepUpRequiredError, ValidationError } from '@/lib/errors';
import { testDatabase } from '@/test/db';
import { approvedBy } from '@/test/approvals';
import { staffWithSession } from '@/test/staff';
import { exportCheckpoints, signCheckpointNow } from './checkpoints';
import { rotateCheckpointKey, rotateHmacKey } from './keys';
import { failAbandonedRuns, startVerification } from './verify';

let database: Database;
beforeAll(async () => {
  database = await testDatabase({ max: 8 });
});
afterAll(() => database.close());

const db = () => database.db;

async function lastEntry() {
  const [e] = await rows<{ seq: string }>(db(), sql`select max(seq)::text as seq from audit_log`);
  const [entry] = await readEntries(db(), Number(e!.seq) - 1, Number(e!.seq), 1);
  return entry!;
}

async function waitForRun(id: string) {
  for (let i = 0; i < 200; i++) {
    const [run] = await db().select().from(auditVerifyRuns).where(eq(auditVerifyRuns.id, id));
    if (run && run.status !== 'running') return run;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the run did not finish');
}

describe('signed checkpoints', () => {
  it('are signed on demand, audited, and checkable with the public key alone (the docs/AUDIT.md one-liner)', async () => {
    const admin = await staffWithSession(db(), 'auditor');
    const checkpoint = await signCheckpointNow(admin);
    const entry = await lastEntry();
    expect(entry).toMatchObject({ action: 'audit.checkpoint.signed', target_id: checkpoint.id });
    expect(entry.seq).toBe(checkpoint.seq + 1);
    expect(checkpointPayload(checkpoint)).toBe(
      `{"chain_id":"${checkpoint.chain_id}","head_hmac":"${checkpoint.head_hmac}","key_id":"test-cp1","seq":${checkpoint.seq},"signed_at":"${checkpoint.signed_at}","type":"arbitex.audit.checkpoint.v1"}`,
    );
    const verifyWithNode = (c: object) =>
      spawnSync(
        'node',
        [
          '-e',
          'const c=require("crypto");const k=JSON.parse(process.argv[1]);const p=JSON.stringify({chain_id:k.chain_id,head_hmac:k.head_hmac,key_id:k.key_id,seq:k.seq,signed_at:k.signed_at,type:"arbitex.audit.checkpoint.v1"});console.log(c.verify(null,Buffer.from(p),c.createPublicKey(process.argv[2]),Buffer.from(k.signature,"base64"))?"valid":"INVALID")',
          JSON.stringify(c),
          publicKeyPem(checkpointKeyRing().keys.get('test-cp1')!),
        ],
        { encoding: 'utf8' },
      ).stdout.trim();
    expect(verifyWithNode(checkpoint)).toBe('valid');
    expect(verifyWithNode({ ...checkpoint, seq: checkpoint.seq + 1 })).toBe('INVALID');
  });

  it('are written by one replica per interval, even when nothing happened', async () => {
    const pause = () => new Promise((r) => setTimeout(r, 1100));
    await pause();
    const before = (await readCheckpoints(db())).length;
    // Replicas racing on the same tick: one writes; the others find the lock taken or a fresh checkpoint.
    const racing = await Promise.all(Array.from({ length: 4 }, () => checkpointIfDue(db(), 1)));
    expect(racing.filter(Boolean)).toHaveLength(1);
    expect(await checkpointIfDue(db(), 5)).toBeNull();
    // Nothing appended since: the next interval still brings a checkpoint, of the same head.
    await pause();
    const idle = await checkpointIfDue(db(), 1);
    const first = racing.find(Boolean)!;
    expect(idle).toMatchObject({ seq: first.seq, head_hmac: first.head_hmac });
    expect(idle!.signed_at > first.signed_at).toBe(true);
    expect((await readCheckpoints(db())).length).toBe(before + 2);
  });

  it('are exported with the public keys, and the export is audited', async () => {
    const auditor = await staffWithSession(db(), 'auditor');
    const document = await exportCheckpoints(auditor);
    expect(document.public_keys['test-cp1']).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(document.checkpoints.length).toBeGreaterThan(0);
    expect(JSON.stringify(document)).not.toMatch(/PRIVATE/);
    expect((await lastEntry()).action).toBe('audit.checkpoints.exported');
    await expect(exportCheckpoints(await staffWithSession(db(), 'support'))).rejects.toThrow(ForbiddenError);
  });

  it.each([
    ['UPDATE', `update audit_checkpoints set seq = 0`],
    ['DELETE', `delete from audit_checkpoints`],
    // CASCADE: a plain TRUNCATE stops earlier, at audit_checkpoint_cosignatures' foreign key.
    ['TRUNCATE', `truncate audit_checkpoints cascade`],
  ])('refuse %s, even for the table owner', async (_op, statement) => {
    const err = await db()
      .execute(sql.raw(statement))
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(pgError(err)).toMatchObject({ code: '42501', message: expect.stringMatching(/append-only/) });
  });

  it('keep their triggers under replication mode, and portal_app may only read and insert', async () => {
    const triggers = await rows<{ tgname: string; tgenabled: string }>(
      db(),
      sql`select tgname, tgenabled from pg_trigger where tgrelid = 'audit_checkpoints'::regclass and not tgisinternal order by tgname`,
    );
    expect(triggers).toEqual([
      { tgname: 'audit_checkpoints_no_truncate', tgenabled: 'A' },
      { tgname: 'audit_checkpoints_no_update_delete', tgenabled: 'A' },
    ]);
    const privileges = await rows<{ p: string; granted: boolean }>(
      db(),
      sql`select p, has_table_privilege('portal_app', 'audit_checkpoints', p) as granted
          from unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) as p`,
    );
    expect(Object.fromEntries(privileges.map((r) => [r.p, r.granted]))).toEqual({
      SELECT: true,
      INSERT: true,
      UPDATE: false,
      DELETE: false,
      TRUNCATE: false,
    });
  });
});

describe('verification runs', () => {
  it('run in the background to an audited verdict stored on the run row', async () => {
    const auditor = await staffWithSession(db(), 'auditor');
    const { runId } = await startVerification(auditor, {});
    const run = await waitForRun(runId);
    expect(run).toMatchObject({
      status: 'valid',
      requestedEmail: auditor.email,
      source: 'portal',
      fromSeq: 1,
    });
    expect(run.checked).toBe(run.toSeq);
    expect(run.result).toMatchObject({ ok: true, checkpoint: { key_id: 'test-cp1' } });
    // The verdict's entry commits with the row in audit_inbox and reaches the chain with the drain just after.
    const chained = async () => {
      for (let i = 0; i < 100; i++) {
        const audit = await rows<{ action: string; outcome: string; target_id: string }>(
          db(),
          sql`select action, outcome::text as outcome, target_id from audit_log where target_id = ${runId} order by audit_log.seq`,
        );
        if (audit.length >= 2) return audit;
        await new Promise((r) => setTimeout(r, 50));
      }
      return [];
    };
    expect(await chained()).toEqual([
      { action: 'audit.verify.started', outcome: 'success', target_id: runId },
      { action: 'audit.verified', outcome: 'success', target_id: runId },
    ]);
  });

  it('run one at a time from the portal: a second start answers 409 with the running one', async () => {
    const auditor = await staffWithSession(db(), 'auditor');
    const [running] = await db()
      .insert(auditVerifyRuns)
      .values({
        requestedEmail: 'first@arbitex.ai',
        source: 'portal',
        fromSeq: 1,
        toSeq: 5,
        runner: 'elsewhere:1',
      })
      .returning();
    await expect(startVerification(auditor, {})).rejects.toMatchObject({
      status: 409,
      extra: { current: { runId: running!.id } },
    });
    await db().update(auditVerifyRuns).set({ status: 'failed' }).where(eq(auditVerifyRuns.id, running!.id));
  });

  it('refuse a bad range, naming the field, and a role without audit.verify', async () => {
    const auditor = await staffWithSession(db(), 'auditor');
    const runs = await db().select().from(auditVerifyRuns);
    await expect(startVerification(auditor, { fromSeq: 9, toSeq: 3 })).rejects.toMatchObject({
      fields: { toSeq: 'must not be below the first seq' },
    });
    await expect(startVerification(auditor, { fromSeq: 'abc' })).rejects.toThrow(ValidationError);
    await expect(startVerification(auditor, { fromSeq: 10_000_000 })).rejects.toMatchObject({
      fields: { fromSeq: expect.stringMatching(/the chain ends at seq/) },
    });
    await expect(startVerification(await staffWithSession(db(), 'support'), {})).rejects.toThrow(
      ForbiddenError,
    );
    expect(await db().select().from(auditVerifyRuns)).toHaveLength(runs.length);
  });

  it('whose process died are ended as failed, and audited', async () => {
    const [run] = await db()
      .insert(auditVerifyRuns)
      .values({
        requestedEmail: 'gone@arbitex.ai',
        source: 'portal',
        fromSeq: 1,
        toSeq: 5,
        runner: 'replica-that-died:1',
        heartbeatAt: new Date(Date.now() - 5 * 60_000),
      })
      .returning();
    const ctx = (await staffWithSession(db(), 'auditor')) as Parameters<typeof failAbandonedRuns>[0];
    expect(await failAbandonedRuns(ctx)).toBe(1);
    const [after] = await db().select().from(auditVerifyRuns).where(eq(auditVerifyRuns.id, run!.id));
    expect(after).toMatchObject({
      status: 'failed',
      result: { error: expect.stringMatching(/no heartbeat/) },
    });
    expect(await lastEntry()).toMatchObject({
      action: 'audit.verified',
      outcome: 'failure',
      target_id: run!.id,
    });
  });
});

describe('key rotation', () => {
  it('needs keys.rotate, a fresh security-key check, and a staged key never used', async () => {
    await expect(
      rotateHmacKey(await staffWithSession(db(), 'auditor'), { keyId: 'test-k2' }),
    ).rejects.toThrow(ForbiddenError);
    const stale = await staffWithSession(db(), 'superadmin', { signedInSecondsAgo: 3600 });
    await expect(rotateHmacKey(stale, { keyId: 'test-k2' })).rejects.toThrow(StepUpRequiredError);
    const admin = await staffWithSession(db(), 'superadmin');
    await expect(rotateHmacKey(admin, { keyId: 'k-nowhere' })).rejects.toMatchObject({
      fields: { keyId: expect.stringMatching(/is not in audit-hmac-keys/) },
    });
    await expect(rotateHmacKey(admin, { keyId: 'test-k1' })).rejects.toMatchObject({
      fields: { keyId: expect.stringMatching(/in use before/) },
    });
    // SECRETS_BACKEND=env: the portal generates nothing; the operator stages the key.
    await expect(rotateHmacKey(admin, {})).rejects.toMatchObject({
      fields: { keyId: expect.stringMatching(/choose a key the operator added/) },
    });
    expect(hmacKeyRing().activeId).toBe('test-k1');
  });

  it('of the HMAC key: an entry MACed with the old key names the new one; later entries use the new key', async () => {
    const admin = await staffWithSession(db(), 'superadmin');
    const second = await staffWithSession(db(), 'superadmin');
    expect(await approvedBy(rotateHmacKey(admin, { keyId: 'test-k2' }), second)).toEqual({
      activeKeyId: 'test-k2',
      previousKeyId: 'test-k1',
    });
    const rotation = await lastEntry();
    expect(rotation).toMatchObject({
      action: 'audit.hmac_key.rotated',
      hmac_key_id: 'test-k1',
      target_id: 'test-k2',
      diff: { before: { active_key_id: 'test-k1' }, after: { active_key_id: 'test-k2' } },
    });
    await signCheckpointNow(admin);
    expect((await lastEntry()).hmac_key_id).toBe('test-k2');
    expect(await verifyChain(db())).toMatchObject({ ok: true });
    await expect(rotateHmacKey(admin, { keyId: 'test-k1' })).rejects.toThrow(ValidationError);
  });

  it('reaches a replica that has not heard of it yet: its key ring follows the chain', async () => {
    // A fresh process: the ring as the key file has it (test-k1 active).
    const state = globalThis as { __auditHmacRing?: unknown; __auditHmacActive?: unknown };
    state.__auditHmacRing = undefined;
    state.__auditHmacActive = undefined;
    expect(hmacKeyRing().activeId).toBe('test-k1');
    expect(await activeKeysFromChain(db())).toMatchObject({ hmac: 'test-k2' });
    await syncKeyRings(db());
    expect(hmacKeyRing().activeId).toBe('test-k2');
  });

  it('of the checkpoint key: new checkpoints are signed with it, and the old ones still verify', async () => {
    const admin = await staffWithSession(db(), 'superadmin');
    const second = await staffWithSession(db(), 'superadmin');
    expect(await approvedBy(rotateCheckpointKey(admin, { keyId: 'test-cp2' }), second)).toEqual({
      activeKeyId: 'test-cp2',
      previousKeyId: 'test-cp1',
    });
    expect(await lastEntry()).toMatchObject({
      action: 'audit.checkpoint_key.rotated',
      target_id: 'test-cp2',
    });
    const next = await signCheckpointNow(admin);
    expect(next.key_id).toBe('test-cp2');
    const keys = new Set((await db().select().from(auditCheckpoints)).map((c) => c.keyId));
    expect(keys).toEqual(new Set(['test-cp1', 'test-cp2']));
    expect(await verifyChain(db())).toMatchObject({ ok: true, checkpoint: { key_id: 'test-cp2' } });
  });
});
