/**
 * `npm run screenshots`: the portal as a new staff member sees it, at 1440×900, into docs/screenshots/.
 *
 * Starts the portal as `npm start` does (building first when the build is stale) on a fresh embedded database
 * with the demo data, in a temporary DATA_DIR, with the e2e suite's settings (attestation checked against the
 * test MDS blob that trusts Chromium's virtual authenticator). Then, in Chromium, the first superadmin enrols
 * through the bootstrap link and signs in with a real WebAuthn ceremony on the virtual authenticator: the
 * portal has no other way in. It acts for one demo organisation (so the banner and the overview show an open
 * context) and photographs the overview, that organisation's page, the organisation list sorted by usage and
 * the audit log. No Prometheus is configured, so the pool card honestly says it cannot tell.
 *
 * `SCREENSHOTS_PORT` (default 3390) is the port; DATABASE_URL is ignored.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { enrolmentLink, stopChild, waitForHealth } from '@/bench/portal';
import { attachAuthenticator } from '@/e2e/authenticator';
import { CHROMIUM_ARGS, chromiumExecutable } from '@/e2e/browser';
import { testPortalEnv } from '@/e2e/settings';

const OUT = path.join('docs', 'screenshots');
const VIEWPORT = { width: 1440, height: 900 };
const port = process.env.SCREENSHOTS_PORT ?? '3390';
const baseURL = `http://localhost:${port}`;
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-screenshots-'));

const env: NodeJS.ProcessEnv = {
  ...process.env,
  ...testPortalEnv(port),
  DATA_DIR: dataDir,
  SESSION_IDLE_TIMEOUT_S: '3600',
  LOG_LEVEL: 'warn',
};
for (const name of ['DATABASE_URL', 'PROMETHEUS_URL', 'SPLUNK_HEC_URL', 'SECRETS_DIR', 'SECRETS_BACKEND'])
  delete env[name];

console.log(`starting the portal on ${baseURL} (embedded database in ${dataDir})`);
const child = spawn('node_modules/.bin/tsx', ['scripts/start.ts'], {
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true,
  env,
});
child.stderr!.pipe(process.stderr);

try {
  const link = await enrolmentLink(child);
  await waitForHealth(baseURL, child);
  const executablePath = chromiumExecutable();
  if (!executablePath)
    throw new Error('No Chromium: apt-get install chromium, or npx playwright install chromium.');
  const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ baseURL, viewport: VIEWPORT, deviceScaleFactor: 1 });
    const page = await context.newPage();
    await attachAuthenticator(await context.newCDPSession(page));

    // Enrolment and sign-in, both real WebAuthn ceremonies on the virtual authenticator.
    await page.goto(link);
    await page.getByLabel('Your name').fill('Ada Superadmin');
    await page.getByLabel('Name for this key').fill('Desk key');
    await page.getByRole('button', { name: 'Register security key' }).click();
    await page.getByText('Your security key is registered').waitFor({ timeout: 60_000 });
    await page.goto('/login');
    await page.getByRole('button', { name: 'Sign in with security key' }).click();
    await page.waitForURL((url) => url.pathname === '/', { timeout: 60_000 });
    console.log('signed in with a virtual security key');

    // Act for a demo organisation, as support would for a customer's call.
    await page.goto('/orgs?q=harbor');
    await page.getByRole('link', { name: 'Harbor Point Credit Union' }).click();
    await page.waitForURL(/\/orgs\/[0-9a-f-]{36}$/);
    const orgUrl = page.url();
    await page.getByLabel('Reason').fill('Customer reports SSO sign-in failures after IdP change');
    await page.getByLabel('Ticket reference').fill('SUP-4821');
    await page.getByRole('button', { name: /^Start acting for/ }).click();
    await page.getByRole('region', { name: 'Acting context' }).waitFor();

    fs.mkdirSync(OUT, { recursive: true });
    const shoot = async (name: string, url: string, ready: (p: typeof page) => Promise<unknown>) => {
      await page.goto(url);
      await ready(page);
      await page.waitForLoadState('networkidle');
      const file = path.join(OUT, `${name}.png`);
      await page.screenshot({ path: file, fullPage: false });
      console.log(`wrote ${file}`);
    };
    await shoot('overview', '/', (p) => p.getByRole('heading', { name: 'Overview', level: 1 }).waitFor());
    await shoot('organisation', orgUrl, (p) =>
      p.getByRole('heading', { level: 1, name: /Harbor Point Credit Union/ }).waitFor(),
    );
    await shoot('organisations', '/orgs?sort=usage', (p) => p.getByTestId('orgs-total').waitFor());
    await shoot('audit', '/audit', (p) => p.getByRole('heading', { level: 1 }).waitFor());
  } finally {
    await browser.close();
  }
} finally {
  await stopChild(child);
  fs.rmSync(dataDir, { recursive: true, force: true });
}
