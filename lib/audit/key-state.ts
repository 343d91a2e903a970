import { sql } from 'drizzle-orm';
import { type Db, rows, type Tx } from '@/db/client';
import { config } from '@/lib/config';
import { log } from '@/lib/log';
import type { ChainEntry } from './chain';
import { HMAC_ROTATION, newestPending } from './inbox';
import { checkpointKeyRing, activateCheckpointKey } from './checkpoint-keys';
import { type HmacKeyRing, hmacKeyRing, activateHmacKey } from './keys';
import { ENTRY_COLUMNS, readEntries } from './verify';
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

function toRotation(e: ChainEntry, keys: HmacKeyRing): Rotation {
  const diff = e.diff as { before?: { active_key_id?: string } } | null;
  return {
    seq: e.seq,
    occurredAt: e.occurred_at,
    actorEmail: e.actor_email,
    fromKeyId: diff?.before?.active_key_id ?? null,
    toKeyId: e.target_id ?? '',
    genuine: entryVerifies(keys, e, null, null),
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
): Promise<Rotation[]> {
  const raw = await rows<Omit<ChainEntry, 'seq' | 'diff'> & { seq: string; diff: string | null }>(
    db,
    sql`select ${ENTRY_COLUMNS} from audit_log where action = ${action} and outcome = 'success' order by audit_log.seq desc limit ${limit}`,
  );
  return raw.map((r) =>
    toRotation({ ...r, seq: Number(r.seq), diff: r.diff === null ? null : JSON.parse(r.diff) }, keys),
  );
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
  const newest = async (action: typeof HMAC_ROTATION | typeof CHECKPOINT_ROTATION) => {
    // A committed rotation still waiting in the inbox is newer than any on the chain.
    const pending = await newestPending(db, action, keys);
    if (pending?.target_id) return pending.target_id;
    const found = (await rotations(db, action, 20, keys)).find((r) => r.genuine && r.toKeyId);
    return found?.toKeyId ?? null;
  };
  let hmac = await newest(HMAC_ROTATION);
  if (!hmac) {
    const [first] = await readEntries(db as Db, 0, 1, 1);
    hmac = first?.hmac_key_id ?? null;
  }
  let checkpoint = await newest(CHECKPOINT_ROTATION);
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
