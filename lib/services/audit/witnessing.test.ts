import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import pino from 'pino';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Database, rows } from '@/db/client';
import { appendEntries, type NewEntry } from '@/lib/audit';
import { insertCheckpoint } from '@/lib/audit/checkpoint';
import { witnessStanding } from '@/lib/audit/cosignatures';
import { checkpointKeyRing } from '@/lib/audit/checkpoint-keys';
import { noteVerifier, parseNote } from '@/lib/audit/note';
import { cosignerVerifierKey, parseCosignatureLines, verifyCosignature } from '@/lib/audit/witness-protocol';
import { type RunningWitness, startWitness } from '@/lib/audit/witness-server';
import { configuredWitnesses, type Witness } from '@/lib/audit/witnesses';
import { config, parseConfig } from '@/lib/config';
import { testDatabase } from '@/test/db';
import { CheckpointsDocument } from '@/lib/audit/export-format';
import { checkpointList } from '@/lib/queries/audit-chain';
import { staffWithSession } from '@/test/staff';
import { exportCheckpoints } from './checkpoints';
import { WITNESS_LOCK, witnessCheckpoint } from './witnessing';

// The portal sending its checkpoints to a real witness (lib/audit/witness-server.ts) on an ephemeral port,
// configured as AUDIT_WITNESS_URLS and AUDIT_WITNESS_KEYS name it.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-witnessing-'));
let database: Database & { url?: string };
let rolledBack: Database;
let running: RunningWitness;
let witnesses: Witness[];

const chainId = config().AUDIT_CHAIN_ID;
const seed = (n: number) =>
  Array.from({ length: n }, (): NewEntry => ({ action: 'system.seed', diff: { n } }));
const quiet = () => ({ error: vi.fn(), warn: vi.fn(), info: vi.fn() });

function configured(urls: string[], keys: string[]): Witness[] {
  return configuredWitnesses(
    parseConfig({ ...process.env, AUDIT_WITNESS_URLS: urls.join(','), AUDIT_WITNESS_KEYS: keys.join(',') }),
  );
}

async function checkpointAfter(db: Database, entries: number) {
  if (entries > 0) await db.db.transaction((tx) => appendEntries(tx, seed(entries)));
  return db.db.transaction((tx) => insertCheckpoint(tx));
}

interface Row {
  checkpoint_id: string;
  witness_name: string;
  outcome: string;
  http_status: number | null;
  old_size: string | null;
  witness_size: string | null;
  cosigned_at: string | null;
  cosignature: string | null;
  reason: string | null;
  alarm: boolean;
}

const stored = (db: Database) =>
  rows<Row>(
    db.db,
    sql`select checkpoint_id::text as checkpoint_id, witness_name, outcome, http_status, old_size::text as old_size,
               witness_size::text as witness_size, cosigned_at::text as cosigned_at, cosignature, reason,
               alarm
        from audit_checkpoint_cosignatures order by requested_at, id`,
  );

