/**
 * `npm run bench:verify-load [-- --entries N --rounds N --samples N --port N]`: how fast the portal still
 * answers while it verifies its audit chain (issue #16). On a real Postgres with 1,000,000 entries (the
 * default), the portal as `npm start` runs it, and a superadmin signed in with a virtual security key
 * (bench/portal.ts).
 *
 * Each round: first the baseline, `--samples` requests of an organisation page (`/orgs/<id>`, the whole
 * server-rendered page) and as many of `/api/health`, in turn, one at a time from one connection; then a
 * verification of the whole chain started as the page starts it (`POST /api/audit/verify`), and the same
 * requests in turn, one at a time, for as long as it runs. Beside them the run is polled every 0.7 s as
 * /audit/verify polls it, to count the progress updates it shows. p95 and p50 are nearest-rank per round;
 * the RESULT gives the medians over the rounds, and `*_ratio` = p95 while verifying / p95 without.
 * Target: ratio ≤ 2.
 *
 * The portal reads its secrets from SECRET_* variables that this script makes, so that the entries it
 * seeds are MACed with the portal's own HMAC key and the verification walks the whole chain.
 * Runs in a fresh database `portal_bench_<random>` on the DATABASE_URL server, dropped at the end.
 * Progress goes to stderr; the last line on stdout is `RESULT {json}`.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import { sql } from 'drizzle-orm';
import { type Db, rows } from '@/db/client';
import { appendFakeAudit, seedDemo } from '@/db/seed';
import type { HmacKeyRing } from '@/lib/audit';
import { newEd25519PrivateKey } from '@/lib/secrets';
import { log, median, parseCounts, percentile, runBench } from './harness';
import { type Portal, startPortal } from './portal';

const USAGE = 'usage: npm run bench:verify-load [-- [--entries N] [--rounds N] [--samples N] [--port N]]';
const POLL_MS = 700;

const ms = (v: number) => Number(v.toFixed(2));
const load = () => os.loadavg().map((l) => Number(l.toFixed(2)));

interface Samples {
  page: number[];
  health: number[];
}

function p(samples: number[], q: number): number {
  return percentile(
    [...samples].sort((a, b) => a - b),
    q,
  );
}

async function timed(portal: Portal, path: string): Promise<number> {
  const t = performance.now();
  const res = await fetch(`${portal.baseURL}${path}`, { headers: { cookie: portal.cookie } });
  await res.arrayBuffer();
  const elapsed = performance.now() - t;
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
  return elapsed;
}

/** The page and /api/health in turn, one request at a time, `count` of each or until `until()` says stop. */
async function requests(
  portal: Portal,
  pages: () => string,
  opts: { count?: number; until?: () => boolean },
): Promise<Samples> {
  const samples: Samples = { page: [], health: [] };
  while (opts.count !== undefined ? samples.page.length < opts.count : !opts.until!()) {
    samples.page.push(await timed(portal, pages()));
    samples.health.push(await timed(portal, '/api/health'));
  }
  return samples;
}

interface RunView {
  id: string;
  status: string;
  checked: number;
  total: number;
  ratePerS: number;
  result: { ok?: boolean; kind?: string; error?: string } | null;
}

