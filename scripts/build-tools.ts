/**
 * `npm run build:tools`: the plain JavaScript bundles that run without tsx, under .next/tools/:
 * - `migrate.mjs` and `staff-invite.mjs`, the image's command-line tools (deploy/Dockerfile copies them);
 * - `verify-worker.mjs`, the worker thread of a verification started from the portal (lib/services/audit/
 *   verify.ts): the Next server cannot load a TypeScript file in a worker;
 * - `audit-witness.mjs`, the witness (`npm run audit:witness`), one file that runs with `node` alone on a
 *   machine outside the portal's trust domain.
 *
 * `npm start` runs it when a bundle is older than its sources (toolsStale), vitest's global setup before
 * every run, and the image's build always.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export const TOOLS_DIR = '.next/tools';
export const TOOL_ENTRIES = {
  migrate: 'scripts/migrate.ts',
  'staff-invite': 'scripts/staff-invite.ts',
  'verify-worker': 'lib/audit/verify-worker.ts',
  'audit-witness': 'scripts/audit-witness.ts',
} as const;
/** What the bundles are built from. */
const TOOL_SOURCES = ['scripts', 'lib', 'db', 'package-lock.json'];

function newestMtime(p: string): number {
  if (!fs.existsSync(p)) return 0;
  const stat = fs.statSync(p);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...fs.readdirSync(p).map((name) => newestMtime(path.join(p, name))));
}

/** True when a bundle is missing or older than a file it may be built from. */
export function toolsStale(root = '.'): boolean {
  const outputs = Object.keys(TOOL_ENTRIES).map((name) => path.join(root, TOOLS_DIR, `${name}.mjs`));
  const builtAt = Math.min(...outputs.map((f) => (fs.existsSync(f) ? fs.statSync(f).mtimeMs : 0)));
  return builtAt <= Math.max(...TOOL_SOURCES.map((s) => newestMtime(path.join(root, s))));
}

export async function buildTools(root = '.'): Promise<void> {
  await build({
    absWorkingDir: path.resolve(root),
    entryPoints: TOOL_ENTRIES,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    outdir: TOOLS_DIR,
    outExtension: { '.js': '.mjs' },
    // PGlite loads WebAssembly and data files from its package: the migrate tool imports it from node_modules.
    external: ['@electric-sql/pglite', 'drizzle-orm/pglite', 'drizzle-orm/pglite/migrator'],
    logLevel: 'warning',
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildTools();
}
