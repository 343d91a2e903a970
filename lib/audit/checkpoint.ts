import { sql } from 'drizzle-orm';
import { type Db, rows, type Tx } from '@/db/client';
import { config } from '@/lib/config';
import { GENESIS_HMAC } from './chain';
import { type CheckpointKeyRing, checkpointKeyRing } from './checkpoint-keys';
import { signCheckpoint } from './checkpoint-format';
import type { CheckpointRecord } from './export-format';
import { ChainHeadError, checkHead } from './head';
import { type HmacKeyRing, hmacKeyRing } from './keys';
import { edgeRoot } from './merkle';
import { checkpointText, signNote } from './note';
import { readEdge } from './tree';
import { checkTrustedCheckpoint, TrustedCheckpointError } from './trusted';

export {
  CHECKPOINT_PAYLOAD_TYPE,
  checkpointPayload,
  checkSignature,
  type SignatureCheck,
  signCheckpoint,
} from './checkpoint-format';

const ISO_MS = `'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'`;

/** Checkpoints as stored, oldest signature first; `seq` bounds are inclusive. */
export async function readCheckpoints(
  db: Db | Tx,
  opts: { fromSeq?: number; toSeq?: number; limit?: number; newestFirst?: boolean; before?: string } = {},
): Promise<Array<CheckpointRecord & { id: string }>> {
  const raw = await rows<
    Omit<CheckpointRecord, 'seq' | 'note'> & { id: string; seq: string; note: string | null }
  >(
    db,
    sql`select id::text as id, chain_id, seq::text as seq, head_hmac,
          to_char(signed_at at time zone 'UTC', ${sql.raw(ISO_MS)}) as signed_at, key_id, signature, note
        from audit_checkpoints
        where chain_id = ${config().AUDIT_CHAIN_ID}
          and seq >= ${opts.fromSeq ?? 0} and seq <= ${opts.toSeq ?? Number.MAX_SAFE_INTEGER}
          and (${opts.before ?? null}::timestamptz is null or audit_checkpoints.signed_at < ${opts.before ?? null}::timestamptz)
        order by audit_checkpoints.signed_at ${sql.raw(opts.newestFirst ? 'desc' : 'asc')}, audit_checkpoints.seq ${sql.raw(opts.newestFirst ? 'desc' : 'asc')}
        limit ${opts.limit ?? 1_000_000_000}`,
  );
  return raw.map(({ note, ...r }) => ({ ...r, seq: Number(r.seq), ...(note === null ? {} : { note }) }));
}

/**
 * Signs the chain's committed head `(chain_id, seq, head_hmac, signed_at)` with the active checkpoint key
 * and stores it, in the caller's transaction. An empty chain is signed as seq 0 with the genesis value. A
 * head that does not verify (checkHead) is never signed: ChainHeadError; nor a chain that lost what the
 * kept checkpoint of AUDIT_TRUSTED_CHECKPOINT_FILE vouched for: TrustedCheckpointError.
 *
 * The same head is also signed, with the same key, as a C2SP signed note (`note`: origin = the chain id,
 * tree size = seq, the Merkle root), when the Merkle tree covers the chain up to the head; while the tree
 * is still being built (catchUpTree) the checkpoint has no note.
 */
export async function insertCheckpoint(
  tx: Tx,
  ring: CheckpointKeyRing = checkpointKeyRing(),
  keys: HmacKeyRing = hmacKeyRing(),
): Promise<CheckpointRecord & { id: string }> {
  const check = await checkHead(tx, keys);
  if (!check.ok) throw new ChainHeadError(check);
  const trusted = await checkTrustedCheckpoint(tx);
  if (!trusted.ok) throw new TrustedCheckpointError(trusted);
  const head = check.head.seq === 0 ? undefined : check.head;
  // The database's clock, so that every replica's checkpoints are on one time line.
  const [clock] = await rows<{ now: string }>(
    tx,
    sql`select to_char(date_trunc('milliseconds', now()) at time zone 'UTC', ${sql.raw(ISO_MS)}) as now`,
  );
  const record = signCheckpoint(
    {
      chain_id: config().AUDIT_CHAIN_ID,
      seq: head ? Number(head.seq) : 0,
      head_hmac: head?.hmac ?? GENESIS_HMAC,
      signed_at: clock!.now,
    },
    ring,
  );
  const edge = await readEdge(tx);
  const root = edge.size === record.seq ? edgeRoot(edge) : null;
  const note = root ? signNoteCheckpoint(record.chain_id, record.seq, root, ring) : null;
  const [row] = await rows<{ id: string }>(
    tx,
    sql`insert into audit_checkpoints (chain_id, seq, head_hmac, signed_at, key_id, signature, tree_size, root_hash, note)
        values (${record.chain_id}, ${record.seq}, ${record.head_hmac}, ${record.signed_at}::timestamptz,
                ${record.key_id}, ${record.signature}, ${note ? record.seq : null}, ${root?.toString('hex') ?? null},
                ${note})
        returning id::text as id`,
  );
  return { ...record, ...(note ? { note } : {}), id: row!.id };
}

/**
 * The tlog checkpoint `<chain id>\n<size>\n<base64 root>\n` as a signed note, under the key name of the
 * chain id, with the active checkpoint key.
 */
export function signNoteCheckpoint(
  chainId: string,
  size: number,
  root: Buffer,
  ring: CheckpointKeyRing = checkpointKeyRing(),
): string {
  const key = ring.keys.get(ring.activeId)?.privateKey;
  if (!key) throw new Error(`The checkpoint key "${ring.activeId}" has no private key`);
  return signNote(checkpointText({ origin: chainId, size, rootHash: root }), chainId, key);
}

const CHECKPOINT_LOCK = 0x4155_4443; // "AUDC": one replica at a time decides whether a checkpoint is due

/**
 * The periodic checkpoint, which every replica attempts on its ticker: one replica at a time (a
 * transaction-scoped advisory lock, skipped rather than waited for), and only when the last checkpoint
 * is older than the interval, by the database's clock. So N replicas write one checkpoint per interval.
 */
export async function checkpointIfDue(
  db: Db,
  everyS = config().AUDIT_CHECKPOINT_EVERY_S,
): Promise<(CheckpointRecord & { id: string }) | null> {
  return db.transaction(async (tx) => {
    const [lock] = await rows<{ got: boolean }>(
      tx,
      sql`select pg_try_advisory_xact_lock(${CHECKPOINT_LOCK}) as got`,
    );
    if (!lock?.got) return null;
    // A second of slack, so that a ticker slightly early does not skip a whole interval.
    const [recent] = await rows<{ one: number }>(
      tx,
      sql`select 1 as one from audit_checkpoints
          where chain_id = ${config().AUDIT_CHAIN_ID} and signed_at > now() - make_interval(secs => ${Math.max(1, everyS - 1)})
          limit 1`,
    );
    if (recent) return null;
    return insertCheckpoint(tx);
  });
}
