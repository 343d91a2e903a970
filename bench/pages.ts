/**
 * `npm run bench:pages [-- --orgs N --audit N --requests N --concurrency N]`: how fast the portal answers
 * its organisation pages over HTTP, on a real Postgres with 100,000 organisations and 1,000,000 audit
 * entries (the defaults).
 *
 * The portal runs as `npm start` does (a production build, `next start`) on the benchmark's database, and
 * a superadmin signs in through a real FIDO2 ceremony with Chromium's virtual authenticator (bench/portal.ts);
 * autocannon then sends that session's cookie with every request. Measured: the whole response of
 * - search: `/orgs?q=<name prefix>` and `/orgs?tier=<tier>`, a quarter of them a keyset "Next" page;
 * - detail: `/orgs/<id>`, every section of the page;
 * - org audit: `/audit?org=<id>`, the newest entries of one organisation.
 * Each is a server-rendered page: session check, queries and React rendering, over loopback HTTP/1.1.
 *
 * The load pattern: per kind, a warm-up, then N requests, each connection sending its next request when
 * the last one is answered (autocannon's default); p50/p95 are nearest-rank over the N latencies. Every kind
 * is measured three times: from one connection (the RESULT's top-level figures: the response time of one
 * staff member's request); from C connections at once (`at_C_connections`, default 4: the same requests
 * queued on one Node process); and from C connections spread over R replicas (`at_C_connections_R_replicas`,
 * default 2, one a core of the reference machine: `next start` processes on the same database, the
 * connections dealt to them in turn as a load balancer would; production runs 3). Any answer but 200 fails
 * the run. The over-quota filter and the order by usage are timed too, for information.
 *
 * Runs in a fresh database `portal_bench_<random>` on the DATABASE_URL server, dropped at the end, with a
 * throwaway in-memory HMAC key ring for the seeded entries. Progress goes to stderr; the last line on stdout
 * is `RESULT {json}`.
 */
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { type Db, rows } from '@/db/client';
import { prng, seedBench, seedDemo } from '@/db/seed';
import type { HmacKeyRing } from '@/lib/audit';
import { type StaffCtx, validateSession } from '@/lib/auth/session';
import { PLAN_TIERS } from '@/lib/plans';
import { listOrgs } from '@/lib/queries/orgs';
import { staffWithSession } from '@/test/staff';
import autocannon from 'autocannon';
import { log, parseCounts, percentile, runBench } from './harness';
import { type Portal, startPortal, startReplica } from './portal';

const USAGE =
  'usage: npm run bench:pages [-- [--orgs N] [--audit N] [--requests N] [--concurrency N] [--replicas N] [--port N]]';
const WARM_UP = 30;

const ms = (v: number) => Number(v.toFixed(2));

interface Latencies {
  p50: number;
  p95: number;
  max: number;
}

function summary(samples: number[]): Latencies {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1)! };
}

/**
 * Sends every path once from `concurrency` connections (each connection walks its share of the list; the
 * connections are spread over the replicas in turn, as a load balancer would) and returns the latency of
 * each answer in ms, in the order answered. Anything but 200 throws.
 */
async function load(
  replicas: readonly Portal[],
  paths: readonly string[],
  concurrency: number,
): Promise<number[]> {
  const samples: number[] = [];
  const failures = new Map<string, number>();
  const perConnection = Array.from({ length: concurrency }, (_, c) =>
    paths.filter((_, i) => i % concurrency === c),
  ).filter((mine) => mine.length > 0);
  await Promise.all(
    perConnection.map(
      (mine, c) =>
        new Promise<void>((resolve, reject) => {
          const instance = autocannon(
            {
              url: replicas[c % replicas.length]!.baseURL,
              connections: 1,
              amount: mine.length,
              headers: { cookie: replicas[0]!.cookie },
              requests: mine.map((path) => ({ method: 'GET' as const, path })),
            },
            (err) => (err ? reject(err) : resolve()),
          );
          instance.on('response', (_client, status: number, _bytes: number, ms: number) => {
            if (status === 200) samples.push(ms);
            else failures.set(String(status), (failures.get(String(status)) ?? 0) + 1);
          });
        }),
    ),
  );
  if (failures.size > 0)
    throw new Error(`the portal answered ${[...failures].map(([s, n]) => `${n} × ${s}`).join(', ')}`);
  return samples;
}