beforeAll(async () => {
  database = await testDatabase();
  rolledBack = await testDatabase();
  const ring = checkpointKeyRing();
  running = await startWitness({
    name: 'witness.test/w1',
    privateKey: crypto.generateKeyPairSync('ed25519').privateKey,
    logs: new Map([[chainId, [noteVerifier(chainId, ring.keys.get(ring.activeId)!.publicKey)]]]),
    stateDir: fs.mkdtempSync(path.join(dir, 'state-')),
    port: 0,
    logger: pino({ level: 'silent' }),
  });
  witnesses = configured([running.url], [running.witness.verifierKey]);
});
afterAll(async () => {
  await running.close();
  await database.close();
  await rolledBack.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('witnessCheckpoint', () => {
  it('does nothing without witnesses configured', async () => {
    await checkpointAfter(database, 4);
    expect(config().AUDIT_WITNESS_URLS).toEqual([]);
    expect(await witnessCheckpoint(database.db)).toEqual([]);
    expect(await witnessCheckpoint(database.db, { witnesses: [] })).toEqual([]);
    expect(await stored(database)).toEqual([]);
  });

  it('has two checkpoints in a row cosigned and stored, the second proved from the first', async () => {
    const first = await checkpointAfter(database, 3);
    const logger = quiet();
    const [a] = (await witnessCheckpoint(database.db, { witnesses, logger }))!;
    expect(a).toMatchObject({
      witness: 'witness.test/w1',
      checkpointId: first.id,
      size: first.seq,
      alarm: false,
    });
    expect(a!.result.outcome).toBe('cosigned');
    // Nothing new to send: the witness is not asked twice for one checkpoint.
    expect(await witnessCheckpoint(database.db, { witnesses, logger })).toEqual([]);

    const second = await checkpointAfter(database, 5);
    const [b] = (await witnessCheckpoint(database.db, { witnesses, logger }))!;
    expect(b).toMatchObject({ checkpointId: second.id, size: second.seq });
    expect(b!.result).toMatchObject({ outcome: 'cosigned', oldSize: first.seq });
    expect(logger.error).not.toHaveBeenCalled();
    expect(logger.warn).not.toHaveBeenCalled();

    const got = await stored(database);
    expect(got).toMatchObject([
      { checkpoint_id: first.id, outcome: 'cosigned', old_size: '0', http_status: null, alarm: false },
      { checkpoint_id: second.id, outcome: 'cosigned', old_size: String(first.seq), alarm: false },
    ]);
    // Each stored line is the witness's cosignature of that checkpoint's note, by the configured key.
    const checkpoint = await rows<{ note: string }>(
      database.db,
      sql`select note from audit_checkpoints where id = ${second.id}::uuid`,
    );
    const text = parseNote(checkpoint[0]!.note).text;
    const [line] = parseCosignatureLines(text, `${got[1]!.cosignature}\n`);
    expect(verifyCosignature(text, line!, witnesses[0]!.key)).toMatchObject({ ok: true });
    expect(got[1]!.cosigned_at).not.toBeNull();
  });

  it('catches a database rolled back behind the witnessed checkpoint, every checkpoint and tile row gone', async () => {
    // The same chain id and checkpoint key, a shorter chain, no checkpoint rows, no cosignatures.
    const shorter = await checkpointAfter(rolledBack, 2);
    const [witnessed] = await rows<{ size: string }>(
      database.db,
      sql`select max(tree_size)::text as size from audit_checkpoints`,
    );
    expect(shorter.seq).toBeLessThan(Number(witnessed!.size));
    const logger = quiet();
    const [answer] = (await witnessCheckpoint(rolledBack.db, { witnesses, logger }))!;
    expect(answer).toMatchObject({ alarm: true, size: shorter.seq });
    expect(answer!.result).toMatchObject({
      outcome: 'refused',
      status: 409,
      witnessSize: Number(witnessed!.size),
    });
    expect(logger.error).toHaveBeenCalledTimes(1);
    expect(logger.error.mock.calls[0]![0]).toMatchObject({
      witness: 'witness.test/w1',
      checkpoint_size: shorter.seq,
      witness_size: Number(witnessed!.size),
    });
    expect(await stored(rolledBack)).toMatchObject([
      {
        checkpoint_id: shorter.id,
        outcome: 'refused',
        http_status: 409,
        old_size: '0',
        witness_size: witnessed!.size,
        cosignature: null,
        cosigned_at: null,
        alarm: true,
      },
    ]);

    // The second history grown past the witnessed size: asked from its size, it cannot follow the proof.
    const longer = await checkpointAfter(rolledBack, Number(witnessed!.size));
    const [again] = (await witnessCheckpoint(rolledBack.db, { witnesses, logger }))!;
    expect(again).toMatchObject({ alarm: true, checkpointId: longer.id });
    expect(again!.result).toMatchObject({ outcome: 'refused', status: 422 });
    expect(logger.error).toHaveBeenCalledTimes(2);
    expect((await stored(rolledBack)).at(-1)).toMatchObject({
      outcome: 'refused',
      http_status: 422,
      old_size: witnessed!.size,
      witness_size: witnessed!.size,
      alarm: true,
    });

    // /audit/checkpoints: the alarm stands until the witness cosigns again; the badges say which answers.
    const vkey = running.witness.verifierKey;
    expect((await witnessStanding(rolledBack.db)).get(vkey)).toMatchObject({
      size: null,
      alarmAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect((await witnessStanding(database.db)).get(vkey)).toMatchObject({
      size: Number(witnessed!.size),
      alarmAt: null,
    });
    const auditor = await staffWithSession(rolledBack.db, 'auditor');
    const [newest] = (await checkpointList(auditor, {})).checkpoints;
    expect(newest!.witnesses).toMatchObject([{ outcome: 'refused', alarm: true }]);
  });

  it('stores an unreachable witness without throwing, and asks it again with the next checkpoint', async () => {
    const gone = `http://127.0.0.1:${await closedPort()}`;
    const key = cosignerVerifierKey('witness.test/gone', crypto.generateKeyPairSync('ed25519').privateKey);
    const both = configured([running.url, gone], [running.witness.verifierKey, key]);
    const checkpoint = await checkpointAfter(database, 1);
    const logger = quiet();
    const answers = (await witnessCheckpoint(database.db, { witnesses: both, logger, timeoutMs: 2000 }))!;
    expect(answers.map((a) => [a.witness, a.result.outcome])).toEqual([
      ['witness.test/w1', 'cosigned'],
      ['witness.test/gone', 'unreachable'],
    ]);
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(logger.error).not.toHaveBeenCalled();
    const got = (await stored(database)).filter((r) => r.checkpoint_id === checkpoint.id);
    expect(got).toHaveLength(2);
    expect(got.find((r) => r.witness_name === 'witness.test/gone')).toMatchObject({
      outcome: 'unreachable',
      cosignature: null,
      reason: expect.stringMatching(/fetch failed|ECONNREFUSED/),
    });
    const next = await checkpointAfter(database, 1);
    const again = (await witnessCheckpoint(database.db, { witnesses: both, logger, timeoutMs: 2000 }))!;
    expect(again.map((a) => [a.checkpointId, a.result.outcome])).toEqual([
      [next.id, 'cosigned'],
      [next.id, 'unreachable'],
    ]);
  });

  it('shows each checkpoint’s witnesses on /audit/checkpoints, and adds the cosignatures to the download', async () => {
    const auditor = await staffWithSession(database.db, 'auditor');
    const page = await checkpointList(auditor, {});
    const [newest] = page.checkpoints;
    expect(newest!.witnesses!.map((w) => [w.witnessName, w.outcome])).toEqual([
      ['witness.test/gone', 'unreachable'],
      ['witness.test/w1', 'cosigned'],
    ]);
    // The oldest checkpoint was never sent, and no witness is configured in this process: no badge.
    expect(page.checkpoints.at(-1)!.witnesses).toEqual([]);
    const document = await exportCheckpoints(auditor);
    expect(CheckpointsDocument.parse(document).witness_keys).toEqual({
      'witness.test/w1': running.witness.verifierKey,
    });
    const cosigned = document.checkpoints.filter((c) => 'cosignatures' in c);
    expect(cosigned.length).toBeGreaterThanOrEqual(4);
    for (const c of cosigned) {
      const text = parseNote(c.note!).text;
      for (const line of c.cosignatures!) {
        const [signature] = parseCosignatureLines(text, `${line}\n`);
        expect(verifyCosignature(text, signature!, witnesses[0]!.key)).toMatchObject({ ok: true });
      }
    }
  });

  it('runs once at a time: a second call while one runs does nothing', async () => {
    await checkpointAfter(database, 1);
    const [one, two] = await Promise.all([
      witnessCheckpoint(database.db, { witnesses, logger: quiet() }),
      witnessCheckpoint(database.db, { witnesses, logger: quiet() }),
    ]);
    expect([one, two].filter((r) => r === null)).toHaveLength(1);
    expect([one, two].find((r) => r !== null)).toHaveLength(1);
  });

  it.skipIf(!process.env.DATABASE_URL)(
    'on PostgreSQL, runs in one session at a time across processes, and lets go of the lock afterwards',
    async () => {
      const other = postgres(database.url!, { max: 1, onnotice: () => {} });
      try {
        await checkpointAfter(database, 1);
        await other`select pg_advisory_lock(${WITNESS_LOCK})`;
        expect(await witnessCheckpoint(database.db, { witnesses, logger: quiet() })).toBeNull();
        await other`select pg_advisory_unlock(${WITNESS_LOCK})`;
        expect(await witnessCheckpoint(database.db, { witnesses, logger: quiet() })).toHaveLength(1);
        const [got] = await other<Array<{ ok: boolean }>>`select pg_try_advisory_lock(${WITNESS_LOCK}) as ok`;
        expect(got!.ok).toBe(true);
      } finally {
        await other.end();
      }
    },
  );
});

async function closedPort(): Promise<number> {
  const net = await import('node:net');
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
