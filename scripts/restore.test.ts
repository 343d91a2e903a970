import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '@/db/client';
import type { AuditCtx } from '@/lib/audit';

/**
 * The restore runbook (docs/OPERATIONS.md, "Restore") as an operator follows it, with the command lines as
 * child processes: a backup at seq 20 (with the periodic checkpoint of seq 20); 10 more writes and a checkpoint
 * over them, whose download is kept
 * outside the database; the older backup restored (the audit tables as that backup holds them: the rows
 * after seq 20 gone); the restored portal appending past the lost range. `audit:export` then
 * `audit:verify --checkpoint-pubkey <the kept download>` must report it, and the portal must refuse to sign
 * over it until an operator acknowledges.
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'audit-restore-'));
const keptFile = path.join(dir, 'checkpoints-before-incident.json');
const document = (checkpoints: unknown[]) =>
  JSON.stringify({
    type: 'arbitex.audit.checkpoints',
    version: 1,
    chain_id: config().AUDIT_CHAIN_ID,
    exported_at: new Date().toISOString(),
    public_keys: { 'test-cp1': publicKeyPem(checkpointKeyRing().keys.get('test-cp1')!) },
    checkpoints,
  });
// The portal of this test runs with a kept-checkpoint file from the start (it holds nothing yet). Set
// before the portal's modules load, since the configuration is parsed once.
process.env.AUDIT_TRUSTED_CHECKPOINT_FILE = keptFile;
const { migrateDatabase, openDatabase } = await import('@/db/client');
const { organizations } = await import('@/db/schema');
const { withAudit } = await import('@/lib/audit');
const { insertCheckpoint, readCheckpoints } = await import('@/lib/audit/checkpoint');
const { checkpointKeyRing, publicKeyPem } = await import('@/lib/audit/checkpoint-keys');
const { checkTrustedCheckpoint, TrustedCheckpointError } = await import('@/lib/audit/trusted');
const { config } = await import('@/lib/config');
const { chainState } = await import('@/lib/health');
const { testDatabase } = await import('@/test/db');
fs.writeFileSync(keptFile, document([]));

let database: Database & { url?: string };
let dataDir: string | undefined;
let orgId: string;
const ctx = (): AuditCtx => ({
  db: database.db,
  actor: { staffId: null, email: 'restore-test@arbitex.ai', actingOrgId: null, actingContextId: null },
  requestId: null,
  ip: null,
  userAgent: null,
});

async function writes(from: number, to: number) {
  for (let i = from; i <= to; i++) {
    await withAudit(ctx(), { action: 'org.updated', orgId }, async (tx, audit) => {
      await tx
        .update(organizations)
        .set({ name: `Restore ${i}` })
        .where(eq(organizations.id, orgId));
      audit.diff({ name: `Restore ${i - 1}` }, { name: `Restore ${i}` });
    });
  }
}

/** The embedded database allows one process at a time: the command lines get it to themselves. */
async function withCli<T>(run: () => T): Promise<T> {
  if (database.url) return run();
  await database.close();
  try {
    return run();
  } finally {
    database = await openDatabase({ dataDir: path.join(dataDir!, 'pglite') });
  }
}

