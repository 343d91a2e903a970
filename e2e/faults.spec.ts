/**
 * Faults (the `faults` project in playwright.config.ts, with DATABASE_URL): a PostgreSQL cluster of this
 * spec's own (scripts/local-postgres.sh on E2E_FAULT_PG_PORT), which it crashes and starts again under
 * `next start` replicas of the e2e build, and replicas it kills. Every test asserts that each acknowledged
 * write has its row and its audit entry and that every entry has its row, that the inbox is empty within a
 * ticker interval, and that the chain verifies.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { APIRequestContext, Browser, Page } from '@playwright/test';
import { sql } from 'drizzle-orm';
import { type Database, openDatabase, rows } from '../db/client';
import { parseKeyRing, verifyChain } from '../lib/audit';
import { expect, test } from './fixtures';
import { openOrg, startActing } from './orgs';
import { PORT, portalEnv, SECRETS_DIR, teeToLog } from './portal-env';
import { enrol, newStaffBrowser, signIn } from './staff';

const PG_PORT = process.env.E2E_FAULT_PG_PORT ?? '55441';
const PG_DIR = `/tmp/portal-faults-pg-${PG_PORT}`;
/** The replicas' ports: after replica A's and B's. */
const PORTS = [Number(PORT) + 10, Number(PORT) + 11];
const ORIGIN = `http://localhost:${PORTS[0]}`;
/** How long a replica waits for a connection; a request during the outage is answered within about this. */
const CONNECT_TIMEOUT_S = 2;
/** The audit ticker's interval with the e2e settings (AUDIT_CHECKPOINT_EVERY_S 60: every 5 s). */
const TICK_MS = 5000;
const ORG = 'Cedar Valley Community Bank';

function postgresCtl(cmd: 'start' | 'stop' | 'crash'): string {
  const r = spawnSync('scripts/local-postgres.sh', [cmd, PG_DIR], {
    encoding: 'utf8',
    env: { ...process.env, PGPORT: PG_PORT },
  });
  if (r.status !== 0) throw new Error(`local-postgres.sh ${cmd} failed: ${r.stderr}`);
  return r.stdout.trim();
}

let databaseUrl: string;
let database: Database;
const replicas = new Map<number, ChildProcess>();

function tool(script: string, args: string[] = []): string {
  const r = spawnSync('node_modules/.bin/tsx', [script, ...args], {
    encoding: 'utf8',
    env: { ...portalEnv(), DATABASE_URL: databaseUrl, PORTAL_URL: ORIGIN },
  });
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr}`);
  return r.stdout;
}

/** `next start` on `port`, configured as a replica behind ORIGIN, against this spec's cluster. */
async function startReplica(port: number, opts: { waitReady: boolean }) {
  const env: NodeJS.ProcessEnv = {
    ...portalEnv(),
    DATABASE_URL: databaseUrl,
    PORTAL_URL: ORIGIN,
    PORT: String(port),
    DATABASE_CONNECT_TIMEOUT_S: String(CONNECT_TIMEOUT_S),
  };
  // No SIEM delivery from here: the audit spec counts what its receiver gets. Nor witnesses: this cluster's
  // chain is another history under the same chain id, which the e2e witness would rightly refuse.
  delete env.SPLUNK_HEC_URL;
  delete env.AUDIT_WITNESS_URLS;
  delete env.AUDIT_WITNESS_KEYS;
  const child = spawn('node_modules/.bin/next', ['start', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env,
  });
  teeToLog(`fault-${port}`, [child.stdout, child.stderr]);
  replicas.set(port, child);
  await expect
    .poll(() => probe(`http://localhost:${port}/api/health`), { timeout: 60_000, intervals: [250] })
    .toBe(200);
  if (opts.waitReady) await expectReady(port, 200);
}

async function probe(url: string): Promise<number> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(10_000) })).status;
  } catch {
    return 0;
  }
}

async function expectReady(port: number, status: 200 | 503, timeout = 60_000) {
  await expect
    .poll(() => probe(`http://localhost:${port}/api/ready`), { timeout, intervals: [250] })
    .toBe(status);
}

