import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Database } from '@/db/client';
import { cosignerVerifierKey } from '@/lib/audit/witness-protocol';
import { asAppRole, testDatabase } from './db';

// SIEM and witness figures appear only with delivery and witnesses configured; lib/config.ts reads the
// environment once, so the modules that read it are imported after this.
vi.stubEnv('SPLUNK_HEC_URL', 'http://127.0.0.1:9/services/collector/event');
const WITNESS_KEY = cosignerVerifierKey('witness.test/w1', crypto.generateKeyPairSync('ed25519').privateKey);
vi.stubEnv('AUDIT_WITNESS_URLS', 'http://127.0.0.1:9');
vi.stubEnv('AUDIT_WITNESS_KEYS', WITNESS_KEY);

let owner: Database & { url?: string };
let metrics: typeof import('@/lib/metrics');

beforeAll(async () => {
  metrics = await import('@/lib/metrics');
  owner = await testDatabase({ max: 2 });
});
afterAll(async () => {
  await owner.close();
  vi.unstubAllEnvs();
});

/** /metrics as the application role (portal_app, owning nothing) reads it. */
async function scrape(): Promise<Map<string, number>> {
  const app = await asAppRole(owner);
  try {
    return parse(await metrics.renderMetrics(app));
  } finally {
    await app.close();
  }
}

