import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, migrateDatabase, openDatabase } from '@/db/client';
import { auditVerifyRuns, organizations } from '@/db/schema';
import { type AuditCtx, withAudit } from '@/lib/audit';
import { insertCheckpoint, readCheckpoints } from '@/lib/audit/checkpoint';
import { checkpointKeyRing, publicKeyPem } from '@/lib/audit/checkpoint-keys';
import { readEntries } from '@/lib/audit/verify';
import { writeExport } from '@/test/audit-export';
import { testDatabase } from '@/test/db';

// The command line as an operator runs it: a child process, its exit status and its report. Against
// PostgreSQL (DATABASE_URL set) it verifies with worker threads; otherwise on an embedded database on disk.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-verify-cli-'));
let database: Database & { url?: string };
let dataDir: string | undefined;
let entries: Awaited<ReturnType<typeof readEntries>>;
let checkpoints: Awaited<ReturnType<typeof readCheckpoints>>;

function cli(args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent' };
  if (database.url) env.DATABASE_URL = database.url;
  else {
    delete env.DATABASE_URL;
    env.DATA_DIR = dataDir;
  }
  const result = spawnSync('node_modules/.bin/tsx', ['scripts/audit-verify.ts', ...args], {
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function openTarget(): Promise<Database & { url?: string }> {
  if (process.env.DATABASE_URL) return testDatabase();
  dataDir = path.join(dir, 'data');
  const db = await openDatabase({ dataDir: path.join(dataDir, 'pglite') });
  await migrateDatabase(db);
  return db;
}

beforeAll(async () => {
  database = await openTarget();
  const ctx: AuditCtx = {
    db: database.db,
    actor: { staffId: null, email: 'cli-test@arbitex.ai', actingOrgId: null, actingContextId: null },
    requestId: null,
    ip: null,
    userAgent: null,
  };
  const [org] = await database.db
    .insert(organizations)
    .values({ slug: 'cli', name: 'CLI', planTier: 'team_saas' })
    .returning();
  for (let i = 1; i <= 30; i++) {
    await withAudit(ctx, { action: 'org.updated', orgId: org!.id }, async (tx, audit) => {
      await tx
        .update(organizations)
        .set({ name: `CLI ${i}` })
        .where(eq(organizations.id, org!.id));
      audit.diff({ name: `CLI ${i - 1}` }, { name: `CLI ${i}` });
    });
    if (i === 25) await database.db.transaction((tx) => insertCheckpoint(tx));
  }
  // What the offline tests export: the chain as it was before any tampering.
  entries = await readEntries(database.db, 0, 30, 100);
  checkpoints = await readCheckpoints(database.db);
  // The embedded database allows one process at a time: the command line gets it to itself.
  if (!database.url) await database.close();
});

afterAll(async () => {
  if (database.url) await database.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  if (database.url) return fn(database);
  const db = await openDatabase({ dataDir: path.join(dataDir!, 'pglite') });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

describe('npm run audit:verify against the database', () => {
  it('verifies the chain, records and audits the run, and exits 0', async () => {
    const { status, stdout, stderr } = cli([]);
    expect(stderr).toMatch(/Verifying seq 1-30/);
    expect(stdout).toMatch(
      /^VALID: the audit chain \(seq 1-30\): 30 entries verified, up to seq 30; matches the checkpoint of seq 25/m,
    );
    expect(status).toBe(0);
    await withDb(async (db) => {
      const [run] = await db.db.select().from(auditVerifyRuns);
      expect(run).toMatchObject({
        status: 'valid',
        checked: 30,
        source: 'cli',
        requestedEmail: 'system:audit:verify',
      });
      const actions = await db.db.execute(
        sql`select action from audit_log where seq > 30 order by audit_log.seq`,
      );
      const list = (Array.isArray(actions) ? actions : (actions as { rows: unknown[] }).rows) as Array<{
        action: string;
      }>;
      expect(list.map((a) => a.action)).toEqual(['audit.verify.started', 'audit.verified']);
    });
  });

  it('reports a tampered entry and exits 1', async () => {
    await withDb(async (db) => {
      await db.db.execute(sql.raw(`alter table audit_log disable trigger user`));
      await db.db.execute(sql.raw(`update audit_log set actor_email = 'mallory@evil.test' where seq = 12`));
      await db.db.execute(sql.raw(`alter table audit_log enable always trigger audit_log_no_update_delete`));
    });
    const { status, stdout } = cli(['--json']);
    expect(JSON.parse(stdout)).toMatchObject({ ok: false, firstBadSeq: 12, kind: 'modified', checked: 11 });
    expect(status).toBe(1);
    expect(cli(['--from', '13', '--to', '20']).status).toBe(0);
  });

  it('refuses bad flags with the usage and exit status 2', () => {
    const { status, stderr } = cli(['--from', 'x']);
    expect(stderr).toMatch(/--from takes a whole number/);
    expect(stderr).toMatch(/usage: npm run audit:verify/);
    expect(status).toBe(2);
  });
});

describe('npm run audit:verify -- --file (offline)', () => {
  let keysFile: string;
  let pubFile: string;

  beforeAll(async () => {
    keysFile = path.join(dir, 'hmac-keys.json');
    fs.writeFileSync(keysFile, process.env.SECRET_AUDIT_HMAC_KEYS!);
    pubFile = path.join(dir, 'checkpoint.pem');
    fs.writeFileSync(pubFile, publicKeyPem(checkpointKeyRing().keys.get('test-cp1')!));
  });

  const offline = (file: string, extra: string[] = []) =>
    cli(['--file', file, '--keys', keysFile, '--checkpoint-pubkey', pubFile, ...extra]);

  it('exits 0 for an intact export', () => {
    const file = writeExport({
      entries: entries.slice(0, 30),
      checkpoints: checkpoints.map(({ id: _id, ...c }) => c),
    });
    const { status, stdout } = offline(file);
    expect(stdout).toMatch(
      /^VALID: .*: 30 entries verified, up to seq 30; matches the checkpoint of seq 25/m,
    );
    expect(status).toBe(0);
  });

  it('exits 1 with a report for an export whose tail was cut off behind a checkpoint', () => {
    const file = writeExport({
      entries: entries.slice(0, 20),
      checkpoints: checkpoints.map(({ id: _id, ...c }) => c),
    });
    const { status, stdout } = offline(file);
    expect(stdout).toMatch(/^INVALID: /m);
    expect(stdout).toMatch(/first broken seq: 21/);
    expect(stdout).toMatch(/kind: +truncated/);
    expect(status).toBe(1);
  });

  it('exits 1 for a checkpoint that the given public key does not verify', () => {
    const other = path.join(dir, 'other.pem');
    fs.writeFileSync(
      other,
      crypto.generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    );
    const file = writeExport({
      entries: entries.slice(0, 25),
      checkpoints: checkpoints.map(({ id: _id, ...c }) => c),
    });
    const { status, stdout } = cli([
      '--file',
      file,
      '--keys',
      keysFile,
      '--checkpoint-pubkey',
      other,
      '--json',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ ok: false, kind: 'bad_checkpoint', firstBadSeq: 25 });
    expect(status).toBe(1);
  });
});
