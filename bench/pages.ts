/**
 * `npm run bench:pages [-- --orgs N --audit N --requests N --concurrency N]`: how long the server takes
 * to answer the organisation pages on a real Postgres with 100,000 organisations and 1,000,000 audit
 * entries (the defaults).
 *
 * What is measured, honestly: the server-side work of each page *in-process*, not through HTTP. Sign-in
 * is FIDO2 only and the portal has no test login, so a load tool cannot get a session without a code
 * path made for it, which the portal must not have. Each measured request therefore does what a page
 * request does on the server before rendering: the full session check (validateSession, as
 * requireStaffPage does through lib/auth/current.ts) and then the page's query-layer call:
 * - search: listOrgs by name prefix and by tier (first pages and keyset "Next" pages), the /orgs page;
 * - detail: orgDetail, everything /orgs/[id] reads;
 * - org audit: listAudit({ org }), the newest 50 entries of one organisation.
 * Not included: TLS, Next routing, the JWT cookie decode and React rendering. The StaffCtx is made as
 * test/staff.ts makes it: a staff row, a session row, and validateSession.
 *
 * The load pattern: per kind, a warm-up, then N requests issued by C concurrent workers (a closed loop);
 * p50/p95 are nearest-rank over the N latencies. The over-quota filter is timed too, for information
 * (it must evaluate platform_org_config for every organisation until it fills a page).
 *
 * Runs in a fresh database `portal_bench_<random>` on the DATABASE_URL server, dropped at the end, with a
 * throwaway in-memory HMAC key ring. Progress goes to stderr; the last line on stdout is `RESULT {json}`.
 */
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { type Db, rows } from '@/db/client';
import { prng, seedBench, seedDemo } from '@/db/seed';
import type { HmacKeyRing } from '@/lib/audit';
import { type StaffCtx, validateSession } from '@/lib/auth/session';
import { PLAN_TIERS } from '@/lib/plans';
import { listAudit } from '@/lib/queries/audit';
import { listOrgs, type OrgSearchInput, orgDetail } from '@/lib/queries/orgs';
import { staffWithSession } from '@/test/staff';
import { log, parseCounts, runBench } from './harness';

const USAGE = 'usage: npm run bench:pages [-- [--orgs N] [--audit N] [--requests N] [--concurrency N]]';
const WARM_UP = 30;

/** Nearest-rank percentile of ascending `sorted`. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const ms = (v: number) => Number(v.toFixed(2));

interface Latencies {
  p50: number;
  p95: number;
  max: number;
  /** By request index. */
  samples: number[];
}

/**
 * Issues `total` requests from `concurrency` workers, each starting its next request when the last one
 * answers; `request(i)` is the i-th request. Returns the latencies in ms.
 */
async function load(
  total: number,
  concurrency: number,
  request: (i: number) => Promise<unknown>,
): Promise<Latencies> {
  const samples: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        await request(i);
        samples[i] = performance.now() - t0;
      }
    }),
  );
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.at(-1)!, samples };
}

async function bench(db: Db, flags: Record<'orgs' | 'audit' | 'requests' | 'concurrency', number>) {
  // A key ring of its own: the benchmark never reads or generates the portal's secrets.
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

  const staff = await staffWithSession(db, 'auditor');
  const meta = { requestId: null, ip: '10.0.0.1', userAgent: 'bench:pages' };
  /** What a page request does on the server first: the full session check. */
  const session = async (): Promise<StaffCtx> => {
    const r = await validateSession(db, staff.sessionId, meta);
    if (!r.ok) throw new Error(`bench session refused: ${r.reason}`);
    return r.ctx;
  };

  const rng = prng('bench-pages');
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

  // Searches as staff type them: the start of a name (bench names are "Bench Org NNNNNN", so three
  // digits match ~100 organisations, one digit ~10,000), a demo customer's name, or a tier; a quarter
  // of them ask for the next page, with the cursor the first page gave.
  const digits = () => String(Math.floor(rng() * 10 ** 6)).padStart(6, '0');
  const prefixes = (): string => {
    const r = rng();
    if (r < 0.4) return `bench org ${digits().slice(0, 3)}`;
    if (r < 0.6) return `Bench Org ${digits().slice(0, 1)}`;
    if (r < 0.8) return pick(['harbor', 'Ri', 'north', 'c', 'Summit P', 'fed']);
    return 'bench';
  };
  const searchInputs: OrgSearchInput[] = [];
  const ctx0 = await session();
  for (let i = 0; i < flags.requests + WARM_UP; i++) {
    const input: OrgSearchInput = i % 2 === 0 ? { q: prefixes() } : { tier: pick(PLAN_TIERS) };
    if (rng() < 0.25) {
      const first = await listOrgs(ctx0, input);
      if (first.next) input.after = first.next;
    }
    searchInputs.push(input);
  }
  const org = () => pick(orgIds);

  const measure = async (name: string, request: (i: number) => Promise<unknown>) => {
    await load(WARM_UP, flags.concurrency, (i) => request(flags.requests + i));
    const r = await load(flags.requests, flags.concurrency, request);
    log(
      `${name}: p50 ${ms(r.p50)} ms, p95 ${ms(r.p95)} ms, max ${ms(r.max)} ms (${flags.requests} requests)`,
    );
    return r;
  };

  log(`measuring in-process, ${flags.concurrency} concurrent workers`);
  const search = await measure('search (name prefix and tier)', async (i) =>
    listOrgs(await session(), searchInputs[i % searchInputs.length]),
  );
  const byKind = (odd: number) => {
    const sorted = search.samples.filter((_, i) => i % 2 === odd).sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p95: percentile(sorted, 95) };
  };
  const [prefix, tier] = [byKind(0), byKind(1)];
  log(`  of which by name prefix: p50 ${ms(prefix.p50)} ms, p95 ${ms(prefix.p95)} ms`);
  log(`  of which by tier: p50 ${ms(tier.p50)} ms, p95 ${ms(tier.p95)} ms`);
  const detail = await measure('org detail', async () => orgDetail(await session(), org()));
  const orgAudit = await measure('org audit tab', async () => listAudit(await session(), { org: org() }));

  const overQuota: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await listOrgs(await session(), { over: '1' });
    overQuota.push(performance.now() - t0);
  }
  overQuota.sort((a, b) => a - b);
  log(
    `for information, the over-quota filter alone (no organisation is over quota in the bench data, so it ` +
      `walks all of them): p50 ${ms(percentile(overQuota, 50))} ms over 5 sequential requests`,
  );

  return {
    orgs: counts!.orgs,
    search_p50_ms: ms(search.p50),
    search_p95_ms: ms(search.p95),
    detail_p95_ms: ms(detail.p95),
    org_audit_p95_ms: ms(orgAudit.p95),
    search_prefix_p95_ms: ms(prefix.p95),
    search_tier_p95_ms: ms(tier.p95),
    detail_p50_ms: ms(detail.p50),
    org_audit_p50_ms: ms(orgAudit.p50),
    over_quota_filter_p50_ms: ms(percentile(overQuota, 50)),
    audit_entries: counts!.audit,
    requests: flags.requests,
    concurrency: flags.concurrency,
    measured: 'in-process: session check + query layer; no HTTP, no rendering',
  };
}

const flags = parseCounts(
  process.argv.slice(2),
  {
    orgs: { fallback: 100_000, min: 1 },
    audit: { fallback: 1_000_000, min: 0 },
    requests: { fallback: 400, min: 10 },
    concurrency: { fallback: 4, min: 1 },
  },
  USAGE,
);
await runBench('bench:pages', { pool: flags.concurrency * 3 }, (db) => bench(db, flags));
