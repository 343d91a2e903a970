import { type Database, type Db, getDatabase } from '@/db/client';
import { checkpointIfDue } from '@/lib/audit/checkpoint';
import { chainPending } from '@/lib/audit/inbox';
import { checkpointKeyRing } from '@/lib/audit/checkpoint-keys';
import { hmacKeyRing } from '@/lib/audit/keys';
import { catchUpTree } from '@/lib/audit/tree';
import { configuredWitnesses } from '@/lib/audit/witnesses';
import { KEYS_CHANGED_CHANNEL, syncKeyRings } from '@/lib/audit/key-state';
import { config } from '@/lib/config';
import { log } from '@/lib/log';
import { systemCtx } from '@/lib/services/staff/system';
import { expireApprovals } from '@/lib/services/approvals/approvals';
import { failAbandonedRuns } from './verify';
import { witnessInBackground } from './witnessing';

const state = globalThis as { __auditTicker?: NodeJS.Timeout };

/**
 * The audit chain's background work, in every replica (started by instrumentation.ts): keep the key
 * rings in line with the chain (at once on NOTIFY after a rotation, and on every tick), chain what waits in
 * the inbox (at start-up and on every tick), write the periodic
 * checkpoint when it is due (checkpointIfDue lets one replica write it per interval, even when idle) and send
 * it to the witnesses (witnessInBackground, not awaited), build
 * the Merkle tree over entries chained without it, and end verification runs whose process is gone. A tick is a few small queries; it runs every quarter of
 * the checkpoint interval, between 1 and 5 seconds.
 */
export async function startAuditTicker(): Promise<void> {
  if (state.__auditTicker) return;
  const c = config();
  // Production refuses to start without its audit keys, rather than fail on the first write; and with a
  // witness key that does not match its own key ID, rather than fail on every checkpoint.
  try {
    hmacKeyRing();
    checkpointKeyRing();
    configuredWitnesses();
  } catch (err) {
    if (c.PORTAL_ENV === 'production') {
      log.fatal({ err }, 'refusing to start: the audit keys or witness keys are missing or invalid');
      process.exit(1);
    }
    throw err;
  }
  const database = await getDatabase();
  const db = database.db;
  const ctx = systemCtx(db, 'portal');
  let running = false;
  let building = false;
  // The Merkle tree over entries chained without it (a chain older than migration 0020, or entries an older
  // replica chained during a deploy): built beside the tick, so a long first build delays nothing else.
  const buildTree = () => {
    if (building) return;
    building = true;
    catchUpTree(db)
      .then((added) => {
        if (added > 0) log.info({ added }, 'audit: the Merkle tree caught up with the chain');
      })
      .catch((err: unknown) => log.error({ err }, 'audit: building the Merkle tree failed'))
      .finally(() => {
        building = false;
      });
  };
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await syncKeyRings(db);
      // Entries left in the inbox (a replica killed between its commit and its drain, or a broken head
      // since repaired) are chained within a tick, also when nobody writes.
      const chained = await chainPending(db).catch((err: unknown) => {
        log.error({ err }, 'audit: chaining the inbox failed; entries wait in audit_inbox');
        return 0;
      });
      if (chained > 0) log.debug({ chained }, 'audit: the ticker chained inbox rows');
      buildTree();
      const checkpoint = await checkpointIfDue(db);
      if (checkpoint) {
        log.info({ seq: checkpoint.seq, key_id: checkpoint.key_id }, 'audit checkpoint signed');
        witnessInBackground(db);
      }
      await failAbandonedRuns(ctx);
      const expired = await expireApprovals(db);
      if (expired > 0) log.info({ expired }, 'approvals: requests expired');
    } catch (err) {
      log.error({ err }, 'audit ticker failed');
    } finally {
      running = false;
    }
  };
  // Neither the first tick nor LISTEN is awaited: a replica started while the database is down must still
  // serve (liveness, and readiness saying "not ready") and recover by itself once the database is back.
  void tick();
  const everyMs = Math.min(5000, Math.max(1000, (c.AUDIT_CHECKPOINT_EVERY_S * 1000) / 4));
  state.__auditTicker = setInterval(() => void tick(), everyMs);
  state.__auditTicker.unref();
  void listenForRotations(database, db, everyMs);
}

/**
 * LISTEN for key rotations, retried until the database answers (postgres.js then keeps it across
 * reconnections). Until then the ticker's syncKeyRings keeps the rings in line, a tick later.
 */
async function listenForRotations(database: Database, db: Db, retryMs: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await database.listen(KEYS_CHANGED_CHANNEL, () => {
        void syncKeyRings(db).catch((err: unknown) => log.error({ err }, 'audit key sync failed'));
      });
      if (attempt > 1) log.info({ attempt }, 'audit: listening for key rotations');
      return;
    } catch (err) {
      if (attempt === 1) log.error({ err }, 'audit: cannot LISTEN for key rotations yet; retrying');
      await new Promise((resolve) => setTimeout(resolve, retryMs).unref());
    }
  }
}
