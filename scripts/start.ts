/**
 * `npm start`: build when the build is missing or older than the sources (and the tool bundles, among them
 * the audit verification's worker, when older than theirs), migrate, seed demo data into an empty local
 * database, then serve with `next start` on PORT. On an empty database the first superadmin's enrolment
 * link comes last, in a box, once the portal answers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { migrateDatabase, openDatabase, pgliteDir, rows } from '@/db/client';
import { seedDemo } from '@/db/seed';
import { config, ConfigError } from '@/lib/config';
import { createInvite } from '@/lib/services/staff/invites';
import { systemCtx } from '@/lib/services/staff/system';
import { buildTools, toolsStale } from './build-tools';
import { ENROL_FOLLOWS, enrolBanner } from './enrol-banner';

const BOOTSTRAP_EMAIL = 'superadmin@arbitex.local';

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

/**
 * Next 16 warns about the `middleware.ts` file name on every build; the product card fixes that name
 * (docs/ARCHITECTURE.md), so the warning says nothing to act on and is left out of the build's summary.
 */
const EXPECTED_WARNING = /The "middleware" file convention is deprecated/;

/**
 * Builds quietly: its output is kept and printed only when the build fails, with a line every 15 s
 * meanwhile; warnings other than the expected one are printed after a successful build.
 */
async function buildIfStale(): Promise<void> {
  const buildId = path.join('.next', 'BUILD_ID');
  const builtAt = fs.existsSync(buildId) ? fs.statSync(buildId).mtimeMs : 0;
  if (builtAt > Math.max(...SOURCES.map(newestMtime))) return;
  console.log(
    builtAt ? 'Sources changed since the last build: building…' : 'No build yet: building (about a minute)…',
  );
  const started = Date.now();
  const ticker = setInterval(
    () => console.log(`  still building (${Math.round((Date.now() - started) / 1000)} s)…`),
    15_000,
  );
  const build = spawn(NEXT_BIN, ['build'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  build.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  build.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => build.on('close', resolve));
  clearInterval(ticker);
  if (status !== 0) {
    process.stderr.write(output);
    console.error('The build failed; see above.');
    process.exit(status ?? 1);
  }
  const warnings = buildWarnings(output);
  if (warnings.length) console.log(warnings.join('\n'));
  console.log(`Built in ${Math.round((Date.now() - started) / 1000)} s.`);
}

/** The build's warnings (`⚠` lines with what follows them up to a blank line), but the expected one. */
function buildWarnings(output: string): string[] {
  const blocks = output.split(/\n\s*\n/);
  return blocks
    .map((block) => block.slice(Math.max(0, block.search(/^\s*⚠/m))))
    .filter((block) => /^\s*⚠/.test(block) && !EXPECTED_WARNING.test(block))
    .map((block) => block.trimEnd());
}

interface Invite {
  email: string;
  url: string;
  expiresAt: Date;
}

async function prepareDatabase(): Promise<Invite | null> {
  const c = config();
  const database = await openDatabase(
    c.DATABASE_URL ? { url: c.DATABASE_URL, max: 2 } : { dataDir: pgliteDir() },
  );
  let invite: Invite | null = null;
  try {
    if (c.PORTAL_ENV === 'production') return null; // production migrates in its own one-shot job
    await migrateDatabase(database);
    const [orgs] = await rows<{ n: string }>(database.db, sql`select count(*)::text as n from organizations`);
    if (Number(orgs?.n) === 0)
      await seedDemo(database.db, { log: (line) => console.log(`Demo data: ${line}.`) });
    const [staff] = await rows<{ n: string }>(database.db, sql`select count(*)::text as n from staff_users`);
    if (Number(staff?.n) === 0) {
      invite = await createInvite(
        systemCtx(database.db, 'start'),
        { email: BOOTSTRAP_EMAIL, role: 'superadmin' },
        null,
      );
      console.log(ENROL_FOLLOWS);
    }
    console.log(
      `Database: ${database.kind === 'pglite' ? `embedded PGlite in ${pgliteDir()}` : 'PostgreSQL (DATABASE_URL)'}, migrated.`,
    );
    return invite;
  } finally {
    await database.close();
  }
}

/**
 * The configuration the build serialised, as the image's standalone server.js passes it to Next (same
 * variable, same value). With it `next start` serves with the build's own configuration, as the image
 * does, instead of re-reading next.config.ts and warning that it "does not work" with standalone output.
 */
function standaloneConfigEnv(): Record<string, string> {
  const file = path.join('.next', 'required-server-files.json');
  if (!fs.existsSync(file)) return {};
  const { config: built } = JSON.parse(fs.readFileSync(file, 'utf8')) as { config?: object };
  return built ? { __NEXT_PRIVATE_STANDALONE_CONFIG: JSON.stringify({ ...built, distDir: './.next' }) } : {};
}

/**
 * Resolves once the portal answers /api/health and has printed nothing for a moment (its start-up lines
 * are out), or when it exits.
 */
async function answered(port: number, child: ChildProcess, lastOutput: () => number): Promise<boolean> {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const ok = await fetch(`http://localhost:${port}/api/health`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await sleep(250);
  }
  const quietFrom = Date.now();
  while (Date.now() - lastOutput() < 400 && Date.now() - quietFrom < 3000) await sleep(100);
  return child.exitCode === null && child.signalCode === null;
}

async function main(): Promise<void> {
  // npm start is the local launcher: `next start` runs with NODE_ENV=production, and the portal refuses
  // that without PORTAL_ENV, so say local unless told otherwise. The image and the manifests set production.
  process.env.PORTAL_ENV ??= 'local';
  // As in the image: no usage reports from an admin plane, and no notice about them on a fresh machine.
  process.env.NEXT_TELEMETRY_DISABLED ??= '1';
  const c = config();
  await buildIfStale();
  if (toolsStale()) await buildTools();
  const invite = await prepareDatabase();
  const child = spawn(NEXT_BIN, ['start', '-p', String(c.PORT)], {
    stdio: ['inherit', 'pipe', 'pipe'],
    env: { ...process.env, ...standaloneConfigEnv() },
  });
  let last = Date.now();
  child.stdout.on('data', (chunk: Buffer) => {
    last = Date.now();
    process.stdout.write(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    last = Date.now();
    process.stderr.write(chunk);
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  if (invite && (await answered(c.PORT, child, () => last)))
    console.log(`\n${enrolBanner(invite.email, invite.url, invite.expiresAt)}\n`);
}

main().catch((err: unknown) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
