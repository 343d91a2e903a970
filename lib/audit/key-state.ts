import { sql } from 'drizzle-orm';
import { type Db, rows, type Tx } from '@/db/client';
import { config } from '@/lib/config';
import { log } from '@/lib/log';
import type { ChainEntry } from './chain';
import { HMAC_ROTATION, newestPending } from './inbox';
import { checkpointKeyRing, activateCheckpointKey } from './checkpoint-keys';
import { type HmacKeyRing, hmacKeyRing, activateHmacKey } from './keys';
import { type KeyHistory, keyAt, readKeyHistory } from './head';
import { ENTRY_COLUMNS, type RawRow, toEntry } from './verify';
import { entryVerifies } from './verify-core';

export { HMAC_ROTATION };
export const CHECKPOINT_ROTATION = 'audit.checkpoint_key.rotated';
/** NOTIFY channel: a rotation committed; every replica syncs its key rings at once. */
export const KEYS_CHANGED_CHANNEL = 'audit_keys_changed';

export interface Rotation {
  seq: number;
  occurredAt: string;
  actorEmail: string | null;
  fromKeyId: string | null;
  toKeyId: string;
  /** The entry's own HMAC verifies: it was written by the portal, not forged into the table. */
  genuine: boolean;
}

function toRotation(e: ChainEntry, keys: HmacKeyRing, history: KeyHistory): Rotation {
  const diff = e.diff as { before?: { active_key_id?: string } } | null;
  return {
    seq: e.seq,
    occurredAt: e.occurred_at,
    actorEmail: e.actor_email,
    fromKeyId: diff?.before?.active_key_id ?? null,
    toKeyId: e.target_id ?? '',
    // An HMAC rotation counts only as the key history does; any rotation entry must at least verify under
    // the key in force at its seq, so a retired key cannot pass one off.
    genuine:
      e.action === HMAC_ROTATION
        ? history.rotations.some((r) => r.seq === e.seq)
        : entryVerifies(keys, e, null, null, keyAt(history, e.seq)),
  };
}

/**
 * The successful rotations of one kind recorded in the chain, newest first: the ones the drain and the
 * inbox lookup count too.
 */
export async function rotations(
  db: Db | Tx,
  action: typeof HMAC_ROTATION | typeof CHECKPOINT_ROTATION,
  limit = 100,
  keys: HmacKeyRing = hmacKeyRing(),
  history?: KeyHistory,
): Promise<Rotation[]> {
  const known = history ?? (await readKeyHistory(db, keys));
  const raw = await rows<RawRow>(
    db,
    sql`select ${ENTRY_COLUMNS} from audit_log where action = ${action} and outcome = 'success' order by audit_log.seq desc limit ${limit}`,
  );
  return raw.map((r) => toRotation(toEntry(r), keys, known));
}

/**
 * The keys every replica must use, as the chain records them: the newest genuine rotation entry (in the
 * inbox, else on the chain) names the active key; before any rotation it is the key of the chain's first
 * entry (HMAC) or of the first checkpoint; on an empty chain, the key file's `active`. Null means "the
 * file's `active`".
 */
export async function activeKeysFromChain(
  db: Db | Tx,
  keys: HmacKeyRing = hmacKeyRing(),
): Promise<{ hmac: string | null; checkpoint: string | null }> {
  const history = await readKeyHistory(db, keys);
  const [top] = await rows<{ seq: string | null }>(db, sql`select max(seq)::text as seq from audit_log`);
  // The key in force after the head; a committed rotation still waiting in the inbox is newer, if its row
  // is MAC'd with that key (the drain rejects any other).
  const inForce = keyAt(history, Number(top?.seq ?? 0) + 1);
  const pendingHmac = await newestPending(db, HMAC_ROTATION, keys, inForce);
  const hmac = pendingHmac?.target_id ?? inForce;
  const newestCheckpointKey = async () => {
    const pending = await newestPending(db, CHECKPOINT_ROTATION, keys, inForce);
    if (pending?.target_id) return pending.target_id;
    const found = (await rotations(db, CHECKPOINT_ROTATION, 20, keys, history)).find(
      (r) => r.genuine && r.toKeyId,
    );
    return found?.toKeyId ?? null;
  };
  let checkpoint = await newestCheckpointKey();
  if (!checkpoint) {
    const [first] = await rows<{ key_id: string }>(
      db,
      sql`select key_id from audit_checkpoints where chain_id = ${config().AUDIT_CHAIN_ID} order by signed_at, seq limit 1`,
    );
    checkpoint = first?.key_id ?? null;
  }
  return { hmac, checkpoint };
}

/**
 * Brings this process's key rings in line with the chain, re-reading the key files when the chain names
 * a key they do not hold yet. A key the files still lack is logged and the ring left as it was: appends
 * go on with the key in use, which stays valid for verification.
 */
export async function syncKeyRings(db: Db): Promise<{ hmac: string; checkpoint: string | null }> {
  const active = await activeKeysFromChain(db);
  if (active.hmac && hmacKeyRing().activeId !== active.hmac) {
    try {
      activateHmacKey(active.hmac);
      log.info({ key_id: active.hmac }, 'audit HMAC key in use changed');
    } catch (err) {
      log.error({ err, key_id: active.hmac }, 'the chain names an audit HMAC key that audit-hmac-keys lacks');
    }
  }
  let checkpoint: string | null = null;
  try {
    if (active.checkpoint && checkpointKeyRing().activeId !== active.checkpoint) {
      activateCheckpointKey(active.checkpoint);
      log.info({ key_id: active.checkpoint }, 'audit checkpoint key in use changed');
    }
    checkpoint = checkpointKeyRing().activeId;
  } catch (err) {
    log.error({ err, key_id: active.checkpoint }, 'the audit checkpoint key ring is not usable');
  }
  return { hmac: hmacKeyRing().activeId, checkpoint };
}
