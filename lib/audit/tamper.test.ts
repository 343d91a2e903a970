import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '@/db/client';
import { organizations } from '@/db/schema';
import { writeExport } from '@/test/audit-export';
import { type AuditCtx, type ChainEntry, entryHmac, hmacKeyRing, verifyChain, withAudit } from '.';
import { insertCheckpoint, readCheckpoints, signCheckpoint } from './checkpoint';
import { exportBatches, planExport } from './export';
import { checkpointKeyRing, parseCheckpointKeyRing, publicKeys } from './checkpoint-keys';
import { forgeAtHead } from '@/test/audit-forge';
import { HMAC_ROTATION } from './chain';
import { readEntries } from './verify';
import { verifyExportFile } from './verify-file';
import { bundledWorker, verifyChainParallel } from './verify-parallel';
import { verifyWorkerFile } from '@/lib/services/audit/verify';

// Each case tampers as a database superuser would: the append-only triggers switched off first. Each is
// then found twice: by verifyChain on the database, and by the offline verifier on an export of it.
let database: Database;
let ctx: AuditCtx;
let orgId: string;
let renames = 0;

async function rename() {
  const i = ++renames;
  await withAudit(ctx, { action: 'org.updated', orgId }, async (tx, audit) => {
    await tx
      .update(organizations)
      .set({ name: `Tamper ${i}` })
      .where(eq(organizations.id, orgId));
    audit.diff({ name: `Tamper ${i - 1}` }, { name: `Tamper ${i}` });
  });
}

async function checkpoint() {
  return database.db.transaction((tx) => insertCheckpoint(tx));
}

beforeEach(async () => {
  database = await testDatabaseWithChain();
});
afterEach(() => database.close());

/** 20 entries, with signed checkpoints of seq 10 and seq 20. */
async function testDatabaseWithChain() {
  const { testDatabase } = await import('@/test/db');
  const db = await testDatabase();
  database = db;
  ctx = {
    db: db.db,
    actor: {
      staffId: crypto.randomUUID(),
      email: 'admin@arbitex.ai',
      actingOrgId: null,
      actingContextId: null,
    },
    requestId: null,
    ip: null,
    userAgent: null,
  };
  const [org] = await db.db
    .insert(organizations)
    .values({ slug: 'tamper', name: 'Tamper', planTier: 'team_saas' })
    .returning();
  orgId = org!.id;
  renames = 0;
  for (let i = 1; i <= 20; i++) {
    await rename();
    if (i === 10 || i === 20) await checkpoint();
  }
  expect(await verifyChain(db.db)).toMatchObject({ ok: true, checked: 20, checkpoint: { seq: 20 } });
  await superuser(`alter table audit_log disable trigger user`);
  await superuser(`alter table audit_checkpoints disable trigger user`);
  return db;
}

function superuser(statement: string) {
  return database.db.execute(sql.raw(statement));
}

async function entries(): Promise<ChainEntry[]> {
  return readEntries(database.db, 0, Number.MAX_SAFE_INTEGER, 1_000_000);
}

/** The offline verifier on an export of the whole table as it is now (open-ended, as a full export is). */
async function viaExport(opts: { contiguous?: boolean; pick?: (e: ChainEntry) => boolean } = {}) {
  const file = writeExport({
    entries: (await entries()).filter(opts.pick ?? (() => true)),
    checkpoints: (await readCheckpoints(database.db)).map(({ id: _id, ...c }) => c),
    contiguous: opts.contiguous ?? true,
  });
  return verifyExportFile(file, { keys: hmacKeyRing(), publicKeys: publicKeys(checkpointKeyRing()) });
}

