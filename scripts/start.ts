/**
 * `npm start`: build when the build is missing or older than the sources (and the tool bundles, among them
 * the audit verification's worker, when older than theirs), migrate, seed demo data into an empty local
 * database, then serve with `next start` on PORT.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrateDatabase, openDatabase, pgliteDir, rows } from '@/db/client';
import { seedDemo } from '@/db/seed';
import { config, ConfigError } from '@/lib/config';
import { createInvite } from '@/lib/services/staff/invites';
import { systemCtx } from '@/lib/services/staff/system';
import { buildTools, toolsStale } from './build-tools';

const BOOTSTRAP_EMAIL = 'superadmin@arbitex.local';
/** e2e/serve.ts finds the link by this prefix. */
const BOOTSTRAP_LINK_PREFIX = 'Enrol: ';

const NEXT_BIN = path.join('node_modules', '.bin', 'next');
const SOURCES = [
  'app',
  'components',
  'lib',
  'db',
  'middleware.ts',
  'next.config.ts',
  'package-lock.json',
  'postcss.config.mjs',
];

function newestMtime(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const stat = fs.statSync(p);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...fs.readdirSync(p).map((name) => newestMtime(path.join(p, name))));
}

function buildIfStale(): void {
  const buildId = path.join('.next', 'BUILD_ID');
  const builtAt = fs.existsSync(buildId) ? fs.statSync(buildId).mtimeMs : 0;
  if (builtAt > Math.max(...SOURCES.map(newestMtime))) return;
  console.log(
    builtAt ? 'Sources changed since the last build: building…' : 'No build yet: building (about a minute)…',
  );
  const result = spawnSync(NEXT_BIN, ['build'], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('The build failed; see above.');
    process.exit(result.status ?? 1);
  }
}

async function prepareDatabase(): Promise<void> {
  const c = config();
  const database = await openDatabase(
    c.DATABASE_URL ? { url: c.DATABASE_URL, max: 2 } : { dataDir: pgliteDir() },
  );
  try {
    if (c.PORTAL_ENV === 'production') return; // production migrates in its own one-shot job
    await migrateDatabase(database);
    const [orgs] = await rows<{ n: string }>(database.db, sql`select count(*)::text as n from organizations`);
    if (Number(orgs?.n) === 0)
      await seedDemo(database.db, { log: (line) => console.log(`Demo data: ${line}.`) });
    const [staff] = await rows<{ n: string }>(database.db, sql`select count(*)::text as n from staff_users`);
    if (Number(staff?.n) === 0) {
      const invite = await createInvite(
        systemCtx(database.db, 'start'),
        { email: BOOTSTRAP_EMAIL, role: 'superadmin' },
        null,
      );
      console.log(
        `\nNo staff yet. Enrolment link for the first superadmin (${invite.email}), valid until ${invite.expiresAt.toISOString()}:`,
      );
      console.log(`${BOOTSTRAP_LINK_PREFIX}${invite.url}\n`);
    }
    console.log(
      `Database: ${database.kind === 'pglite' ? `embedded PGlite in ${pgliteDir()}` : 'PostgreSQL (DATABASE_URL)'}, migrated.`,
    );
  } finally {
    await database.close();
  }
}

async function main(): Promise<void> {
  // npm start is the local launcher: `next start` runs with NODE_ENV=production, and the portal refuses
  // that without PORTAL_ENV, so say local unless told otherwise. The image and the manifests set production.
  process.env.PORTAL_ENV ??= 'local';
  const c = config();
  buildIfStale();
  if (toolsStale()) await buildTools();
  await prepareDatabase();
  const child = spawn(NEXT_BIN, ['start', '-p', String(c.PORT)], { stdio: 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
