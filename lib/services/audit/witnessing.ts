import { sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import { type Db, rows, withSessionLock } from '@/db/client';
import { consistencyProof } from '@/lib/audit/merkle';
import { dbTiles, treeSize } from '@/lib/audit/tree';
import {
  configuredWitnesses,
  requestCosignatures,
  type Witness,
  type WitnessResult,
} from '@/lib/audit/witnesses';
import { config } from '@/lib/config';
import { log } from '@/lib/log';

export const WITNESS_LOCK = 0x4155_4457; // "AUDW": one replica at a time sends checkpoints to the witnesses

/** What witnessCheckpoint stored for one witness. */
export interface WitnessAnswer {
  witness: string;
  vkey: string;
  checkpointId: string;
  size: number;
  result: WitnessResult;
  /** A witness that has cosigned a larger tree than this database holds: the chain was rolled back or forked. */
  alarm: boolean;
}

export interface WitnessingOptions {
  witnesses?: readonly Witness[];
  timeoutMs?: number;
  logger?: Pick<Logger, 'error' | 'warn' | 'info'>;
}

/**
 * Sends the newest checkpoint that has a note to each configured witness that has no answer stored for it
 * yet, with the consistency proof from the largest tree that witness has cosigned here (0 for none), and
 * stores each answer in audit_checkpoint_cosignatures (docs/AUDIT.md, "Witnesses"). Never inside a
 * transaction (it waits on the network), and one replica at a time (a session advisory lock, skipped
 * rather than waited for: null). A witness that did not answer is asked again with the next checkpoint.
 *
 * A witness that refuses because it has cosigned a larger tree than the checkpoint is an alarm when this
 * database's tree is smaller than that: the chain was rolled back (or forked) behind a witnessed checkpoint,
 * even if every checkpoint row went with it. When the tree has grown past it since, a newer checkpoint got
 * there first: stored, with the reason "superseded". Any other 409 or 422 (a fork, or a second history grown
 * past the witnessed size) is an alarm too.
 */
export async function witnessCheckpoint(
  db: Db,
  options: WitnessingOptions = {},
): Promise<WitnessAnswer[] | null> {
  const witnesses = options.witnesses ?? configuredWitnesses();
  if (witnesses.length === 0) return [];
  const logger = options.logger ?? log;
  const locked = await withSessionLock(db, WITNESS_LOCK, async () => {
    const chainId = config().AUDIT_CHAIN_ID;
    const [checkpoint] = await rows<{ id: string; size: string | number; note: string }>(
      db,
      sql`select id::text as id, tree_size as size, note from audit_checkpoints
          where chain_id = ${chainId} and note is not null
          order by signed_at desc, seq desc limit 1`,
    );
    if (!checkpoint) return [];
    const size = Number(checkpoint.size);
    const tiles = dbTiles(db);
    const proofFrom = (old: number) => consistencyProof(old, size, tiles);
    const answers = await Promise.all(
      witnesses.map(async (w): Promise<WitnessAnswer | null> => {
        const [state] = await rows<{ asked: boolean; cosigned: string | number | null }>(
          db,
          sql`select exists (select 1 from audit_checkpoint_cosignatures
                             where witness_key = ${w.vkey} and checkpoint_id = ${checkpoint.id}::uuid) as asked,
                     (select max(c.tree_size) from audit_checkpoint_cosignatures s
                        join audit_checkpoints c on c.id = s.checkpoint_id
                      where s.witness_key = ${w.vkey} and s.outcome = 'cosigned' and c.chain_id = ${chainId}) as cosigned`,
        );
        if (state?.asked) return null;
        // A cosigned tree larger than the newest checkpoint cannot be proved consistent with it: the witness,
        // asked from 0, answers with the size it holds, and the answer below says what that means.
        const cosigned = Number(state?.cosigned ?? 0);
        const old = cosigned <= size ? cosigned : 0;
        // The size the witness reported in a 409, when the client retried from it.
        let reported: number | null = null;
        const [result] = await requestCosignatures(checkpoint.note, old, await proofFrom(old), {
          witnesses: [w],
          proofFrom: (from) => {
            reported = from;
            return proofFrom(from);
          },
          ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        });
        if (!result) return null;
        let alarm = false;
        let stored = result;
        if (result.outcome === 'refused' && result.witnessSize !== undefined && result.witnessSize > size) {
          const current = await treeSize(db);
          if (current < result.witnessSize) {
            alarm = true;
            logger.error(
              {
                witness: w.name,
                url: w.url,
                checkpoint_size: size,
                tree_size: current,
                witness_size: result.witnessSize,
              },
              'audit: a witness has cosigned a larger tree than this database holds: the audit chain was rolled back or forked',
            );
          } else stored = { ...result, reason: 'superseded' };
        } else if (result.outcome === 'refused' && (result.status === 409 || result.status === 422)) {
          // Our proofs are computed from our own tiles: a witness that cannot follow them from the tree it
          // cosigned (422), or holds another root at that size (409), cosigned another history.
          alarm = true;
          logger.error(
            {
              witness: w.name,
              url: w.url,
              checkpoint_size: size,
              status: result.status,
              reason: result.reason,
            },
            'audit: a witness has cosigned another history than this database holds: the audit chain was rolled back or forked',
          );
        } else if (result.outcome !== 'cosigned') {
          logger.warn(
            { witness: w.name, url: w.url, outcome: result.outcome, reason: result.reason, size },
            'audit: a witness did not cosign the checkpoint',
          );
        }
        await store(db, checkpoint.id, w, reported ?? old, reported, stored, alarm);
        return { witness: w.name, vkey: w.vkey, checkpointId: checkpoint.id, size, result: stored, alarm };
      }),
    );
    return answers.filter((a) => a !== null);
  });
  return locked ? locked.value : null;
}

async function store(
  db: Db,
  checkpointId: string,
  w: Witness,
  old: number,
  reported: number | null,
  r: WitnessResult,
  alarm: boolean,
) {
  const status = r.outcome === 'refused' || r.outcome === 'unreachable' ? (r.status ?? null) : null;
  const witnessSize = r.outcome === 'refused' ? (r.witnessSize ?? reported) : reported;
  await db.execute(
    sql`insert into audit_checkpoint_cosignatures
          (checkpoint_id, witness_name, witness_key, witness_url, outcome, http_status, old_size, witness_size,
           cosigned_at, cosignature, reason, alarm)
        values (${checkpointId}::uuid, ${w.name}, ${w.vkey}, ${w.url}, ${r.outcome}, ${status},
                ${r.outcome === 'cosigned' ? r.oldSize : old}, ${witnessSize},
                to_timestamp(${r.outcome === 'cosigned' ? r.timestamp : null}::double precision),
                ${r.outcome === 'cosigned' ? r.line.trimEnd() : null}, ${r.outcome === 'cosigned' ? null : r.reason}, ${alarm})`,
  );
}

/**
 * witnessCheckpoint without waiting for it, for the ticker and "Sign a checkpoint now": a witness that is
 * down or slow never fails nor delays what signed the checkpoint; a failure is logged.
 */
export function witnessInBackground(db: Db): void {
  if (config().AUDIT_WITNESS_URLS.length === 0) return;
  witnessCheckpoint(db).catch((err: unknown) =>
    log.error({ err }, 'audit: sending the checkpoint to the witnesses failed'),
  );
}