function cli(script: string, args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent' };
  if (database.url) env.DATABASE_URL = database.url;
  else {
    delete env.DATABASE_URL;
    env.DATA_DIR = dataDir;
  }
  const r = spawnSync('node_modules/.bin/tsx', [script, ...args], {
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

let exports = 0;
/** `npm run audit:export`, then `npm run audit:verify --file` with the HMAC keys and `checkpoints`. */
async function exportAndVerify(checkpoints: string) {
  const file = path.join(dir, `export-${++exports}.ndjson`);
  const keys = path.join(dir, 'hmac-keys.json');
  fs.writeFileSync(keys, process.env.SECRET_AUDIT_HMAC_KEYS!);
  return withCli(() => {
    const exported = cli('scripts/audit-export.ts', ['--out', file]);
    expect(exported.stderr).toBe('');
    expect(exported.status).toBe(0);
    return cli('scripts/audit-verify.ts', [
      '--file',
      file,
      '--keys',
      keys,
      '--checkpoint-pubkey',
      checkpoints,
    ]);
  });
}

/** What restoring the backup of seq 20 leaves in the audit tables (they are append-only for everyone else). */
async function restoreBackupOfSeq20() {
  await database.db.transaction(async (tx) => {
    await tx.execute(sql`alter table audit_log disable trigger user`);
    await tx.execute(sql`alter table audit_checkpoints disable trigger user`);
    await tx.execute(sql`delete from audit_log where seq > 20`);
    await tx.execute(sql`delete from audit_checkpoints where seq > 20`);
    await tx.execute(sql`alter table audit_log enable trigger user`);
    await tx.execute(sql`alter table audit_checkpoints enable trigger user`);
  });
}

beforeAll(async () => {
  if (process.env.DATABASE_URL) database = await testDatabase();
  else {
    dataDir = path.join(dir, 'data');
    database = await openDatabase({ dataDir: path.join(dataDir, 'pglite') });
    await migrateDatabase(database);
  }
  const [org] = await database.db
    .insert(organizations)
    .values({ slug: 'restore', name: 'Restore', planTier: 'team_saas' })
    .returning();
  orgId = org!.id;
  // Periodic checkpoints, one of them over the backup's head.
  await writes(1, 20);
  await database.db.transaction((tx) => insertCheckpoint(tx));
  await writes(21, 30);
  await database.db.transaction((tx) => insertCheckpoint(tx));
  // The operator's copy of /audit/checkpoints, kept outside the database.
  fs.writeFileSync(keptFile, document((await readCheckpoints(database.db)).map(({ id: _id, ...c }) => c)));
});

afterAll(async () => {
  await database.close();
  fs.rmSync(dir, { recursive: true, force: true });
  delete process.env.AUDIT_TRUSTED_CHECKPOINT_FILE;
});

describe('a restore of an older backup', () => {
  it('is fine while nothing was lost', async () => {
    expect(await checkTrustedCheckpoint(database.db)).toMatchObject({ ok: true, acknowledged: false });
    const { status, stdout } = await exportAndVerify(keptFile);
    expect(stdout).toMatch(/^VALID: .*30 entries verified, up to seq 30; matches the checkpoint of seq 30/m);
    expect(status).toBe(0);
  });

  it('right after the restore: audit:verify reports the tail cut off behind the kept checkpoint, the portal signs nothing', async () => {
    await restoreBackupOfSeq20();
    const { status, stdout } = await exportAndVerify(keptFile);
    expect(stdout).toMatch(/^INVALID: /m);
    expect(stdout).toMatch(/first broken seq: 21/);
    expect(stdout).toMatch(/kind: +truncated/);
    expect(status).toBe(1);

    expect(await checkTrustedCheckpoint(database.db)).toMatchObject({
      ok: false,
      seq: 30,
      problem: expect.stringMatching(/the chain ends at seq 20, behind the kept checkpoint of seq 30/),
    });
    expect(await chainState(database.db)).toBe('behind_trusted_checkpoint');
    await expect(database.db.transaction((tx) => insertCheckpoint(tx))).rejects.toThrow(
      TrustedCheckpointError,
    );
  });

  it('after the restored portal appended past the lost range: a rollback from seq 21, which the export alone does not show', async () => {
    await writes(31, 45);
    const { status, stdout } = await exportAndVerify(keptFile);
    expect(stdout).toMatch(/^INVALID: /m);
    expect(stdout).toMatch(/first broken seq: 21/);
    expect(stdout).toMatch(/kind: +rollback/);
    expect(stdout).toMatch(/kept checkpoints: +2/);
    expect(status).toBe(1);

    // With only the public key, the export's own checkpoints (from the restored database) agree with it.
    const pem = path.join(dir, 'checkpoint.pem');
    fs.writeFileSync(pem, publicKeyPem(checkpointKeyRing().keys.get('test-cp1')!));
    expect((await exportAndVerify(pem)).status).toBe(0);

    expect(await checkTrustedCheckpoint(database.db)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/entry 30 is not the one the kept checkpoint of seq 30/),
    });
    await expect(database.db.transaction((tx) => insertCheckpoint(tx))).rejects.toThrow(
      /AUDIT_TRUSTED_CHECKPOINT_ACK=30/,
    );
  });

  it('an operator who acknowledges the kept checkpoint lets the portal sign again', async () => {
    expect(
      await checkTrustedCheckpoint(database.db, { ...config(), AUDIT_TRUSTED_CHECKPOINT_ACK: 30 }),
    ).toMatchObject({ ok: true, acknowledged: true });
    // Another seq acknowledges nothing.
    expect(
      await checkTrustedCheckpoint(database.db, { ...config(), AUDIT_TRUSTED_CHECKPOINT_ACK: 29 }),
    ).toMatchObject({ ok: false });
  });

  it('a kept file that is not signed by this portal is refused, not ignored', async () => {
    const forged = path.join(dir, 'forged.json');
    const [real] = await readCheckpoints(database.db);
    fs.writeFileSync(forged, document([{ ...real!, id: undefined, seq: 31 }]));
    expect(
      await checkTrustedCheckpoint(database.db, { ...config(), AUDIT_TRUSTED_CHECKPOINT_FILE: forged }),
    ).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/seq 31 .* is not signed by a checkpoint key/),
    });
  });
});
