import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { type Db, getDatabase, MIGRATIONS_DIR, rows } from '@/db/client';
import { checkHead } from '@/lib/audit/head';
import { hmacKeyRing } from '@/lib/audit/keys';
import { checkTrustedCheckpoint, TrustedCheckpointError } from '@/lib/audit/trusted';
import { config } from '@/lib/config';
import { log } from '@/lib/log';
import { secretProblems } from '@/lib/startup';

export interface Health {
  status: 'ok';
  /** The database this process is configured for; liveness does not ask it anything. */
  db: 'pglite' | 'postgres';
}

/**
 * Liveness: the process answers. It does not touch the database: during a database failover every replica
 * would otherwise fail its liveness probe and be restarted at once. Readiness (below) checks the database.
 */
export function checkHealth(): Health {
  return { status: 'ok', db: config().DATABASE_URL ? 'postgres' : 'pglite' };
}

export interface Readiness {
  status: 'ready' | 'not_ready';
  database: 'ok' | 'unreachable';
  keys: 'ok' | 'missing_or_invalid';
  /** `pending`: this build expects a migration the database does not have yet (the job has not run). */
  migrations: 'ok' | 'pending' | 'unknown';
  /**
   * `broken_head`: the audit chain's head does not verify (lib/audit/head.ts), so nothing is chained onto
   * it and audited writes' entries wait in the inbox: the portal takes no traffic until it is repaired.
   * `behind_trusted_checkpoint`: the chain lost entries that the kept checkpoint of
   * AUDIT_TRUSTED_CHECKPOINT_FILE vouched for (an older backup restored); no checkpoint is signed until an
   * operator acknowledges it (lib/audit/trusted.ts).
   */
  chain: 'ok' | 'broken_head' | 'behind_trusted_checkpoint' | 'unknown';
}

/**
 * Readiness: the database answers, every secret under SECRETS_DIR is present and well formed, the audit
 * chain's head verifies (nothing is chained onto a forged one), and the
 * database has every migration this build ships. A new replica is not sent traffic before the migration
 * job has finished; the reasons go to the log, never to the (unauthenticated) answer.
 */
export async function checkReadiness(): Promise<Readiness> {
  const keyProblems = secretProblems(config(), process.env);
  if (keyProblems.length > 0) log.error({ problems: keyProblems }, 'readiness: secrets missing or invalid');
  const keys = keyProblems.length === 0 ? 'ok' : 'missing_or_invalid';
  let database: Readiness['database'] = 'ok';
  let migrations: Readiness['migrations'] = 'unknown';
  let chain: Readiness['chain'] = 'unknown';
  try {
    const { db } = await getDatabase();
    await db.execute(sql`select 1`);
    migrations = await migrationsState(db);
    if (keys === 'ok' && migrations === 'ok') chain = await chainState(db);
  } catch (err) {
    database = 'unreachable';
    log.error({ err }, 'readiness: database unreachable');
  }
  const ready = database === 'ok' && keys === 'ok' && migrations === 'ok' && chain === 'ok';
  return { status: ready ? 'ready' : 'not_ready', database, keys, migrations, chain };
}

export async function chainState(db: Db): Promise<Readiness['chain']> {
  try {
    const head = await checkHead(db, hmacKeyRing());
    if (!head.ok) {
      log.error(
        { seq: head.seq, used_key_id: head.usedKeyId, expected_key_id: head.expectedKeyId },
        `readiness: the audit chain's head does not verify: ${head.problem}`,
      );
      return 'broken_head';
    }
    const trusted = await checkTrustedCheckpoint(db);
    if (!trusted.ok) {
      log.error({ seq: trusted.seq }, `readiness: ${new TrustedCheckpointError(trusted).message}`);
      return 'behind_trusted_checkpoint';
    }
    return 'ok';
  } catch (err) {
    log.error({ err }, 'readiness: the audit chain could not be checked');
    return 'unknown';
  }
}

/** Whether the database has the newest migration this build ships (`unknown`: it could not be read). */
export async function migrationsState(db: Db): Promise<Readiness['migrations']> {
  try {
    const [applied] = await rows<{ last: string | null }>(
      db,
      sql`select max(created_at)::text as last from drizzle.__drizzle_migrations`,
    );
    if (Number(applied?.last ?? 0) >= lastMigrationMillis()) return 'ok';
    log.warn('readiness: the database is behind this build’s migrations');
    return 'pending';
  } catch (err) {
    log.error({ err }, 'readiness: the migration journal cannot be read');
    return 'unknown';
  }
}

let lastMigration: number | undefined;

/** The `when` of the newest migration in db/migrations/meta/_journal.json, as drizzle records it. */
function lastMigrationMillis(): number {
  if (lastMigration === undefined) {
    const journal = JSON.parse(
      fs.readFileSync(path.join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8'),
    ) as { entries: { when: number }[] };
    lastMigration = Math.max(...journal.entries.map((e) => e.when));
  }
  return lastMigration;
}
