/**
 * The portal the e2e suite runs against: a fresh database every run (a new `portal_e2e_<port>` database on the
 * server named by DATABASE_URL, or a new embedded one under .e2e/), then `npm start`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import postgres from 'postgres';
import { BOOTSTRAP_LINK_FILE, LOCAL_QA_CREDENTIAL_FILE, SUPERADMIN_CREDENTIAL_FILE } from './files';
import { IDLE_TIMEOUT_S, STEP_UP_MAX_AGE_S } from './settings';

const port = process.env.E2E_PORT ?? '3100';
// The e2e configuration: attestation checked against a test MDS blob that trusts exactly Chromium's
// virtual authenticator, short idle and step-up timeouts (e2e/settings.ts), and the client address from
// Next's own header.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PORT: port,
  PORTAL_ENV: 'local',
  PORTAL_URL: `http://localhost:${port}`,
  WEBAUTHN_ATTESTATION_TRUST: 'mds',
  WEBAUTHN_MDS_FILE: 'e2e/fixtures/mds/blob.jwt',
  WEBAUTHN_MDS_ROOT_FILE: 'e2e/fixtures/mds/root.pem',
  WEBAUTHN_AAGUID_ALLOWLIST: '01020304-0506-0708-0102-030405060708',
  SESSION_IDLE_TIMEOUT_S: String(IDLE_TIMEOUT_S),
  STEP_UP_MAX_AGE_S: String(STEP_UP_MAX_AGE_S),
  SIGNIN_MAX_FAILURES_PER_IP: '1000',
  TRUSTED_PROXY_COUNT: '1',
};

if (process.env.DATABASE_URL) {
  // One database per port, so that suites on other ports of the same server do not drop each other's.
  const name = `portal_e2e_${Number(port)}`;
  const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
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
