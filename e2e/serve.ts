/**
 * The portal the e2e suite runs against: a fresh database every run (a new `portal_e2e_<port>` database on the
 * server named by DATABASE_URL, or a new embedded one under .e2e/), then `npm start`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import postgres from 'postgres';
import { BOOTSTRAP_LINK_FILE, LOCAL_QA_CREDENTIAL_FILE, SUPERADMIN_CREDENTIAL_FILE } from './files';
import { POOL_P95_TARGET_MS, POOL_REFRESH_S, PROMETHEUS_PORT, testPortalEnv } from './settings';

const port = process.env.E2E_PORT ?? '3100';
const env: NodeJS.ProcessEnv = {
  ...process.env,
  ...testPortalEnv(port),
  // The Prometheus that e2e/pool.spec.ts starts and stops.
  PROMETHEUS_URL: `http://127.0.0.1:${PROMETHEUS_PORT}`,
  PROMETHEUS_TIMEOUT_MS: '3000',
  POOL_REFRESH_S: String(POOL_REFRESH_S),
  POOL_P95_TARGET_MS: String(POOL_P95_TARGET_MS),
};

if (process.env.DATABASE_URL) {
  const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
  // One database a port, so that suites run side by side on one server (on other ports) keep their own.
  const name = `portal_e2e_${Number(port)}`;
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/${name}`;
  env.DATABASE_URL = url.toString();
} else {
  fs.rmSync('.e2e/data', { recursive: true, force: true });
  env.DATA_DIR = '.e2e/data';
}

fs.mkdirSync('.e2e', { recursive: true });
// Keys enrolled on an earlier run's database mean nothing on this one.
for (const file of [BOOTSTRAP_LINK_FILE, SUPERADMIN_CREDENTIAL_FILE, LOCAL_QA_CREDENTIAL_FILE])
  fs.rmSync(file, { force: true });
const child = spawn('node_modules/.bin/tsx', ['scripts/start.ts'], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env,
});
// The first superadmin's enrolment link, which npm start prints, is where the e2e suite starts.
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  const link = /^Enrol: (\S+)$/m.exec(chunk.toString());
  if (link) fs.writeFileSync(BOOTSTRAP_LINK_FILE, link[1]!);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 1));
