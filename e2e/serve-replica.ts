/**
 * Replica B of the multi-replica project: a second `next start` on REPLICA_PORT against replica A's
 * PostgreSQL database, secrets and public origin. Playwright starts it once A answers, so the database
 * is migrated; like a production replica it neither migrates nor seeds.
 */
import { spawn } from 'node:child_process';
import { MULTI_REPLICA, portalEnv, REPLICA_METRICS_PORT, REPLICA_PORT, teeToLog } from './portal-env';

if (!MULTI_REPLICA) throw new Error('Replica B needs DATABASE_URL: PGlite allows one process at a time.');
const child = spawn('node_modules/.bin/next', ['start', '-p', REPLICA_PORT], {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...portalEnv(), PORT: REPLICA_PORT, METRICS_PORT: REPLICA_METRICS_PORT },
});
teeToLog('replica-b', [child.stdout, child.stderr]);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code) => process.exit(code ?? 1));
