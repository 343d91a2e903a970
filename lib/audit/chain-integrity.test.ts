import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Database, rows } from '@/db/client';
import { organizations } from '@/db/schema';
import { forgeAtHead } from '@/test/audit-forge';
import { chainState } from '@/lib/health';
import { testDatabase } from '@/test/db';
import { type AuditCtx, verifyChain, withAudit } from '.';
import { appendEntries } from './append';
import { HMAC_ROTATION } from './chain';
import { insertCheckpoint } from './checkpoint';
import { checkHead, readKeyHistory } from './head';
import { chainPending, enqueueEntries } from './inbox';
import { activeKeysFromChain } from './key-state';
import { hmacKeyRing } from './keys';

// The attacker of issue 13: holds the retired HMAC key test-k1 and can write to the tables (here as the
// superuser the tests connect as; migration 0015's grants, tested in db-grants.test.ts, stop portal_app).
let database: Database;
let ctx: AuditCtx;
let orgId: string;
const ring = (activeId: 'test-k1' | 'test-k2') => ({ activeId, keys: hmacKeyRing().keys });

beforeEach(async () => {
  database = await testDatabase();
  ctx = {
    db: database.db,
    actor: { staffId: null, email: 'ops@arbitex.ai', actingOrgId: null, actingContextId: null },
    requestId: null,
    ip: null,
    userAgent: null,
  };
  const [org] = await database.db
    .insert(organizations)
    .values({ slug: 'victim', name: 'Victim', planTier: 'team_saas' })
    .returning();
  orgId = org!.id;
});
afterEach(() => database.close());

async function rename(name: string) {
  await withAudit(ctx, { action: 'org.updated', orgId }, async (tx, audit) => {
    await tx.update(organizations).set({ name }).where(eq(organizations.id, orgId));
    audit.diff({}, { name });
  });
}

/** A few entries under test-k1, the rotation to test-k2 (MAC'd with test-k1), and one entry under test-k2. */
async function rotatedChain(rotatedAt = new Date()) {
  await rename('one');
  await rename('two');
  await database.db.transaction((tx) =>
    enqueueEntries(
      tx,
      [
        {
          action: HMAC_ROTATION,
          target_type: 'audit_hmac_key',
          target_id: 'test-k2',
          occurred_at: rotatedAt.toISOString(),
        },
      ],
      ring('test-k1'),
    ),
  );
  await chainPending(database.db, ring('test-k1'));
  await withAudit(ctx, { action: 'org.updated', orgId }, async () => {}, ring('test-k2'));
}

async function inboxCount(): Promise<number> {
  const [r] = await rows<{ n: string }>(database.db, sql`select count(*)::text as n from audit_inbox`);
  return Number(r!.n);
}

async function keysAndActions() {
  return rows<{ seq: string; action: string; key: string }>(
    database.db,
    sql`select seq::text as seq, action, hmac_key_id as key from audit_log order by seq`,
  );
}