/** The portal's own export of the whole chain (what /api/audit/export streams), verified offline. */
async function viaPortalExport() {
  const plan = await planExport(database.db, {}, {});
  let text = '';
  for await (const chunk of exportBatches(database.db, plan)) text += chunk;
  const file = path.join(os.tmpdir(), `audit-export-${crypto.randomUUID()}.ndjson`);
  fs.writeFileSync(file, text);
  try {
    return await verifyExportFile(file, { keys: hmacKeyRing(), publicKeys: publicKeys(checkpointKeyRing()) });
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/**
 * Every verifier: the database walk, the parallel one (chunks of 6 entries, so that chunk borders fall inside
 * every case) in the portal's worker bundle, its workers reading with COPY on PostgreSQL and parsing the
 * COPY output this thread posts on PGlite, an export of the table, and the portal's export.
 */
async function expectBoth(expected: Record<string, unknown>) {
  expect(await verifyChain(database.db)).toMatchObject(expected);
  const parallel = (url: string | null) =>
    verifyChainParallel(database.db, {
      url,
      startWorker: bundledWorker(verifyWorkerFile()),
      workers: 2,
      chunkSize: 6,
    });
  expect(await parallel((database as { url?: string }).url ?? null)).toMatchObject(expected);
  expect(await viaExport()).toMatchObject(expected);
  expect(await viaPortalExport()).toMatchObject(expected);
}

/** The chain moves to test-k2: a rotation entry (MAC'd with test-k1), then `after` renames under test-k2. */
async function rotateToK2(after: number) {
  await withAudit(
    ctx,
    { action: HMAC_ROTATION, targetType: 'audit_hmac_key', targetId: 'test-k2' },
    (_tx, a) => {
      a.diff({ active_key_id: 'test-k1' }, { active_key_id: 'test-k2' });
      return Promise.resolve();
    },
  );
  for (let i = 0; i < after; i++) await rename();
}

describe('tampering is found at the right seq, with the right kind, in the database and in an export', () => {
  it('an untouched chain and its export verify', async () => {
    await expectBoth({ ok: true, checked: 20, headSeq: 20, checkpoint: { seq: 20 } });
  });

  it('a modified field', async () => {
    await superuser(`update audit_log set actor_email = 'someone-else@arbitex.ai' where seq = 7`);
    await expectBoth({ ok: false, firstBadSeq: 7, kind: 'modified', checked: 6 });
  });

  it('a modified diff', async () => {
    await superuser(
      `update audit_log set diff = jsonb_set(diff, '{after,name}', '"Renamed"') where seq = 12`,
    );
    await expectBoth({ ok: false, firstBadSeq: 12, kind: 'modified', checked: 11 });
  });

  it('a deleted row', async () => {
    await superuser(`delete from audit_log where seq = 7`);
    await expectBoth({ ok: false, firstBadSeq: 7, kind: 'gap', checked: 6 });
  });

  it('the first row deleted', async () => {
    await superuser(`delete from audit_log where seq = 1`);
    await expectBoth({ ok: false, firstBadSeq: 1, kind: 'gap', checked: 0 });
  });

  it('two swapped rows', async () => {
    await superuser(`update audit_log set seq = seq + 1000 where seq in (7, 8)`);
    await superuser(`update audit_log set seq = 8 where seq = 1007`);
    await superuser(`update audit_log set seq = 7 where seq = 1008`);
    await expectBoth({ ok: false, firstBadSeq: 7, kind: 'reordered', checked: 6 });
  });

  it('a forged row inserted without the key', async () => {
    await superuser(`update audit_log set seq = seq + 1000 where seq >= 7`);
    await superuser(`update audit_log set seq = seq - 999 where seq > 1000`);
    const [six] = (await entries()).filter((e) => e.seq === 6);
    await superuser(
      `insert into audit_log (seq, id, occurred_at, action, outcome, hmac_key_id, prev_hmac, hmac, actor_email)
       values (7, '${crypto.randomUUID()}', now(), 'org.resumed', 'success', 'test-k1',
               '${crypto.randomBytes(32).toString('hex')}', '${crypto.randomBytes(32).toString('hex')}', '${six!.actor_email}')`,
    );
    await expectBoth({ ok: false, firstBadSeq: 7, kind: 'inserted', checked: 6 });
  });

  it('a suffix re-MACed under a key id the ring does not have', async () => {
    const evil = crypto.randomBytes(32);
    let prev = (await entries()).find((e) => e.seq === 14)!.hmac;
    for (const e of (await entries()).filter((x) => x.seq >= 15)) {
      const forged = { ...e, hmac_key_id: 'k-evil', prev_hmac: prev };
      const hmac = entryHmac(evil, forged);
      await database.db.execute(
        sql`update audit_log set hmac_key_id = 'k-evil', prev_hmac = ${prev}, hmac = ${hmac} where seq = ${e.seq}`,
      );
      prev = hmac;
    }
    await expectBoth({ ok: false, firstBadSeq: 15, kind: 'unknown_key', checked: 14 });
    // The untouched prefix still verifies on its own.
    expect(await verifyChain(database.db, { toSeq: 14 })).toMatchObject({ ok: true, checked: 14 });
  });

  it('the tail truncated behind a signed checkpoint', async () => {
    await superuser(`delete from audit_log where seq > 15`);
    await expectBoth({ ok: false, firstBadSeq: 16, kind: 'truncated', checked: 15, checkpoint: { seq: 10 } });
  });

  it('an older backup of the table restored, which the portal then kept appending to', async () => {
    await superuser(`create table audit_backup as select * from audit_log`); // taken at seq 20
    for (let i = 0; i < 10; i++) await rename();
    await checkpoint(); // of seq 30
    await superuser(`delete from audit_log`);
    await superuser(`insert into audit_log select * from audit_backup`);
    // The chain as restored is a prefix of the signed history: its tail is simply missing.
    await expectBoth({ ok: false, firstBadSeq: 21, kind: 'truncated', checked: 20 });
    // The portal appends on top of the restored table, and signs its new head: a second history.
    for (let i = 0; i < 15; i++) await rename();
    await checkpoint(); // of seq 35, of the new history
    await expectBoth({ ok: false, firstBadSeq: 21, kind: 'rollback', checked: 35 });
  });

  it('a checkpoint forged under a key that is not a checkpoint key', async () => {
    const forger = parseCheckpointKeyRing(
      JSON.stringify({
        active: 'test-cp1',
        keys: {
          'test-cp1': crypto
            .generateKeyPairSync('ed25519')
            .privateKey.export({ format: 'pem', type: 'pkcs8' }),
        },
      }),
    );
    const forged = signCheckpoint(
      {
        chain_id: (await readCheckpoints(database.db))[0]!.chain_id,
        seq: 5,
        head_hmac: 'a'.repeat(64),
        signed_at: new Date().toISOString(),
      },
      forger,
    );
    await database.db.execute(
      sql`insert into audit_checkpoints (chain_id, seq, head_hmac, signed_at, key_id, signature)
          values (${forged.chain_id}, 5, ${forged.head_hmac}, ${forged.signed_at}::timestamptz, ${forged.key_id}, ${forged.signature})`,
    );
    await expectBoth({ ok: false, firstBadSeq: 5, kind: 'bad_checkpoint' });
  });

  it('verifies a range that starts mid-chain from the stored hmac before it', async () => {
    await superuser(`update audit_log set actor_email = 'x@y' where seq = 3`);
    expect(await verifyChain(database.db, { fromSeq: 5 })).toMatchObject({
      ok: true,
      checked: 16,
      headSeq: 20,
    });
    expect(await verifyChain(database.db, { fromSeq: 2, toSeq: 10 })).toMatchObject({
      ok: false,
      firstBadSeq: 3,
    });
  });
});

describe('key continuity: a retired key cannot MAC what follows its rotation', () => {
  const promotion = {
    action: 'staff.role_changed',
    diff: { before: { role: 'auditor' }, after: { role: 'superadmin' } },
  } as const;

  it('a chain that rotated verifies, each entry under the key in force at its seq', async () => {
    await rotateToK2(3);
    const keys = (await entries()).slice(20).map((e) => e.hmac_key_id);
    expect(keys).toEqual(['test-k1', 'test-k2', 'test-k2', 'test-k2']);
    await expectBoth({ ok: true, checked: 24, headSeq: 24 });
  });

  it('an entry forged at the head with the retired key is wrong_key, naming both keys', async () => {
    await rotateToK2(3);
    const forged = await forgeAtHead(database.db, 'test-k1', promotion);
    expect(forged.seq).toBe(25);
    await expectBoth({
      ok: false,
      firstBadSeq: 25,
      kind: 'wrong_key',
      usedKeyId: 'test-k1',
      expectedKeyId: 'test-k2',
      checked: 24,
    });
  });

  it('right after the rotation entry, too', async () => {
    await rotateToK2(0);
    await forgeAtHead(database.db, 'test-k1', promotion);
    await forgeAtHead(database.db, 'test-k1', { action: 'org.updated' });
    await expectBoth({ ok: false, firstBadSeq: 22, kind: 'wrong_key', checked: 21 });
  });

  it('a filtered export checks it where seqs meet, and says when it cannot', async () => {
    await rotateToK2(3);
    await forgeAtHead(database.db, 'test-k1', promotion);
    const withNeighbour = await viaExport({ contiguous: false, pick: (e) => e.seq >= 24 });
    expect(withNeighbour).toMatchObject({ ok: false, firstBadSeq: 25, kind: 'wrong_key' });
    expect(withNeighbour.keyContinuity).toBe('consecutive_only');
    // Alone, the forged entry's HMAC holds under a key of the ring: the export says the rule was not applied.
    const alone = await viaExport({ contiguous: false, pick: (e) => e.seq === 25 });
    expect(alone).toMatchObject({ ok: true, checked: 1, keyContinuity: 'consecutive_only' });
    expect(await viaExport()).toMatchObject({ kind: 'wrong_key', keyContinuity: 'full' });
  });
});

describe('a filtered export (not contiguous)', () => {
  const odd = (e: ChainEntry) => e.seq % 2 === 1 || e.seq === 10;

  it('verifies each entry on its own, linked only where seqs meet', async () => {
    expect(await viaExport({ contiguous: false, pick: odd })).toMatchObject({
      ok: true,
      checked: 11,
      entries: 11,
    });
  });

  it('still finds a modified entry', async () => {
    await superuser(`update audit_log set target_id = 'elsewhere' where seq = 9`);
    expect(await viaExport({ contiguous: false, pick: odd })).toMatchObject({
      ok: false,
      firstBadSeq: 9,
      kind: 'modified',
    });
  });

  it('finds entries out of order', async () => {
    const all = await entries();
    const file = writeExport({ entries: [all[0]!, all[4]!, all[2]!], contiguous: false });
    expect(await verifyExportFile(file, { keys: hmacKeyRing(), publicKeys: new Map() })).toMatchObject({
      ok: false,
      firstBadSeq: 3,
      kind: 'reordered',
    });
  });
});
