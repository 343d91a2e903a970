/**
 * Replica A of the e2e portal: a fresh database every run (a new `portal_e2e_<port>` database on the
 * server named by DATABASE_URL, or a new embedded one under .e2e/), fresh secret files, the audit witness
 * (`npm run audit:witness`, with a fresh key and state), then `npm start`, which migrates, seeds and prints
 * the first superadmin's enrolment link.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import postgres from 'postgres';
import { ENROL_LINE } from '../scripts/enrol-banner';
import { BOOTSTRAP_LINK_FILE, LOCAL_QA_CREDENTIAL_FILE, SUPERADMIN_CREDENTIAL_FILE } from './files';
import {
  E2E_DATABASE,
  LOG_DIR,
  METRICS_PORT,
  PORT,
  portalEnv,
  teeToLog,
  WITNESS,
  writeSecrets,
} from './portal-env';

if (process.env.DATABASE_URL) {
  const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`drop database if exists ${E2E_DATABASE} with (force)`);
  await admin.unsafe(`create database ${E2E_DATABASE}`);
  await admin.end();
} else {
  fs.rmSync('.e2e/data', { recursive: true, force: true });
}

fs.mkdirSync('.e2e', { recursive: true });
// Keys enrolled on an earlier run's database mean nothing on this one, nor do its logs.
for (const file of [BOOTSTRAP_LINK_FILE, SUPERADMIN_CREDENTIAL_FILE, LOCAL_QA_CREDENTIAL_FILE])
  fs.rmSync(file, { force: true });
fs.rmSync(LOG_DIR, { recursive: true, force: true });
writeSecrets();

const witness = spawn(
  'node_modules/.bin/tsx',
  [
    'scripts/audit-witness.ts',
    'serve',
    '--name',
    WITNESS.name,
    '--key-file',
    WITNESS.keyFile,
    '--logs',
    WITNESS.logsFile,
    '--state-dir',
    WITNESS.stateDir,
    '--listen',
    new URL(WITNESS.url).host,
  ],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
teeToLog('witness', [witness.stdout, witness.stderr]);

const child = spawn('node_modules/.bin/tsx', ['scripts/start.ts'], {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...portalEnv(), PORT, METRICS_PORT },
});
// The first superadmin's enrolment link, which npm start prints last in a box, is where the e2e suite starts.
teeToLog('replica-a', [child.stdout, child.stderr], (text) => {
  const link = ENROL_LINE.exec(text);
  if (link) fs.writeFileSync(BOOTSTRAP_LINK_FILE, link[1]!);
});
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    stopping = true;
    witness.kill(signal);
    child.kill(signal);
  });
child.on('exit', (code) => {
  witness.kill();
  process.exit(code ?? 1);
});
// A witness that stops by itself would fail the witness spec for a reason only its log says: stop the run.
witness.on('exit', (code) => {
  if (stopping) return;
  console.error(`e2e: the audit witness exited (${code}); see ${LOG_DIR}/witness.log`);
  child.kill();
});