/** The samples of a Prometheus text answer, `name{labels}` → value, checking every line's shape. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.trimEnd().split('\n')) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!m) throw new Error(`not a sample line: ${line}`);
    samples.set(m[1]!, m[2] === '+Inf' ? Infinity : m[2] === '-Inf' ? -Infinity : Number(m[2]));
  }
  return samples;
}

describe('/metrics, against a real database as the application role', () => {
  it('on an empty chain: nothing waiting, no checkpoint yet, no SIEM lag', async () => {
    const s = await scrape();
    expect(s.get('portal_metrics_database_up')).toBe(1);
    expect(s.get('portal_audit_inbox_rows')).toBe(0);
    expect(s.get('portal_audit_inbox_oldest_age_seconds')).toBe(0);
    expect(s.has('portal_audit_checkpoint_age_seconds')).toBe(false);
    expect(s.get('portal_siem_lag_entries')).toBe(0);
    expect(s.get('portal_siem_lag_seconds')).toBe(0);
  });

  it('shows the inbox backlog and its oldest age, the newest checkpoint’s age, and the SIEM lag', async () => {
    const { appendEntries } = await import('@/lib/audit/append');
    const { insertCheckpoint } = await import('@/lib/audit/checkpoint');
    const tenMinutesAgo = new Date(Date.now() - 600_000).toISOString();
    await owner.db.transaction((tx) =>
      appendEntries(
        tx,
        [0, 1, 2].map((i) => ({
          action: 'org.rate_limits.updated' as const,
          occurred_at: new Date(Date.parse(tenMinutesAgo) + i * 1000).toISOString(),
          actor_email: 'ops@arbitex.ai',
        })),
      ),
    );
    await owner.db.transaction((tx) => insertCheckpoint(tx));
    // Two writes whose entries wait (as after a drain failed): the inbox as the audited-write path leaves it.
    await owner.db.execute(sql`insert into audit_inbox (entries, key_id, mac, created_at) values
      ('[]'::jsonb, 'test-k1', 'x', now() - interval '120 seconds'),
      ('[]'::jsonb, 'test-k1', 'y', now() - interval '30 seconds')`);

    const s = await scrape();
    expect(s.get('portal_audit_inbox_rows')).toBe(2);
    expect(s.get('portal_audit_inbox_oldest_age_seconds')).toBeGreaterThanOrEqual(120);
    expect(s.get('portal_audit_inbox_oldest_age_seconds')).toBeLessThan(180);
    // Signed just now, on the database's clock (audit_checkpoints refuses UPDATE, so it cannot be aged).
    expect(s.get('portal_audit_checkpoint_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(s.get('portal_audit_checkpoint_age_seconds')).toBeLessThan(30);
    // Nothing delivered: the whole chain is the lag, the oldest entry ten minutes old.
    expect(s.get('portal_siem_lag_entries')).toBe(3);
    expect(s.get('portal_siem_lag_seconds')).toBeGreaterThanOrEqual(600);
    expect(s.get('portal_siem_lag_seconds')).toBeLessThan(660);
  });

  it('per configured witness: the age of its newest cosignature (+Inf before any), and its alarms', async () => {
    const witness = 'witness="witness.test/w1"';
    const before = await scrape();
    expect(before.get(`portal_audit_witness_cosigned_age_seconds{${witness}}`)).toBe(Infinity);
    expect(before.get(`portal_audit_witness_alarms_total{${witness}}`)).toBe(0);

    const { insertCheckpoint } = await import('@/lib/audit/checkpoint');
    const checkpoint = await owner.db.transaction((tx) => insertCheckpoint(tx));
    const row = (outcome: string, alarm: boolean, ageS: number) =>
      sql`(${checkpoint.id}::uuid, 'witness.test/w1', ${WITNESS_KEY}, 'http://127.0.0.1:9', ${outcome},
           ${outcome === 'cosigned' ? null : 409}, ${outcome === 'cosigned' ? now : null},
           ${outcome === 'cosigned' ? '— witness.test/w1 AAAA' : null}, ${alarm},
           now() - make_interval(secs => ${ageS}))`;
    const now = new Date().toISOString();
    await owner.db.execute(
      sql`insert into audit_checkpoint_cosignatures (checkpoint_id, witness_name, witness_key, witness_url,
            outcome, http_status, cosigned_at, cosignature, alarm, requested_at)
          values ${sql.join([row('cosigned', false, 900), row('cosigned', false, 300), row('refused', true, 60)], sql`, `)}`,
    );
    const after = await scrape();
    // The newer of the two cosignatures, on the database's clock.
    expect(after.get(`portal_audit_witness_cosigned_age_seconds{${witness}}`)).toBeGreaterThanOrEqual(300);
    expect(after.get(`portal_audit_witness_cosigned_age_seconds{${witness}}`)).toBeLessThan(360);
    expect(after.get(`portal_audit_witness_alarms_total{${witness}}`)).toBe(1);
  });

  it('leaves the database figures out, with database_up 0, when the database cannot answer', async () => {
    const s = parse(await metrics.renderMetrics(Promise.reject(new Error('connection refused'))));
    expect(s.get('portal_metrics_database_up')).toBe(0);
    expect([...s.keys()].filter((k) => /^portal_(audit|siem|db)_/.test(k))).toEqual([]);
    expect(s.get('process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('counts requests into the duration histogram by method, route class and status class only', async () => {
    const { observeRequest } = await import('@/lib/metrics/http');
    observeRequest('GET', '/orgs/8d7c0e9e-1111-4222-8333-444455556666', 200, 0.03);
    observeRequest('GET', '/orgs', 200, 0.7);
    observeRequest('BREW', '/api/health', 503, 20);
    const s = await scrape();
    const page = 'method="GET",route="page",status="2xx"';
    expect(s.get(`portal_http_request_duration_seconds_count{${page}}`)).toBe(2);
    expect(s.get(`portal_http_request_duration_seconds_bucket{${page},le="0.025"}`)).toBe(0);
    expect(s.get(`portal_http_request_duration_seconds_bucket{${page},le="0.05"}`)).toBe(1);
    expect(s.get(`portal_http_request_duration_seconds_bucket{${page},le="1"}`)).toBe(2);
    expect(s.get(`portal_http_request_duration_seconds_sum{${page}}`)).toBeCloseTo(0.73);
    const odd = 'method="other",route="health",status="5xx"';
    expect(s.get(`portal_http_request_duration_seconds_bucket{${odd},le="10"}`)).toBe(0);
    expect(s.get(`portal_http_request_duration_seconds_bucket{${odd},le="+Inf"}`)).toBe(1);
    expect([...s.keys()].some((k) => k.includes('8d7c0e9e'))).toBe(false);
  });

  it('measures the pool: statements beyond max wait, and the saturated time adds up (PostgreSQL; PGlite has no pool)', async () => {
    if (!owner.url) {
      expect(owner.pool).toBeUndefined();
      expect(await metrics.renderMetrics(owner)).not.toMatch(/portal_db_pool/);
      return;
    }
    const pool = owner.pool!;
    expect(pool.max).toBe(2);
    const before = pool.saturatedSeconds();
    // drizzle's queries are lazy: then() starts each one now.
    const sleepers = Array.from({ length: 4 }, () =>
      owner.db.execute(sql`select pg_sleep(0.4)`).then(() => undefined),
    );
    const tx = owner.db.transaction(async (t) => {
      await t.execute(sql`select pg_sleep(0.4)`);
    });
    await new Promise((r) => setTimeout(r, 150));
    const s = parse(await metrics.renderMetrics(owner));
    await Promise.all([...sleepers, tx]);
    // Five operations, two connections: two on them, three waiting.
    expect(s.get('portal_db_pool_max')).toBe(2);
    expect(s.get('portal_db_pool_in_use')).toBe(2);
    expect(s.get('portal_db_pool_waiting')).toBe(3);
    expect(pool.inUse).toBe(0);
    expect(pool.waiting).toBe(0);
    // Three rounds of 0.4 s on two connections: saturated for at least about 0.8 s.
    expect(pool.saturatedSeconds() - before).toBeGreaterThan(0.7);
  });
});
