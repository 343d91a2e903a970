/**
 * Static checks of deploy/Dockerfile. CI has no Docker engine, so this is not a build: it only keeps the
 * promises the file makes (digest pin, non-root, no curl or wget, a Node health check, standalone output)
 * from being edited away. The release pipeline builds and scans the image (deploy/README.md).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import nextConfig from '@/next.config';

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

  it('has a HEALTHCHECK written in Node against /api/health', () => {
    const check = runtime.find((l) => l.startsWith('HEALTHCHECK '));
    expect(check).toMatch(/CMD \["node", "-e", ".*\/api\/health.*"\]$/);
  });

  it('ships the migrations, the migration runner the Job runs, and staff:invite', () => {
    const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['build:tools']).toMatch(
      /scripts\/migrate\.ts scripts\/staff-invite\.ts .*--outdir=\.next\/tools/,
    );
    expect(runtime).toContain('COPY --from=build /src/.next/tools ./tools');
    expect(runtime).toContain('COPY --from=build /src/db/migrations ./db/migrations');
    expect(fs.readFileSync('deploy/k8s/base/migrate-job.yaml', 'utf8')).toContain(
      'command: [node, /app/tools/migrate.mjs]',
    );
  });

  it('keeps local state and secrets out of the build context', () => {
    const ignored = fs.readFileSync('.dockerignore', 'utf8').split('\n');
    for (const entry of ['.git', 'node_modules', '.next', '.data', '.e2e', '.env*'])
      expect(ignored).toContain(entry);
  });
});

describe('deploy/lock-unchanged.mjs (the image build’s lockfile check)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lock-'));
  const lock = (packages: Record<string, object>) => {
    const file = path.join(dir, `${Math.random()}.json`);
    fs.writeFileSync(file, JSON.stringify({ packages }));
    return file;
  };
  const run = (before: string, after: string) =>
    spawnSync('node', ['deploy/lock-unchanged.mjs', before, after], { encoding: 'utf8' });
  const base = { '': {}, 'node_modules/a': { version: '1.0.0', integrity: 'sha512-a' } };

  it('passes an unchanged lockfile and new optional packages for other platforms', () => {
    const extra = { 'node_modules/a-darwin': { version: '1.0.0', optional: true, os: ['darwin'] } };
    expect(run(lock(base), lock({ ...base, ...extra })).status).toBe(0);
  });

  it('fails when the install moved a locked package or added another', () => {
    const moved = run(lock(base), lock({ ...base, 'node_modules/a': { version: '1.0.1', integrity: 'x' } }));
    expect(moved.status).toBe(1);
    expect(moved.stderr).toContain('node_modules/a: 1.0.0 -> 1.0.1');
    expect(run(lock(base), lock({ ...base, 'node_modules/b': { version: '2.0.0' } })).status).toBe(1);
  });
});
