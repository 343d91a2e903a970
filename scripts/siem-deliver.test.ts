import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, migrateDatabase, openDatabase } from '@/db/client';
import { appendFakeAudit } from '@/db/seed';
import { testDatabase } from '@/test/db';
import { hecReceiver } from '@/test/hec-receiver';

const TOKEN = 'cli-test-token-0123456789';
let database: Database & { url?: string };
let dataDir: string | undefined;

/**
 * npm run siem:deliver -- --once, on the test database, as a separate process. Asynchronous: the receiver
 * runs in this process and must keep answering.
 */
function deliverOnce(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('node_modules/.bin/tsx', ['scripts/siem-deliver.ts', '--once'], {
    env: {
      ...process.env,
      ...(database.url ? { DATABASE_URL: database.url } : { DATA_DIR: dataDir! }),
      SECRETS_BACKEND: 'env',
      SECRET_SPLUNK_HEC_TOKEN: TOKEN,
      SIEM_BATCH_SIZE: '50',
      SIEM_TIMEOUT_S: '2',
      SIEM_MAX_BACKOFF_S: '0.2',
      ...env,
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** Appends entries; the embedded database is opened for it and closed again, for the CLI to open. */
async function append(count: number) {
  if (dataDir) database = await openDatabase({ dataDir: path.join(dataDir, 'pglite') });
  await appendFakeAudit(database.db, count, { orgIds: [] });
  if (dataDir) await database.close();
}

beforeAll(async () => {
  if (process.env.DATABASE_URL) {
    database = await testDatabase();
  } else {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'siem-cli-'));
    database = await openDatabase({ dataDir: path.join(dataDir, 'pglite') });
    await migrateDatabase(database);
    await database.close();
  }
  await append(120);
});
afterAll(async () => {
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  else await database.close();
});

describe('npm run siem:deliver -- --once', () => {
  it('delivers what is pending and exits 0; then has nothing to send; a refused token exits 1', async () => {
    const receiver = await hecReceiver({ token: TOKEN, plan: (n) => (n === 2 ? '503' : 'ok') });
    try {
      const first = await deliverOnce({ SPLUNK_HEC_URL: receiver.url });
      expect(first.stdout, first.stderr).toContain('delivered 120 entries; cursor at 120 of 120');
      expect(first.code).toBe(0);
      expect(receiver.accepted).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
      expect(receiver.problems).toEqual([]);
      expect(first.stderr).not.toContain(TOKEN);

      const again = await deliverOnce({ SPLUNK_HEC_URL: receiver.url });
      expect(again.stdout).toContain('delivered 0 entries; cursor at 120 of 120');
      expect(again.code).toBe(0);

      await append(7);
      const refused = await deliverOnce({
        SPLUNK_HEC_URL: receiver.url,
        SECRET_SPLUNK_HEC_TOKEN: 'wrong-token',
      });
      expect(refused.stdout).toContain('cursor at 120 of 127; stopped: Splunk answered 401');
      expect(refused.code).toBe(1);
      expect(receiver.refusedTokens).toBe(1);
      expect(receiver.accepted.length).toBe(120);
    } finally {
      await receiver.close();
    }
  });

  it('says so when SPLUNK_HEC_URL is not set, or the token is missing', async () => {
    const r = await deliverOnce({ SPLUNK_HEC_URL: '' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('SPLUNK_HEC_URL is not set');
    const noToken = await deliverOnce({
      SPLUNK_HEC_URL: 'http://127.0.0.1:9/x',
      SECRET_SPLUNK_HEC_TOKEN: '',
    });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr.trim()).toBe(
      'The secret "splunk-hec-token" is missing: expected in the environment variable SECRET_SPLUNK_HEC_TOKEN',
    );
  });
});
