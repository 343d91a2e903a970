import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Database, rows } from '@/db/client';
import { organizations } from '@/db/schema';
import { appendFakeAudit, prng } from '@/db/seed';
import { readSiemStatus } from '@/lib/queries/siem';
import { testDatabase } from '@/test/db';
import { type Behaviour, hecReceiver } from '@/test/hec-receiver';
import { type SinkSettings, SplunkSink } from './splunk';

const TOKEN = 'c1d2e3f4-0000-4000-8000-hec-test-token';
let database: Database;
let orgIds: string[];
let receiver: Awaited<ReturnType<typeof hecReceiver>> | undefined;

const settings = (url: string, over: Partial<SinkSettings> = {}): SinkSettings => ({
  url,
  token: TOKEN,
  batchSize: 23,
  timeoutMs: 300,
  pollMs: 10,
  maxBackoffMs: 40,
  leaseMs: 1500,
  ...over,
});

async function head(): Promise<number> {
  const [r] = await rows<{ n: string }>(
    database.db,
    sql`select coalesce(max(seq), 0)::text as n from audit_log`,
  );
  return Number(r!.n);
}

async function cursor(): Promise<number> {
  return (await readSiemStatus(database.db)).deliveredSeq;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Fails at random, but the same way every run: 5xx, 429 and requests that never get an answer. */
function flaky(seed: string): (n: number) => Behaviour {
  const rng = prng(seed);
  return () => {
    const r = rng();
    return r < 0.15 ? '503' : r < 0.25 ? '500' : r < 0.3 ? '429' : r < 0.4 ? 'hang' : 'ok';
  };
}

beforeAll(async () => {
  database = await testDatabase();
  orgIds = (
    await database.db
      .insert(organizations)
      .values([{ slug: 'siem-org', name: 'SIEM Org', planTier: 'team_saas' }])
      .returning({ id: organizations.id })
  ).map((o) => o.id);
});
afterEach(async () => {
  await receiver?.close();
  receiver = undefined;
});
afterAll(() => database.close());

describe('Splunk HEC delivery', () => {
  it('delivers every entry exactly once and in order, through failures, a crash and a restart', async () => {
    await appendFakeAudit(database.db, 300, { orgIds });
    receiver = await hecReceiver({ token: TOKEN, plan: flaky('siem-restart') });

    // Replica A delivers for a while, then dies with a request in flight: its lease stays behind.
    const a = new SplunkSink(database.db, settings(receiver.url), { owner: 'replica-a', random: prng('a') });
    for (let i = 0; i < 6; i++) await a.deliverOnce();
    const inFlight = a.deliverOnce().catch(() => null);
    const stuckAt = await cursor();
    expect(stuckAt).toBeGreaterThan(0);

    // More entries arrive meanwhile. Replica B stands by until A's lease runs out, then takes over.
    await appendFakeAudit(database.db, 150, { orgIds });
    const b = new SplunkSink(database.db, settings(receiver.url), { owner: 'replica-b', random: prng('b') });
    expect(await b.deliverOnce()).toMatchObject({ kind: 'standby', owner: 'replica-a' });
    await new Promise((r) => setTimeout(r, 1600));
    await inFlight;
    for (let i = 0; i < 5; i++) await b.deliverOnce();
    expect(await cursor()).toBeGreaterThan(stuckAt);

    // B is stopped cleanly in the middle of a drain: it hands the lease back, and C carries on at once.
    const draining = b.drain({ maxFailures: 1000 }).catch(() => null);
    await new Promise((r) => setTimeout(r, 150));
    await b.stop();
    await draining;
    await appendFakeAudit(database.db, 40, { orgIds });
    const c = new SplunkSink(database.db, settings(receiver.url), { owner: 'replica-c', random: prng('c') });
    const done = await c.drain({ maxFailures: 1000 });
    expect(done.outcome).toEqual({ kind: 'idle', deliveredSeq: await head() });

    expect(receiver.problems).toEqual([]);
    expect(receiver.refusedTokens).toBe(0);
    expect(receiver.accepted).toEqual(range(1, await head()));
    // The run did meet every kind of failure.
    expect(receiver.counts).toMatchObject({ '500': expect.any(Number), '503': expect.any(Number) });
    for (const kind of ['500', '503', '429', 'hang'] as const)
      expect(receiver.counts[kind]).toBeGreaterThan(0);
    const status = await readSiemStatus(database.db);
    expect(status).toMatchObject({ deliveredSeq: await head(), lagEntries: 0, failures: 0, lastError: null });
  });

  it('lets one of two replicas running side by side deliver, each entry once', async () => {
    const before = await cursor();
    await appendFakeAudit(database.db, 200, { orgIds });
    receiver = await hecReceiver({ token: TOKEN, plan: flaky('siem-replicas') });
    const x = new SplunkSink(database.db, settings(receiver.url), { owner: 'replica-x' });
    const y = new SplunkSink(database.db, settings(receiver.url), { owner: 'replica-y' });
    x.start();
    y.start();
    const target = await head();
    await expect.poll(cursor, { timeout: 30_000, interval: 50 }).toBe(target);
    await Promise.all([x.stop(), y.stop()]);
    expect(receiver.problems).toEqual([]);
    expect(receiver.accepted).toEqual(range(before + 1, target));
  });

  it('does not retry a refused token quickly, keeps the cursor, and never writes the token down', async () => {
    const before = await cursor();
    await appendFakeAudit(database.db, 5, { orgIds });
    receiver = await hecReceiver({ token: 'the-right-token' });
    const warnings: string[] = [];
    const sink = new SplunkSink(database.db, settings(receiver.url, { maxBackoffMs: 60_000 }), {
      owner: 'replica-z',
      log: { info: () => {}, warn: (obj, msg) => warnings.push(JSON.stringify(obj) + msg) },
    });
    const { outcome, delivered } = await sink.drain();
    expect(delivered).toBe(0);
    expect(outcome).toMatchObject({ kind: 'failed', retryable: false, retryInMs: 60_000 });
    expect(receiver.requests).toBe(1);
    expect(receiver.refusedTokens).toBe(1);
    const status = await readSiemStatus(database.db);
    expect(status).toMatchObject({ deliveredSeq: before, lagEntries: 5, failures: 1 });
    expect(status.lastError).toBe('Splunk answered 401: {"text":"Invalid token","code":4}');
    expect(status.nextAttemptAt).not.toBeNull();
    expect(warnings.join('\n')).not.toContain(TOKEN);
    await sink.stop();
  });

  it('counts a request without an answer as failed after the timeout, and sends the batch again', async () => {
    const before = await cursor();
    await appendFakeAudit(database.db, 10, { orgIds });
    receiver = await hecReceiver({ token: TOKEN, plan: (n) => (n === 1 ? 'hang' : 'ok') });
    const sink = new SplunkSink(database.db, settings(receiver.url, { timeoutMs: 200 }), {
      owner: 'replica-t',
    });
    const first = await sink.deliverOnce();
    expect(first).toMatchObject({ kind: 'failed', retryable: true, error: 'no answer within 0.2 s' });
    expect(await cursor()).toBe(before);
    expect((await sink.drain()).outcome.kind).toBe('idle');
    expect(receiver.accepted).toEqual(range(before + 1, await head()));
    await sink.stop();
  });
});
