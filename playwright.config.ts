import { defineConfig, devices, type Project } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumExecutable } from './e2e/browser';

// E2E_BASE_URL runs the suite against a deployed portal; otherwise it starts one on a fresh database.
const deployed = process.env.E2E_BASE_URL;
const port = process.env.E2E_PORT ?? '3100';
// WebAuthn needs the relying party's host name, so the local portal is always reached as localhost.
const baseURL = deployed ?? `http://localhost:${port}`;

const chromium: Project['use'] = {
  ...devices['Desktop Chrome'],
  launchOptions: { executablePath: chromiumExecutable(), args: CHROMIUM_ARGS },
};

/**
 * Which specs run where, decided here and nowhere else (no test skips itself):
 * - `local` (E2E_BASE_URL unset): every spec, against a portal started on a fresh database. It depends on
 *   `setup` (e2e/bootstrap.setup.ts), which spends the single-use bootstrap link on the first superadmin
 *   and enrols the QA auditor.
 * - `deployed` (E2E_BASE_URL set): only tests tagged `@deployed`. Those neither need the bootstrap link
 *   nor write anything beyond signing the QA auditor (E2E_QA_CREDENTIAL) in and out. A test without the
 *   tag never runs against a deployed portal.
 */
const projects: Project[] = deployed
  ? [{ name: 'deployed', testMatch: /\.spec\.ts$/, grep: /@deployed/, use: chromium }]
  : [
      { name: 'setup', testMatch: /\.setup\.ts$/, use: chromium },
      { name: 'local', testMatch: /\.spec\.ts$/, dependencies: ['setup'], use: chromium },
    ];

export default defineConfig({
  testDir: './e2e',
  // One worker: the specs share one portal and its audit chain, and the machine has two cores.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  retries: 0,
  timeout: 60_000,
  reporter: [['list'], ['json', { outputFile: 'test-results/e2e.json' }]],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects,
  webServer: deployed
    ? undefined
    : {
        command: 'node_modules/.bin/tsx e2e/serve.ts',
        url: `${baseURL}/api/health`,
        timeout: 300_000,
        reuseExistingServer: false,
        stdout: 'pipe',
        stderr: 'pipe',
      },
});