async function bench(
  db: Db,
  databaseUrl: string,
  flags: Record<'orgs' | 'audit' | 'requests' | 'concurrency' | 'replicas' | 'port', number>,
) {
  // A key ring of its own for the seeded entries: the benchmark never reads the portal's secrets.
  const keys: HmacKeyRing = { activeId: 'bench', keys: new Map([['bench', crypto.randomBytes(32)]]) };
  await seedDemo(db, { keys, log });
  const { orgIds } = await seedBench(db, { orgs: flags.orgs, audit: flags.audit, keys, log });
  log('vacuum analyze');
  await db.execute(sql`vacuum analyze`);
  const [counts] = await rows<{ orgs: number; audit: number }>(
    db,
    sql`select (select count(*) from organizations)::int as orgs, (select count(*) from audit_log)::int as audit`,
  );
  log(`database: ${counts!.orgs} organisations, ${counts!.audit} audit entries`);

  const rng = prng('bench-pages');
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

  // Searches as staff type them: the start of a name (bench names are "Bench Org NNNNNN", so three
  // digits match ~100 organisations, one digit ~10,000), a demo customer's name, or a tier; a quarter
  // of them ask for the next page, with the cursor the first page gave (read here, in-process).
  const digits = () => String(Math.floor(rng() * 10 ** 6)).padStart(6, '0');
  const prefixes = (): string => {
    const r = rng();
    if (r < 0.4) return `bench org ${digits().slice(0, 3)}`;
    if (r < 0.6) return `Bench Org ${digits().slice(0, 1)}`;
    if (r < 0.8) return pick(['harbor', 'Ri', 'north', 'c', 'Summit P', 'fed']);
    return 'bench';
  };
  // First, while the database has no staff: npm start prints the bootstrap enrolment link only then.
  const portal = await startPortal(databaseUrl, flags.port);
  const replicas = [portal];
  try {
    const cursorCtx = (await validateSession(db, (await staffWithSession(db, 'auditor')).sessionId, {
      requestId: null,
      ip: '10.0.0.1',
      userAgent: 'bench:pages',
    })) as { ok: true; ctx: StaffCtx };
    // Half the searches by name prefix, half by tier, each measured on its own after its own warm-up.
    const half = Math.ceil(flags.requests / 2);
    const searchPaths = (make: () => Record<string, string>) =>
      Promise.all(
        Array.from({ length: half + WARM_UP }, async () => {
          const input = make();
          if (rng() < 0.25) {
            const first = await listOrgs(cursorCtx.ctx, input);
            if (first.next) input.after = first.next;
          }
          return `/orgs?${new URLSearchParams(input)}`;
        }),
      );
    const prefixPaths = await searchPaths(() => ({ q: prefixes() }));
    const tierPaths = await searchPaths(() => ({ tier: pick(PLAN_TIERS) }));
    const orgPaths = (make: (id: string) => string) =>
      Array.from({ length: flags.requests + WARM_UP }, () => make(pick(orgIds)));

    /** Warms up on the first WARM_UP paths, then measures the rest from `connections` connections. */
    const measure = async (name: string, paths: readonly string[], connections: number) => {
      await load(replicas, paths.slice(0, WARM_UP), connections);
      const samples = await load(replicas, paths.slice(WARM_UP), connections);
      const r = summary(samples);
      log(
        `${name}: p50 ${ms(r.p50)} ms, p95 ${ms(r.p95)} ms, max ${ms(r.max)} ms (${samples.length} requests)`,
      );
      return { ...r, samples };
    };
    const detailPaths = orgPaths((id) => `/orgs/${id}`);
    const auditPaths = orgPaths((id) => `/audit?org=${id}`);
    /** Every kind, from `connections` connections at once. */
    const round = async (connections: number) => {
      log(`measuring over HTTP with autocannon, ${connections} connection(s), ${replicas.length} replica(s)`);
      const prefix = await measure('search by name prefix', prefixPaths, connections);
      const tier = await measure('search by tier', tierPaths, connections);
      const search = summary([...prefix.samples, ...tier.samples]);
      log(`search (both): p50 ${ms(search.p50)} ms, p95 ${ms(search.p95)} ms`);
      const detail = await measure('org detail', detailPaths, connections);
      const orgAudit = await measure('org audit', auditPaths, connections);
      return {
        search_p50_ms: ms(search.p50),
        search_p95_ms: ms(search.p95),
        detail_p95_ms: ms(detail.p95),
        org_audit_p95_ms: ms(orgAudit.p95),
        search_prefix_p95_ms: ms(prefix.p95),
        search_tier_p95_ms: ms(tier.p95),
        detail_p50_ms: ms(detail.p50),
        org_audit_p50_ms: ms(orgAudit.p50),
      };
    };
    // One staff member's request at a time (the response time itself), then several at once: on one
    // Node process (how they queue on it), then spread over replicas, one a core, as deployed.
    const single = await round(1);
    const loaded = await round(flags.concurrency);
    for (let r = 1; r < flags.replicas; r++)
      replicas.push(await startReplica(databaseUrl, portal, flags.port + r));
    const spread = flags.replicas > 1 ? await round(flags.concurrency) : null;
    const overQuota = summary(
      await load(
        [portal],
        Array.from({ length: 5 }, () => '/orgs?over=1'),
        1,
      ),
    );
    log(`for information, the over-quota filter (5 sequential requests): p50 ${ms(overQuota.p50)} ms`);
    // The order by this month's requests (index usage_monthly_month_requests), alone and with a tier, a
    // quarter of them a "Next" page: for information, as the over-quota filter.
    const usagePaths = await searchPaths((): Record<string, string> =>
      rng() < 0.5 ? { sort: 'usage' } : { sort: 'usage', tier: pick(PLAN_TIERS) },
    );
    await load([portal], usagePaths.slice(0, WARM_UP), 1);
    const byUsage = summary(await load([portal], usagePaths.slice(WARM_UP, WARM_UP + 40), 1));
    log(
      `for information, sorted by usage (40 sequential requests): p50 ${ms(byUsage.p50)} ms, p95 ${ms(byUsage.p95)} ms`,
    );

    return {
      orgs: counts!.orgs,
      ...single,
      [`at_${flags.concurrency}_connections`]: loaded,
      ...(spread && { [`at_${flags.concurrency}_connections_${flags.replicas}_replicas`]: spread }),
      over_quota_p50_ms: ms(overQuota.p50),
      by_usage_p50_ms: ms(byUsage.p50),
      by_usage_p95_ms: ms(byUsage.p95),
      audit_entries: counts!.audit,
      requests: flags.requests,
      measured: 'HTTP: autocannon against next start, signed in with a virtual security key',
    };
  } finally {
    for (const r of replicas.reverse()) await r.stop();
  }
}

const flags = parseCounts(
  process.argv.slice(2),
  {
    orgs: { fallback: 100_000, min: 1 },
    audit: { fallback: 1_000_000, min: 0 },
    requests: { fallback: 400, min: 10 },
    concurrency: { fallback: 4, min: 1 },
    replicas: { fallback: 2, min: 1 },
    port: { fallback: 3190, min: 1 },
  },
  USAGE,
);
await runBench('bench:pages', { pool: 4 }, (db, url) => bench(db, url, flags));
