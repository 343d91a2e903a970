import { sql } from 'drizzle-orm';
import { type Db, rows, type Tx } from '@/db/client';
import { config } from '@/lib/config';

/** One witness's answer for one checkpoint, as stored in audit_checkpoint_cosignatures. */
export interface StoredCosignature {
  checkpointId: string;
  witnessName: string;
  witnessKey: string;
  witnessUrl: string;
  outcome: 'cosigned' | 'refused' | 'unreachable' | 'invalid';
  httpStatus: number | null;
  oldSize: number | null;
  witnessSize: number | null;
  /** ISO 8601, UTC. */
  cosignedAt: string | null;
  /** The cosignature line, `— <name> <base64>`. */
  cosignature: string | null;
  reason: string | null;
  /** The answer showed the witness cosigned another history than the database holds (witnessing.ts). */
  alarm: boolean;
  requestedAt: string;
}

const ISO = `'YYYY-MM-DD"T"HH24:MI:SS"Z"'`;

/** The answers stored for these checkpoints, oldest request first. */
export async function readCosignatures(
  db: Db | Tx,
  checkpointIds: readonly string[],
): Promise<StoredCosignature[]> {
  if (checkpointIds.length === 0) return [];
  const got = await rows<{
    checkpoint_id: string;
    witness_name: string;
    witness_key: string;
    witness_url: string;
    outcome: StoredCosignature['outcome'];
    http_status: number | null;
    old_size: string | null;
    witness_size: string | null;
    cosigned_at: string | null;
    cosignature: string | null;
    reason: string | null;
    alarm: boolean;
    requested_at: string;
  }>(
    db,
    sql`select checkpoint_id::text as checkpoint_id, witness_name, witness_key, witness_url, outcome, http_status,
               old_size::text as old_size, witness_size::text as witness_size,
               to_char(cosigned_at at time zone 'UTC', ${sql.raw(ISO)}) as cosigned_at, cosignature, reason, alarm,
               to_char(requested_at at time zone 'UTC', ${sql.raw(ISO)}) as requested_at
        from audit_checkpoint_cosignatures
        where checkpoint_id = any(${`{${checkpointIds.join(',')}}`}::uuid[])
        order by requested_at, id`,
  );
  return got.map((r) => ({
    checkpointId: r.checkpoint_id,
    witnessName: r.witness_name,
    witnessKey: r.witness_key,
    witnessUrl: r.witness_url,
    outcome: r.outcome,
    httpStatus: r.http_status === null ? null : Number(r.http_status),
    oldSize: r.old_size === null ? null : Number(r.old_size),
    witnessSize: r.witness_size === null ? null : Number(r.witness_size),
    cosignedAt: r.cosigned_at,
    cosignature: r.cosignature,
    reason: r.reason,
    alarm: r.alarm,
    requestedAt: r.requested_at,
  }));
}

/**
 * Per witness key that has answered: the largest tree of this chain it has cosigned here and when (null when
 * none), and the time of its newest alarm when no cosignature was asked for since (null otherwise).
 */
export async function witnessStanding(
  db: Db | Tx,
): Promise<Map<string, { size: number | null; cosignedAt: string | null; alarmAt: string | null }>> {
  const got = await rows<{
    witness_key: string;
    size: string | null;
    cosigned_at: string | null;
    alarm_at: string | null;
  }>(
    db,
    sql`select s.witness_key,
               (select c.tree_size::text from audit_checkpoint_cosignatures x
                  join audit_checkpoints c on c.id = x.checkpoint_id
                where x.witness_key = s.witness_key and x.outcome = 'cosigned'
                order by c.tree_size desc limit 1) as size,
               to_char(max(s.cosigned_at) at time zone 'UTC', ${sql.raw(ISO)}) as cosigned_at,
               case when max(s.requested_at) filter (where s.alarm)
                         > coalesce(max(s.requested_at) filter (where s.outcome = 'cosigned'), '-infinity')
                    then to_char(max(s.requested_at) filter (where s.alarm) at time zone 'UTC', ${sql.raw(ISO)})
               end as alarm_at
        from audit_checkpoint_cosignatures s join audit_checkpoints c on c.id = s.checkpoint_id
        where c.chain_id = ${config().AUDIT_CHAIN_ID}
        group by s.witness_key`,
  );
  return new Map(
    got.map((r) => [
      r.witness_key,
      { size: r.size === null ? null : Number(r.size), cosignedAt: r.cosigned_at, alarmAt: r.alarm_at },
    ]),
  );
}

/**
 * The newest cosignature line of each witness for the note of `size` leaves (any checkpoint row of that size:
 * they share the note's text), by witness name: appended to the note, they make the cosigned note.
 */
export async function cosignatureLines(db: Db | Tx, chainId: string, size: number): Promise<string[]> {
  const got = await rows<{ cosignature: string }>(
    db,
    sql`select distinct on (s.witness_key) s.cosignature
        from audit_checkpoint_cosignatures s join audit_checkpoints c on c.id = s.checkpoint_id
        where c.chain_id = ${chainId} and c.tree_size = ${size} and s.outcome = 'cosigned'
        order by s.witness_key, s.requested_at desc`,
  );
  return got.map((r) => r.cosignature);
}