/** One round: the baseline, then the same requests while a verification of the whole chain runs. */
async function measureRound(
  portal: Portal,
  pages: () => string,
  samples: number,
  round: number,
  rounds: number,
) {
  const loadBefore = load();
  await requests(portal, pages, { count: 20 }); // warm-up
  const base = await requests(portal, pages, { count: samples });

  const t0 = performance.now();
  const post = await fetch(`${portal.baseURL}/api/audit/verify`, {
    method: 'POST',
    headers: { cookie: portal.cookie, origin: portal.baseURL, 'content-type': 'application/json' },
    body: '{}',
  });
  const postMs = performance.now() - t0;
  if (post.status !== 200)
    throw new Error(`POST /api/audit/verify answered ${post.status}: ${await post.text()}`);
  const { runId } = (await post.json()) as { runId: string };

  // Polled as the page polls it: every 0.7 s, counting the distinct progress figures it shows.
  let run: RunView | undefined;
  const progress = new Set<number>();
  let pollMs = 0;
  const polling = (async () => {
    for (;;) {
      const t = performance.now();
      const res = await fetch(`${portal.baseURL}/api/audit/verify/${runId}`, {
        headers: { cookie: portal.cookie },
      });
      pollMs = Math.max(pollMs, performance.now() - t);
      run = (await res.json()) as RunView;
      if (run.status !== 'running') return;
      if (run.checked > 0 && run.checked < run.total) progress.add(run.checked);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();
  const busy = await requests(portal, pages, {
    until: () => run !== undefined && run.status !== 'running',
  });
  await polling;
  const runS = (performance.now() - t0) / 1000;
  if (!run || run.status !== 'valid')
    throw new Error(`the verification ended ${run?.status}: ${JSON.stringify(run?.result)}`);

  const r = {
    page_p95_ms: ms(p(base.page, 95)),
    page_p95_verifying_ms: ms(p(busy.page, 95)),
    page_p95_ratio: Number((p(busy.page, 95) / p(base.page, 95)).toFixed(3)),
    health_p95_ms: ms(p(base.health, 95)),
    health_p95_verifying_ms: ms(p(busy.health, 95)),
    health_p95_ratio: Number((p(busy.health, 95) / p(base.health, 95)).toFixed(3)),
    page_p50_ms: ms(p(base.page, 50)),
    page_p50_verifying_ms: ms(p(busy.page, 50)),
    health_p50_ms: ms(p(base.health, 50)),
    health_p50_verifying_ms: ms(p(busy.health, 50)),
    requests_verifying: busy.page.length + busy.health.length,
    post_ms: ms(postMs),
    poll_max_ms: ms(pollMs),
    progress_updates: progress.size,
    verified: run.checked,
    verify_s: Number(runS.toFixed(1)),
    verify_per_s: Math.round(run.checked / runS),
    load_before: loadBefore,
    load_after: load(),
  };
  log(
    `round ${round}/${rounds}: page p95 ${r.page_p95_ms} → ${r.page_p95_verifying_ms} ms (×${r.page_p95_ratio}), ` +
      `/api/health p95 ${r.health_p95_ms} → ${r.health_p95_verifying_ms} ms (×${r.health_p95_ratio}); ` +
      `${r.verified} entries in ${r.verify_s} s, ${r.progress_updates} progress updates, POST ${r.post_ms} ms, load ${r.load_before.join(' ')}`,
  );
  return r;
}

async function bench(
  db: Db,
  databaseUrl: string,
  flags: Record<'entries' | 'rounds' | 'samples' | 'port', number>,
) {
  // The portal's own keys, made here: the seeded entries must verify under them.
  const hmacKey = crypto.randomBytes(32);
  const keys: HmacKeyRing = { activeId: 'bench', keys: new Map([['bench', hmacKey]]) };
  const secrets = {
    SECRETS_BACKEND: 'env',
    SECRET_TOKEN_SIGNING_KEK: crypto.randomBytes(32).toString('base64'),
    SECRET_AUTH_SECRET: crypto.randomBytes(32).toString('base64url'),
    SECRET_AUDIT_HMAC_KEYS: JSON.stringify({ active: 'bench', keys: { bench: hmacKey.toString('base64') } }),
    SECRET_AUDIT_CHECKPOINT_KEYS: JSON.stringify({ active: 'cp1', keys: { cp1: newEd25519PrivateKey() } }),
  };
  await seedDemo(db, { keys, log });
  const orgIds = (await rows<{ id: string }>(db, sql`select id::text as id from organizations`)).map(
    (o) => o.id,
  );
  const [count] = await rows<{ n: string }>(db, sql`select count(*)::text as n from audit_log`);
  const missing = flags.entries - Number(count?.n ?? 0);
  if (missing > 0) await appendFakeAudit(db, missing, { orgIds, keys, log });
  log('vacuum analyze');
  await db.execute(sql`vacuum analyze`);

  let n = 0;
  const pages = () => `/orgs/${orgIds[n++ % orgIds.length]!}`;
  const portal = await startPortal(databaseUrl, flags.port, secrets);
  try {
    const rounds: Array<Awaited<ReturnType<typeof measureRound>>> = [];
    for (let round = 1; round <= flags.rounds; round++)
      rounds.push(await measureRound(portal, pages, flags.samples, round, flags.rounds));
    const med = (key: keyof (typeof rounds)[number]) => median(rounds.map((r) => r[key] as number));
    return {
      page_p95_ms: med('page_p95_ms'),
      page_p95_verifying_ms: med('page_p95_verifying_ms'),
      page_p95_ratio: med('page_p95_ratio'),
      health_p95_ms: med('health_p95_ms'),
      health_p95_verifying_ms: med('health_p95_verifying_ms'),
      health_p95_ratio: med('health_p95_ratio'),
      verify_per_s: med('verify_per_s'),
      post_ms: med('post_ms'),
      progress_updates: med('progress_updates'),
      entries: flags.entries,
      rounds,
      cores: os.availableParallelism(),
      measured:
        'HTTP, one request at a time: /orgs/<id> and /api/health against npm start, with and without a verification of the whole chain from POST /api/audit/verify',
    };
  } finally {
    await portal.stop();
  }
}

const flags = parseCounts(
  process.argv.slice(2),
  {
    entries: { fallback: 1_000_000, min: 1 },
    rounds: { fallback: 3, min: 1 },
    samples: { fallback: 200, min: 10 },
    port: { fallback: 3290, min: 1 },
  },
  USAGE,
);
await runBench('bench:verify-load', { pool: 4 }, (db, url) => bench(db, url, flags));
