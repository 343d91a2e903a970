/**
 * `npm run bench:export [-- --entries N]`: the OCSF NDJSON export of N audit entries (default 1,000,000)
 * from a real Postgres, in a process of its own (bench/export-child.ts), so that its peak RSS is the
 * export's and not the seeding's. Reports entries/s, MB written and the peak RSS; fails above 300 MB.
 *
 * Runs in a fresh database `portal_bench_<random>` on the DATABASE_URL server, dropped at the end.
 * Progress goes to stderr; the last line on stdout is `RESULT {json}`.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { type Db, rows } from '@/db/client';
import { organizations } from '@/db/schema';
import { appendFakeAudit } from '@/db/seed';
import type { HmacKeyRing } from '@/lib/audit';
import { config } from '@/lib/config';
import { log, parseCounts, runBench } from './harness';

const RSS_LIMIT_MB = 300;
const USAGE = 'usage: npm run bench:export [-- [--entries N]]';

interface ChildResult {
  entries: number;
  bytes: number;
  seconds: number;
  max_rss_mb: number;
}

function runChild(url: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('node_modules/.bin/tsx', ['bench/export-child.ts'], {
      env: { ...process.env, DATABASE_URL: url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`export-child exited ${code}: ${out}`));
      else resolve(JSON.parse(line) as ChildResult);
    });
  });
}

async function bench(db: Db, entries: number) {
  const keys: HmacKeyRing = { activeId: 'bench', keys: new Map([['bench', crypto.randomBytes(32)]]) };
  const orgIds = (
    await db
      .insert(organizations)
      .values(
        Array.from({ length: 1000 }, (_, i) => ({
          slug: `bench-export-${i}`,
          name: `Bench Export ${i}`,
          planTier: 'team_saas' as const,
        })),
      )
      .returning({ id: organizations.id })
  ).map((o) => o.id);
  log(`appending ${entries} audit entries`);
  await appendFakeAudit(db, entries, { orgIds, keys, log });
  await db.execute(sql`vacuum analyze audit_log`);

  const [name] = await rows<{ db: string }>(db, sql`select current_database() as db`);
  const url = new URL(config().DATABASE_URL!);
  url.pathname = `/${name!.db}`;
  log('exporting in a child process');
  const r = await runChild(url.toString());
  log(`exported ${r.entries} entries in ${r.seconds.toFixed(1)} s, peak RSS ${r.max_rss_mb} MB`);
  return {
    export_entries: r.entries,
    export_seconds: Number(r.seconds.toFixed(2)),
    export_entries_per_s: Math.round(r.entries / r.seconds),
    export_mb: Number((r.bytes / 1e6).toFixed(1)),
    export_rss_mb: r.max_rss_mb,
    export_rss_limit_mb: RSS_LIMIT_MB,
  };
}

const { entries } = parseCounts(process.argv.slice(2), { entries: { fallback: 1_000_000, min: 1 } }, USAGE);
await runBench(
  'bench:export',
  { pool: 4 },
  (db) => bench(db, entries),
  (r) => r.export_entries === entries && r.export_rss_mb < RSS_LIMIT_MB,
);
