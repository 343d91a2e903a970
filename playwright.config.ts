import { defineConfig, devices } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumExecutable } from './e2e/browser';

// E2E_BASE_URL runs the suite against a deployed portal; otherwise it starts one on a fresh database.
const deployed = process.env.E2E_BASE_URL;
const port = process.env.E2E_PORT ?? '3100';
// WebAuthn needs the relying party's host name, so the local portal is always reached as localhost.
const baseURL = deployed ?? `http://localhost:${port}`;

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
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: { executablePath: chromiumExecutable(), args: CHROMIUM_ARGS },
      },
    },
  ],
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
