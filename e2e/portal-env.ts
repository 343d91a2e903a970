/**
 * The e2e portal's settings, shared by e2e/serve.ts (replica A, which also migrates and seeds), e2e/serve-
 * replica.ts (replica B) and the specs that look at the database, secrets or logs behind them.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { cosignerVerifierKey } from '../lib/audit/witness-protocol';
import { parseConfig } from '../lib/config';
import {
  E2E_HEC_TOKEN,
  E2E_HEC_URL,
  E2E_WITNESS_PORT,
  POOL_P95_TARGET_MS,
  POOL_REFRESH_S,
  PROMETHEUS_PORT,
  testPortalEnv,
} from './settings';

export const PORT = process.env.E2E_PORT ?? '3100';
/** Replica B of the multi-replica project: E2E_REPLICA_PORT, or the port after E2E_PORT. */
export const REPLICA_PORT = process.env.E2E_REPLICA_PORT ?? String(Number(PORT) + 1);
/**
 * Each replica's internal /metrics listener (METRICS_PORT): E2E_METRICS_PORT for A (default E2E_PORT + 1000),
 * the port after it for B. Only e2e/serve.ts and e2e/serve-replica.ts set it; the faults spec's replicas have none.
 */
export const METRICS_PORT = process.env.E2E_METRICS_PORT ?? String(Number(PORT) + 1000);
export const REPLICA_METRICS_PORT = String(Number(METRICS_PORT) + 1);
/** The portal's one public origin. Both replicas are configured with it, as behind a load balancer. */
export const PORTAL_ORIGIN = `http://localhost:${PORT}`;
/** Replica B's own address, which only the test's load balancer (e2e/balancer.ts) uses. */
export const REPLICA_B_ORIGIN = `http://localhost:${REPLICA_PORT}`;

/** The secrets both replicas read as files, as they would from the Key Vault CSI mount. */
export const SECRETS_DIR = '.e2e/secrets';
/** Each replica's stdout and stderr, for the log scan (e2e/logs.teardown.ts). */
export const LOG_DIR = '.e2e/logs';

/**
 * The witness e2e/serve.ts runs beside the portal, with its key, the logs it accepts (the chain's checkpoint
 * key) and its state; writeSecrets() makes them afresh, and portalEnv() names it in AUDIT_WITNESS_URLS.
 */
export const WITNESS = {
  name: 'e2e.witness/w1',
  url: `http://127.0.0.1:${E2E_WITNESS_PORT}`,
  keyFile: '.e2e/witness/witness.key',
  logsFile: '.e2e/witness/logs.json',
  stateDir: '.e2e/witness/state',
};

/**
 * The multi-replica project needs PostgreSQL: two processes cannot share the embedded PGlite database.
 * Without DATABASE_URL it does not exist, and `npm test` says so in its summary.
 */
export const MULTI_REPLICA = !process.env.E2E_BASE_URL && !!process.env.DATABASE_URL;

/**
 * The e2e database on the DATABASE_URL server, which e2e/serve.ts creates afresh each run. Named after the
 * port, so that runs on different ports can share a server.
 */
export const E2E_DATABASE = `portal_e2e_${PORT}`;

export function e2eDatabaseUrl(): string | undefined {
  if (!process.env.DATABASE_URL) return undefined;
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/${E2E_DATABASE}`;
  return url.toString();
}

/**
 * The environment of every replica: the test portal's settings (e2e/settings.ts), secrets as files, and
 * the Prometheus of the pool spec. PORTAL_URL is replica A's address for both, as behind a load balancer.
 */
export function portalEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...testPortalEnv(PORT),
    PORTAL_ENV: 'local',
    SECRETS_BACKEND: 'files',
    SECRETS_DIR,
    // The Prometheus that e2e/pool.spec.ts starts and stops.
    PROMETHEUS_URL: `http://127.0.0.1:${PROMETHEUS_PORT}`,
    PROMETHEUS_TIMEOUT_MS: '3000',
    POOL_REFRESH_S: String(POOL_REFRESH_S),
    POOL_P95_TARGET_MS: String(POOL_P95_TARGET_MS),
    // SIEM delivery to the receiver e2e/audit.spec.ts runs; until it listens, delivery fails and retries.
    SPLUNK_HEC_URL: E2E_HEC_URL,
    SIEM_POLL_INTERVAL_S: '0.5',
    SIEM_TIMEOUT_S: '2',
    SIEM_MAX_BACKOFF_S: '1',
  };
  if (fs.existsSync(WITNESS.keyFile)) {
    env.AUDIT_WITNESS_URLS = WITNESS.url;
    env.AUDIT_WITNESS_KEYS = cosignerVerifierKey(
      WITNESS.name,
      crypto.createPrivateKey(fs.readFileSync(WITNESS.keyFile)),
    );
  }
  const databaseUrl = e2eDatabaseUrl();
  if (databaseUrl) env.DATABASE_URL = databaseUrl;
  else env.DATA_DIR = '.e2e/data';
  return env;
}

/** Fresh random secrets for this run, in the format README's secrets table gives. */
export function writeSecrets(): void {
  fs.rmSync(SECRETS_DIR, { recursive: true, force: true });
  fs.mkdirSync(SECRETS_DIR, { recursive: true, mode: 0o700 });
  const checkpointPrivateKey = ed25519PrivateKey();
  const secrets = {
    // e2e-k2 is staged, as an operator adds a key before a superadmin rotates to it (docs/AUDIT.md).
    'audit-hmac-keys': JSON.stringify({
      active: 'e2e-k1',
      keys: {
        'e2e-k1': crypto.randomBytes(32).toString('base64'),
        'e2e-k2': crypto.randomBytes(32).toString('base64'),
      },
    }),
    'audit-checkpoint-keys': JSON.stringify({ active: 'e2e-cp1', keys: { 'e2e-cp1': checkpointPrivateKey } }),
    'auth-secret': crypto.randomBytes(32).toString('base64url'),
    'token-signing-kek': crypto.randomBytes(32).toString('base64'),
    'splunk-hec-token': E2E_HEC_TOKEN,
  };
  for (const [name, value] of Object.entries(secrets))
    fs.writeFileSync(path.join(SECRETS_DIR, name), value, { mode: 0o600 });

  const dir = path.dirname(WITNESS.keyFile);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(WITNESS.stateDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(
    WITNESS.keyFile,
    crypto.generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }),
    { mode: 0o600 },
  );
  const checkpointKey = crypto
    .createPublicKey(
      crypto.createPrivateKey({
        key: Buffer.from(checkpointPrivateKey, 'base64'),
        format: 'der',
        type: 'pkcs8',
      }),
    )
    .export({ format: 'pem', type: 'spki' });
  fs.writeFileSync(
    WITNESS.logsFile,
    JSON.stringify({ [parseConfig(portalEnv()).AUDIT_CHAIN_ID]: checkpointKey }),
  );
}

function ed25519PrivateKey(): string {
  return crypto
    .generateKeyPairSync('ed25519')
    .privateKey.export({ format: 'der', type: 'pkcs8' })
    .toString('base64');
}

/** Appends a child's output to LOG_DIR/<name>.log and passes it on to the test runner's output. */
export function teeToLog(
  name: string,
  streams: (NodeJS.ReadableStream | null)[],
  onChunk?: (text: string) => void,
) {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const file = fs.createWriteStream(path.join(LOG_DIR, `${name}.log`), { flags: 'a' });
  for (const stream of streams) {
    stream?.on('data', (chunk: Buffer) => {
      file.write(chunk);
      process.stdout.write(chunk);
      onChunk?.(chunk.toString());
    });
  }
}