/** Polls /api/health every 200 ms until stopped; every answer must be 200. */
function watchHealth(port: number) {
  const answers: number[] = [];
  let stop = false;
  const done = (async () => {
    while (!stop) {
      answers.push(await probe(`http://localhost:${port}/api/health`));
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    answers,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

interface Write {
  requestId: string;
  status: number;
  ms: number;
  retryAfter?: string;
}

/** `n` writers adding support notes through the given replicas in turn, until stop(). */
function writers(request: APIRequestContext, orgId: string, tag: string, ports: number[], n = 4) {
  const writes: Write[] = [];
  let stop = false;
  const done = Promise.all(
    Array.from({ length: n }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        const port = ports[i % ports.length]!;
        const requestId = `${tag}-${w}-${i}`;
        const started = Date.now();
        try {
          const res = await request.post(`http://localhost:${port}/api/orgs/${orgId}/notes`, {
            data: { body: `Fault test note ${requestId}.` },
            headers: { Origin: ORIGIN, 'x-request-id': requestId },
            timeout: 30_000,
          });
          writes.push({
            requestId,
            status: res.status(),
            ms: Date.now() - started,
            retryAfter: res.headers()['retry-after'],
          });
        } catch {
          // The connection itself failed (a killed replica): not acknowledged.
          writes.push({ requestId, status: 0, ms: Date.now() - started });
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }),
  );
  return {
    writes,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

/** Every acknowledged write has its note and its entry; every note has its entry and every entry its note. */
async function expectConsistent(tag: string, writes: Write[]) {
  const like = `Fault test note ${tag}-%`;
  const notes = await rows<{ body: string }>(
    database.db,
    sql`select body from support_notes where body like ${like}`,
  );
  const entries = await rows<{ request_id: string }>(
    database.db,
    sql`select request_id from audit_log where action = 'org.support_note.created' and request_id like ${`${tag}-%`}`,
  );
  const noted = new Set(notes.map((n) => /note (\S+)\.$/.exec(n.body)![1]!));
  const audited = new Set(entries.map((e) => e.request_id));
  const acknowledged = writes.filter((w) => w.status === 200).map((w) => w.requestId);
  expect(acknowledged.length).toBeGreaterThan(0);
  for (const id of acknowledged) {
    expect(noted.has(id), `acknowledged write ${id} has its note`).toBe(true);
    expect(audited.has(id), `acknowledged write ${id} has its audit entry`).toBe(true);
  }
  expect([...noted].sort()).toEqual([...audited].sort());
}

async function expectInboxEmpty() {
  await expect
    .poll(
      async () =>
        Number(
          (await rows<{ n: string }>(database.db, sql`select count(*)::text as n from audit_inbox`))[0]!.n,
        ),
      { timeout: TICK_MS + 3000, intervals: [250] },
    )
    .toBe(0);
}

async function expectChainValid() {
  const keys = parseKeyRing(fs.readFileSync(path.join(SECRETS_DIR, 'audit-hmac-keys'), 'utf8'));
  const result = await verifyChain(database.db, { keys, checkpoints: false });
  expect(result).toMatchObject({ ok: true });
}

async function kill(port: number, signal: NodeJS.Signals) {
  const child = replicas.get(port);
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
  replicas.delete(port);
}

/** A superadmin enrolled on this spec's database, signed in and acting for ORG on replica 0. */
async function actingSuperadmin(browser: Browser): Promise<{ page: Page; orgId: string }> {
  const link = tool('scripts/staff-invite.ts', ['--email', 'faults@arbitex.local', '--role', 'superadmin'])
    .trim()
    .split('\n')
    .at(-1)!;
  const { page } = await newStaffBrowser(browser, ORIGIN);
  await enrol(page, link, { displayName: 'Fay Faults', nickname: 'fault key' });
  await signIn(page);
  const orgId = await openOrg(page, ORG);
  await startActing(page, ORG, 'SUP-9001');
  return { page, orgId };
}

test.describe.configure({ mode: 'serial' });

let page: Page;
let orgId: string;

test.beforeAll(async ({ browser }) => {
  test.setTimeout(180_000);
  postgresCtl('stop');
  fs.rmSync(PG_DIR, { recursive: true, force: true });
  databaseUrl = postgresCtl('start');
  tool('scripts/seed.ts');
  database = await openDatabase({ url: databaseUrl, max: 2 });
  await startReplica(PORTS[0]!, { waitReady: true });
  ({ page, orgId } = await actingSuperadmin(browser));
});

test.afterAll(async () => {
  for (const port of [...replicas.keys()]) await kill(port, 'SIGTERM');
  await database?.close();
  postgresCtl('stop');
});

test('PostgreSQL stopped -m immediate under writers and started again: 503 quickly, liveness green, ready again without a restart, nothing lost', async () => {
  test.setTimeout(180_000);
  const tag = `crash-${Date.now()}`;
  const health = watchHealth(PORTS[0]!);
  const load = writers(page.request, orgId, tag, [PORTS[0]!]);
  await expect.poll(() => load.writes.filter((w) => w.status === 200).length).toBeGreaterThan(8);

  await database.close();
  const answeredBeforeCrash = health.answers.length;
  postgresCtl('crash');
  await expectReady(PORTS[0]!, 503, 20_000);
  // Writes during the outage are refused with 503 and Retry-After, within about the connect timeout.
  await expect
    .poll(() => load.writes.filter((w) => w.status === 503).length, { timeout: 20_000 })
    .toBeGreaterThan(3);

  // Liveness answered while PostgreSQL was down (how often depends on how long that took, not a count).
  expect(health.answers.length).toBeGreaterThan(answeredBeforeCrash);
  postgresCtl('start');
  database = await openDatabase({ url: databaseUrl, max: 2 });
  await expectReady(PORTS[0]!, 200);
  const acknowledgedBefore = load.writes.filter((w) => w.status === 200).length;
  await expect
    .poll(() => load.writes.filter((w) => w.status === 200).length)
    .toBeGreaterThan(acknowledgedBefore + 8);
  await load.stop();
  await health.stop();

  expect(health.answers.filter((s) => s !== 200)).toEqual([]);
  const refused = load.writes.filter((w) => w.status === 503);
  for (const w of refused) {
    expect(Number(w.retryAfter)).toBeGreaterThan(0);
    expect(w.ms).toBeLessThan((CONNECT_TIMEOUT_S + 5) * 1000);
  }
  // Only acknowledged writes or refusals: never a 500.
  expect(load.writes.filter((w) => ![200, 503].includes(w.status))).toEqual([]);
  await expectInboxEmpty();
  await expectConsistent(tag, load.writes);
  await expectChainValid();
});

test('a replica started while PostgreSQL is down serves liveness, and becomes ready by itself once it is back', async () => {
  test.setTimeout(180_000);
  await database.close();
  postgresCtl('stop');
  await startReplica(PORTS[1]!, { waitReady: false });
  const health = watchHealth(PORTS[1]!);
  await expectReady(PORTS[1]!, 503);
  // A staff request is refused quickly with 503, not a hang and a 500.
  const started = Date.now();
  const res = await page.request.post(`http://localhost:${PORTS[1]}/api/orgs/${orgId}/notes`, {
    data: { body: 'Fault test note refused.' },
    headers: { Origin: ORIGIN },
  });
  expect(res.status()).toBe(503);
  expect(Number(res.headers()['retry-after'])).toBeGreaterThan(0);
  expect(Date.now() - started).toBeLessThan((CONNECT_TIMEOUT_S + 5) * 1000);

  postgresCtl('start');
  database = await openDatabase({ url: databaseUrl, max: 2 });
  await expectReady(PORTS[1]!, 200);
  await health.stop();
  expect(health.answers.filter((s) => s !== 200)).toEqual([]);

  const tag = `late-${Date.now()}`;
  const load = writers(page.request, orgId, tag, [PORTS[1]!], 2);
  await expect.poll(() => load.writes.filter((w) => w.status === 200).length).toBeGreaterThan(4);
  await load.stop();
  expect(load.writes.filter((w) => w.status !== 200)).toEqual([]);
  await expectInboxEmpty();
  await expectConsistent(tag, load.writes);
  await expectChainValid();
});

test('kill -9 of a replica with writes in flight: the other chains what it left in the inbox', async () => {
  test.setTimeout(180_000);
  const tag = `kill-${Date.now()}`;
  const load = writers(page.request, orgId, tag, PORTS, 6);
  await expect.poll(() => load.writes.filter((w) => w.status === 200).length).toBeGreaterThan(12);
  await kill(PORTS[0]!, 'SIGKILL');
  const acknowledgedBefore = load.writes.filter((w) => w.status === 200).length;
  await expect
    .poll(() => load.writes.filter((w) => w.status === 200).length)
    .toBeGreaterThan(acknowledgedBefore + 6);
  await load.stop();
  await expectInboxEmpty();
  await expectConsistent(tag, load.writes);
  await expectChainValid();
});
