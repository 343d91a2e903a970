import { defineConfig, devices, type Project } from '@playwright/test';
import { CHROMIUM_ARGS, chromiumExecutable } from './e2e/browser';
import { MULTI_REPLICA, PORTAL_ORIGIN, REPLICA_B_ORIGIN } from './e2e/portal-env';

// E2E_BASE_URL runs the suite against a deployed portal; otherwise it starts one on a fresh database.
const deployed = process.env.E2E_BASE_URL;
// WebAuthn needs the relying party's host name, so the local portal is always reached as localhost.
const baseURL = deployed ?? PORTAL_ORIGIN;

const chromium: Project['use'] = {
  ...devices['Desktop Chrome'],
  launchOptions: { executablePath: chromiumExecutable(), args: CHROMIUM_ARGS },
};

/**
 * Which specs run where, decided here and nowhere else (no test skips itself):
 * - `local` (E2E_BASE_URL unset): every spec, against a portal started on a fresh database. It depends on
 *   `setup` (e2e/bootstrap.setup.ts), which spends the single-use bootstrap link on the first superadmin
 *   and enrols the QA auditor.
 * - `replicas` (with DATABASE_URL): e2e/multi-replica.spec.ts, against two `next start` processes on one
 *   PostgreSQL database, E2E_PORT (replica A, the `local` project's portal) and E2E_REPLICA_PORT (B, by
 *   default the next port). Without DATABASE_URL there can be only one process (PGlite), so the project
 *   does not exist, and `npm test` prints that it did not run.
 * - `faults` (with DATABASE_URL): e2e/faults.spec.ts, against `next start` replicas of the same build on a
 *   PostgreSQL cluster of its own (scripts/local-postgres.sh), which it crashes and restarts; it needs the
 *   PostgreSQL server binaries, as .ci/run installs them.
 * - `logs`: after all of the above (the teardown of `setup`), scans both replicas' output for secrets,
 *   tokens and credential material (e2e/logs.teardown.ts).
 * - `deployed` (E2E_BASE_URL set): only tests tagged `@deployed`. Those neither need the bootstrap link
 *   nor write anything beyond signing the QA auditor (E2E_QA_CREDENTIAL) in and out. A test without the
 *   tag never runs against a deployed portal.
 */
const MULTI_REPLICA_SPEC = /multi-replica\.spec\.ts$/;
const FAULTS_SPEC = /faults\.spec\.ts$/;
/** Specs that open the e2e database beside the portal: PostgreSQL only. */
const DATABASE_SPECS = [MULTI_REPLICA_SPEC, /overview-figures\.spec\.ts$/];
const projects: Project[] = deployed
  ? [{ name: 'deployed', testMatch: /\.spec\.ts$/, grep: /@deployed/, use: chromium }]
  : [
      { name: 'setup', testMatch: /\.setup\.ts$/, use: chromium, teardown: 'logs' },
      {
        name: 'local',
        testMatch: /\.spec\.ts$/,
        testIgnore: [...DATABASE_SPECS, FAULTS_SPEC],
        dependencies: ['setup'],
        use: chromium,
      },
      ...(MULTI_REPLICA
        ? [
            { name: 'replicas', testMatch: DATABASE_SPECS, dependencies: ['setup'], use: chromium },
            { name: 'faults', testMatch: FAULTS_SPEC, dependencies: ['setup'], use: chromium },
          ]
        : []),
      { name: 'logs', testMatch: /logs\.teardown\.ts$/ },
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
  // Started one after the other: replica B once A (which migrates) is ready.
  webServer: deployed
    ? undefined
    : [
        {
          command: 'node_modules/.bin/tsx e2e/serve.ts',
          url: `${PORTAL_ORIGIN}/api/ready`,
          timeout: 300_000,
          reuseExistingServer: false,
          stdout: 'pipe',
          stderr: 'pipe',
        },
        ...(MULTI_REPLICA
          ? [
              {
                command: 'node_modules/.bin/tsx e2e/serve-replica.ts',
                url: `${REPLICA_B_ORIGIN}/api/ready`,
                timeout: 60_000,
                reuseExistingServer: false,
                stdout: 'pipe' as const,
                stderr: 'pipe' as const,
              },
            ]
          : []),
      ],
});