describe('the drain trusts nothing it did not check', () => {
  it('refuses to chain onto a head forged with the retired key; the write commits and its entry waits; repaired, it drains', async () => {
    await rotatedChain();
    expect(await verifyChain(database.db, { checkpoints: false })).toMatchObject({ ok: true, checked: 4 });
    const forged = await forgeAtHead(database.db, 'test-k1', {
      action: 'staff.role_changed',
      diff: { before: { role: 'auditor' }, after: { role: 'superadmin' } },
    });

    // The next audited write: its business row commits, its entry stays in the inbox, nothing is chained.
    await rename('after the forgery');
    const [org] = await database.db.select().from(organizations).where(eq(organizations.id, orgId));
    expect(org!.name).toBe('after the forgery');
    expect(await inboxCount()).toBe(1);
    expect((await keysAndActions()).map((r) => r.seq)).toEqual(['1', '2', '3', '4', '5']);
    const head = await checkHead(database.db, hmacKeyRing());
    expect(head).toMatchObject({
      ok: false,
      seq: forged.seq,
      usedKeyId: 'test-k1',
      expectedKeyId: 'test-k2',
    });
    await expect(chainPending(database.db, ring('test-k2'))).rejects.toThrow(
      /refusing to extend a broken head: the chain's head, seq 5, is MACed with the key "test-k1", but the key in force is "test-k2"/,
    );
    // Readiness is red: the portal takes no traffic on top of a forged head.
    expect(await chainState(database.db)).toBe('broken_head');
    // Nor is a checkpoint signed over it.
    await expect(database.db.transaction((tx) => insertCheckpoint(tx))).rejects.toThrow(/broken head/);

    // The head repaired (the forged row removed, as a restore from backup would), the inbox drains.
    await database.db.execute(sql`alter table audit_log disable trigger user`);
    await database.db.execute(sql`delete from audit_log where seq = ${forged.seq}`);
    expect(await chainPending(database.db, ring('test-k2'))).toBe(1);
    expect(await inboxCount()).toBe(0);
    expect(await chainState(database.db)).toBe('ok');
    expect((await keysAndActions()).at(-1)).toMatchObject({
      seq: '5',
      action: 'org.updated',
      key: 'test-k2',
    });
    expect(await verifyChain(database.db, { checkpoints: false })).toMatchObject({ ok: true, checked: 5 });
  });

  it('two forged entries, the last a rotation back to the retired key, do not move the key in force', async () => {
    await rotatedChain();
    await forgeAtHead(database.db, 'test-k1', { action: 'org.updated' });
    await forgeAtHead(database.db, 'test-k1', {
      action: HMAC_ROTATION,
      target_type: 'audit_hmac_key',
      target_id: 'test-k1',
    });
    const history = await readKeyHistory(database.db, hmacKeyRing());
    expect(history.rotations.map((r) => [r.seq, r.toKeyId])).toEqual([[3, 'test-k2']]);
    expect(history.ignored).toEqual([6]);
    expect(await activeKeysFromChain(database.db)).toMatchObject({ hmac: 'test-k2' });
    expect(await checkHead(database.db, hmacKeyRing())).toMatchObject({ ok: false, seq: 6 });
  });

  it('takes its key from the verified history, not from the head row', async () => {
    // A forged head that claims to be a rotation to test-k1, MAC'd with test-k1: before, the drain took
    // "test-k1" from the head row and MAC'd every later genuine entry with the retired key.
    await rotatedChain();
    await forgeAtHead(database.db, 'test-k1', {
      action: HMAC_ROTATION,
      target_type: 'audit_hmac_key',
      target_id: 'test-k1',
    });
    await rename('later');
    expect((await keysAndActions()).filter((r) => r.key === 'test-k1' && Number(r.seq) > 3)).toHaveLength(1);
  });
});

describe("inbox rows MAC'd with a retired key", () => {
  it('are chained as rejected once the grace after the rotation is over, never as what they claim', async () => {
    await rotatedChain(new Date(Date.now() - 5 * 60_000));
    await database.db.transaction((tx) =>
      enqueueEntries(
        tx,
        [
          {
            action: 'staff.role_changed',
            diff: { before: { role: 'auditor' }, after: { role: 'superadmin' } },
          },
        ],
        ring('test-k1'),
      ),
    );
    await chainPending(database.db, ring('test-k2'));
    const [last] = await rows<{ action: string; outcome: string; key: string; reason: string }>(
      database.db,
      sql`select action, outcome::text as outcome, hmac_key_id as key, diff->>'reason' as reason from audit_log order by seq desc limit 1`,
    );
    expect(last).toEqual({
      action: 'audit.inbox_rejected',
      outcome: 'failure',
      key: 'test-k2',
      reason: 'MACed with the key "test-k1", which is not in force (the chain is on "test-k2")',
    });
    expect(await verifyChain(database.db, { checkpoints: false })).toMatchObject({ ok: true });
  });

  it('are taken within the grace: a replica that heard of the rotation late loses nothing', async () => {
    await rotatedChain();
    await database.db.transaction((tx) => enqueueEntries(tx, [{ action: 'org.suspended' }], ring('test-k1')));
    await chainPending(database.db, ring('test-k1'));
    expect((await keysAndActions()).at(-1)).toMatchObject({ action: 'org.suspended', key: 'test-k2' });
  });

  it("a rotation in the inbox counts only if its row is MAC'd with the key in force", async () => {
    await rotatedChain(new Date(Date.now() - 5 * 60_000));
    await database.db.transaction((tx) =>
      enqueueEntries(
        tx,
        [{ action: HMAC_ROTATION, target_type: 'audit_hmac_key', target_id: 'test-k1' }],
        ring('test-k1'),
      ),
    );
    expect(await activeKeysFromChain(database.db)).toMatchObject({ hmac: 'test-k2' });
  });
});

describe('seeding', () => {
  it('appends through the same checked path', async () => {
    await database.db.transaction((tx) => appendEntries(tx, [{ action: 'system.seed' }], ring('test-k1')));
    expect(await verifyChain(database.db, { checkpoints: false })).toMatchObject({ ok: true, checked: 1 });
  });
});
