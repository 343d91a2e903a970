/**
 * Static checks of deploy/Dockerfile. CI has no Docker engine, so this is not a build: it only keeps the
 * promises the file makes (digest pin, non-root, no curl or wget, a Node health check, standalone output)
 * from being edited away. The release pipeline builds and scans the image (deploy/README.md).
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WORKER_BUNDLES } from '@/lib/services/audit/verify';
import nextConfig from '@/next.config';
import { TOOL_ENTRIES, TOOLS_DIR } from '@/scripts/build-tools';

const text = fs.readFileSync('deploy/Dockerfile', 'utf8');
/** Instructions, with continuation lines joined and comments dropped. */
const instructions = text
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const args = Object.fromEntries(
  instructions.flatMap((l) => {
    const m = /^ARG (\w+)=(\S+)$/.exec(l);
    return m ? [[m[1]!, m[2]!]] : [];
  }),
);
const stages = instructions.reduce<string[][]>((all, l) => {
  if (l.startsWith('FROM ')) all.push([l]);
  else all.at(-1)?.push(l);
  return all;
}, []);
const runtime = stages.at(-1)!;

describe('deploy/Dockerfile', () => {
  it('is multi-stage, and every base image is pinned by digest', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const [from] of stages) {
      const image = from!.split(/\s+/)[1]!.replace(/^\$\{(\w+)\}$/, (_, name: string) => args[name] ?? '');
      expect(image, from).toMatch(/^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$/);
    }
    expect(text).toMatch(/To bump it:/);
  });

  it('runs the standalone server as a non-root user', () => {
    expect(nextConfig.output).toBe('standalone');
    expect(runtime).toContain('COPY --from=build /src/.next/standalone ./');
    const user = runtime.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toMatch(/^USER [1-9]\d*(:[1-9]\d*)?$/);
    expect(runtime.at(-1)).toBe('CMD ["node", "server.js"]');
  });

  it('has no curl or wget in the final image, and checks that it has none', () => {
    const uses = runtime.filter((l) => /\b(curl|wget)\b/.test(l));
    expect(uses).toEqual([
      expect.stringMatching(/if command -v curl \|\| command -v wget; then .* exit 1; fi/),
    ]);
    expect(runtime.some((l) => /apt-get install|apk add/.test(l))).toBe(false);
  });

  it('sets PORTAL_ENV=production in the image: next start sets NODE_ENV, and config refuses it alone', () => {
    const env = runtime.filter((l) => l.startsWith('ENV ')).join(' ');
    expect(env).toMatch(/\bPORTAL_ENV=production\b/);
    expect(env).toMatch(/\bNODE_ENV=production\b/);
  });

  it('has a HEALTHCHECK written in Node against /api/health', () => {
    const check = runtime.find((l) => l.startsWith('HEALTHCHECK '));
    expect(check).toMatch(/CMD \["node", "-e", ".*\/api\/health.*"\]$/);
  });

  it('ships the migrations, the migration runner the Job runs, staff:invite and the verification worker', () => {
    const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['build:tools']).toBe('tsx scripts/build-tools.ts');
    expect(TOOLS_DIR).toBe('.next/tools');
    expect(TOOL_ENTRIES).toMatchObject({
      migrate: 'scripts/migrate.ts',
      'staff-invite': 'scripts/staff-invite.ts',
      'verify-worker': 'lib/audit/verify-worker.ts',
    });
    expect(stages[0]!.some((l) => /^RUN npx next build\s+&& npm run build:tools$/.test(l))).toBe(true);
    expect(runtime).toContain('COPY --from=build /src/.next/tools ./tools');
    // The server runs in /app (server.js changes to its own directory), where the portal looks for the worker.
    expect(runtime).toContain('WORKDIR /app');
    expect(WORKER_BUNDLES).toContain('tools/verify-worker.mjs');
    expect(runtime).toContain('COPY --from=build /src/db/migrations ./db/migrations');
    expect(fs.readFileSync('deploy/k8s/base/migrate-job.yaml', 'utf8')).toContain(
      'command: [node, /app/tools/migrate.mjs]',
    );
  });

  it('installs exactly the lockfile with npm ci', () => {
    expect(stages[0]!.some((l) => /^RUN npm ci\b/.test(l))).toBe(true);
    expect(text).not.toMatch(/npm install/);
  });

  it('keeps local state and secrets out of the build context', () => {
    const ignored = fs.readFileSync('.dockerignore', 'utf8').split('\n');
    for (const entry of ['.git', 'node_modules', '.next', '.data', '.e2e', '.env*'])
      expect(ignored).toContain(entry);
  });
});
