/**
 * `npm test`: the vitest suite, then the Playwright e2e suite. The e2e suite is never skipped: with no
 * browser it tries `playwright install chromium`, and stops with a one-line instruction if that fails.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { chromiumExecutable } from '../e2e/browser';
import { MULTI_REPLICA } from '../e2e/portal-env';
import { type Counts, playwrightCounts, vitestCounts } from './test-report';

const bin = (name: string) => `node_modules/.bin/${name}`;
const args = process.argv.slice(2);

function run(cmd: string, argv: string[]): number {
  return spawnSync(cmd, argv, { stdio: 'inherit' }).status ?? 1;
}

function ensureBrowser(): boolean {
  if (chromiumExecutable()) return true;
  console.log('No Chromium found: trying `playwright install chromium`…');
  run(bin('playwright'), ['install', 'chromium']);
  if (chromiumExecutable()) return true;
  console.error(
    'e2e: no browser. Install one: `apt-get install chromium` (Debian) or `npx playwright install chromium`.',
  );
  return false;
}

fs.rmSync('test-results', { recursive: true, force: true });
fs.mkdirSync('test-results', { recursive: true });

const unitStatus = run(bin('vitest'), [
  'run',
  '--reporter=default',
  '--reporter=json',
  '--outputFile.json=test-results/vitest.json',
  ...args,
]);
const unit = vitestCounts('test-results/vitest.json');

let e2eStatus = 1;
let e2e: Counts | undefined;
if (ensureBrowser()) {
  e2eStatus = run(bin('playwright'), ['test']);
  e2e = playwrightCounts('test-results/e2e.json');
}

const passed = (unit?.passed ?? 0) + (e2e?.passed ?? 0);
// A suite that did not report at all counts as one failure, so a crash is never a green run.
const failed = (unit?.failed ?? 1) + (e2e?.failed ?? 1);
const skipped = (unit?.skipped ?? 0) + (e2e?.skipped ?? 0);
const failures = [...(unit?.failures ?? []), ...(e2e?.failures ?? [])];
if (failures.length) console.log(`\nfailed:\n${failures.map((f) => `  ✗ ${f}`).join('\n')}`);
console.log(`\nvitest: ${unit ? `${unit.passed} passed, ${unit.failed} failed` : 'did not report'}`);
console.log(`e2e: ${e2e ? `${e2e.passed} passed, ${e2e.failed} failed` : 'did not run'}`);
if (!MULTI_REPLICA && !process.env.E2E_BASE_URL) {
  // Not a pass: two replicas cannot share the embedded database. CI runs it against PostgreSQL.
  console.log(
    'multi-replica, fault and overview-figures e2e: NOT RUN, they need PostgreSQL (set DATABASE_URL; scripts/local-postgres.sh start prints one)',
  );
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(unitStatus === 0 && e2eStatus === 0 && failed === 0 ? 0 : 1);
