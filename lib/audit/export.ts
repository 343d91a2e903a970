import { type SQL, sql } from 'drizzle-orm';
import { type Db, rows } from '@/db/client';
import type { ChainEntry } from './chain';
import {
  CHECKPOINT_LINE_TYPE,
  type CheckpointLine,
  EXPORT_HEADER_TYPE,
  type ExportHeader,
} from './export-format';
import { config } from '@/lib/config';
import { log } from '@/lib/log';
import { insertCheckpoint } from './checkpoint';
import { type AuditFilter, filterConditions } from './filter';
import { toOcsf } from './ocsf';
import { EXPORT_PROOF_LINE_TYPE, type ExportProofLineJson } from './proof-format';
import { newestNote, proveInclusion } from './proofs';

/**
 * Every column of audit_log formatted in SQL exactly as lib/audit/verify.ts reads it, so that both drivers
 * hand back the strings the HMAC was computed over (test: lib/audit/export.test.ts recomputes each HMAC).
 */
export const CHAIN_COLUMNS = sql.raw(`a.seq::text as seq, a.id::text as id,
  to_char(a.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at,
  a.request_id, a.actor_staff_id::text as actor_staff_id, a.actor_email, a.acting_org_id::text as acting_org_id,
  a.acting_context_id::text as acting_context_id, a.org_id::text as org_id, a.action, a.target_type, a.target_id,
  a.outcome::text as outcome, a.diff::text as diff, a.src_ip, a.user_agent, a.enforcement_action, a.policy_rule_id,
  a.pack_id, a.framework_ref, a.hmac_key_id, a.prev_hmac, a.hmac`);

type RawChainRow = Omit<ChainEntry, 'seq' | 'diff'> & { seq: string; diff: string | null };

export function toChainEntry(r: RawChainRow): ChainEntry {
  return { ...r, seq: Number(r.seq), diff: r.diff === null ? null : JSON.parse(r.diff) };
}

/** Chained entries after `afterSeq` that match the filter, in seq order, at most `limit`. */
export async function readEntries(
  db: Db,
  f: AuditFilter,
  afterSeq: number,
  limit: number,
): Promise<ChainEntry[]> {
  const where: SQL[] = [...filterConditions(f), sql`a.seq > ${afterSeq}`];
  const raw = await rows<RawChainRow>(
    db,
    sql`select ${CHAIN_COLUMNS} from audit_log a where ${sql.join(where, sql` and `)} order by a.seq limit ${limit}`,
  );
  return raw.map(toChainEntry);
}

/** What one export covers, fixed when it starts: entries appended while it streams are not in it. */
export interface ExportPlan {
  filter: AuditFilter;
  header: ExportHeader;
  /** The seq range read, or null when there is nothing to read. */
  range: { from: number; to: number } | null;
  /** The first checkpoint beyond the head, as seen together with the head (a truncated tail shows in it). */
  beyondHead: CheckpointLine | null;
}

// `n` and `t` to order by: the text forms would sort 1201 before 300.
const CHECKPOINT_COLUMNS = sql.raw(`chain_id, seq::text as seq, head_hmac,
  to_char(signed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as signed_at, key_id, signature,
  seq as n, signed_at as t`);
type RawCheckpoint = Omit<CheckpointLine, 'type' | 'seq'> & { seq: string };

function toCheckpointLine(c: RawCheckpoint): CheckpointLine {
  return {
    type: CHECKPOINT_LINE_TYPE,
    chain_id: c.chain_id,
    seq: Number(c.seq),
    head_hmac: c.head_hmac,
    signed_at: c.signed_at,
    key_id: c.key_id,
    signature: c.signature,
  };
}

/**
 * Fixes the export's seq range at the chain's head now. `filters` are the search as the header records it;
 * the export is contiguous when nothing but a seq range narrows it.
 */
export async function planExport(
  db: Db,
  filter: AuditFilter,
  filters: Record<string, unknown>,
  now = new Date(),
): Promise<ExportPlan> {
  // The head and the first checkpoint beyond it in one statement, so one snapshot: a checkpoint signed
  // while the export streams is not mistaken for one that the table's tail has lost.
  const [head] = await rows<{ seq: string | null; beyond: RawCheckpoint | string | null }>(
    db,
    sql`select h.seq::text as seq,
          (select row_to_json(c) from (select ${CHECKPOINT_COLUMNS} from audit_checkpoints
             where seq > coalesce(h.seq, 0) order by n, t limit 1) c) as beyond
        from (select max(seq) as seq from audit_log) h`,
  );
  const headSeq = head?.seq ? Number(head.seq) : 0;
  const beyond = typeof head?.beyond === 'string' ? (JSON.parse(head.beyond) as RawCheckpoint) : head?.beyond;
  const from = Math.max(1, filter.fromSeq ?? 1);
  const to = Math.min(headSeq, filter.toSeq ?? headSeq);
  const empty = to < from;
  const narrowing = { ...filter, fromSeq: undefined, toSeq: undefined };
  // A time range is also a seq range: the first and last seq in it, found once here. Each batch is then a
  // primary-key range from the last seq read on; without the bounds Postgres may pick the occurred_at index
  // and sort the whole time range again for every batch. occurred_at need not grow with seq, so the
  // bounds come from the rows themselves, and the time condition stays in each batch's query.
  let [lo, hi] = [from, to];
  if (!empty && (filter.from || filter.to)) {
    const time = filterConditions({ from: filter.from, to: filter.to });
    const where = sql.join(time, sql` and `);
    const [bounds] = await rows<{ lo: string | null; hi: string | null }>(
      db,
      sql`select (select a.seq from audit_log a where ${where} order by a.seq limit 1)::text as lo,
                 (select a.seq from audit_log a where ${where} order by a.seq desc limit 1)::text as hi`,
    );
    lo = bounds?.lo ? Math.max(from, Number(bounds.lo)) : to + 1;
    hi = bounds?.hi ? Math.min(to, Number(bounds.hi)) : to;
  }
  const contiguous = Object.values(narrowing).every((v) => v === undefined);
  return {
    filter: { ...filter, fromSeq: lo, toSeq: hi },
    header: {
      type: EXPORT_HEADER_TYPE,
      version: 1,
      exported_at: now.toISOString(),
      contiguous,
      from_seq: empty ? null : from,
      // Open-ended (to the head): a verifier then holds the export to every checkpoint, so a checkpoint
      // beyond its last entry is a truncated tail (lib/audit/verify-file.ts).
      to_seq: empty || (contiguous && filter.toSeq === undefined) ? null : to,
      filters,
    },
    range: empty ? null : { from, to },
    beyondHead: beyond ? toCheckpointLine(beyond) : null,
  };
}

/** Signed checkpoints whose seq is in the range, and the first one after it, in seq order. */
async function checkpointLines(db: Db, plan: ExportPlan): Promise<CheckpointLine[]> {
  const { from, to } = plan.range ?? { from: 1, to: 0 };
  const within = await rows<RawCheckpoint>(
    db,
    sql`select ${CHECKPOINT_COLUMNS} from audit_checkpoints where seq >= ${from} and seq <= ${to} order by n, t`,
  );
  // Open-ended: only the checkpoint beyond the head that was there when the export started.
  if (plan.header.to_seq === null)
    return [...within.map(toCheckpointLine), ...(plan.beyondHead ? [plan.beyondHead] : [])];
  // A bounded range: the first checkpoint after it, whenever signed.
  const [after] = await rows<RawCheckpoint>(
    db,
    sql`select ${CHECKPOINT_COLUMNS} from audit_checkpoints where seq > ${to} order by n, t limit 1`,
  );
  return [...within, ...(after ? [after] : [])].map(toCheckpointLine);
}

/**
 * The last line of an export: the Merkle inclusion proof of its last entry against a signed note
 * checkpoint that covers it. An export that runs to the head ends with its own `audit.exported` entry,
 * which no checkpoint covers yet: then a checkpoint is signed now. Null (no line) while the Merkle tree is
 * still being built, or when no checkpoint can be signed (a head that does not verify).
 */
export async function exportProofLine(db: Db, lastSeq: number): Promise<ExportProofLineJson | null> {
  const chainId = config().AUDIT_CHAIN_ID;
  let checkpoint = await newestNote(db, chainId, lastSeq);
  if (!checkpoint) {
    try {
      const signed = await db.transaction((tx) => insertCheckpoint(tx));
      if (signed.note) checkpoint = { size: signed.seq, note: signed.note };
    } catch (err) {
      log.warn({ err }, 'audit export: no checkpoint could be signed for the proof line');
    }
  }
  if (!checkpoint) return null;
  const { type: _type, ...proof } = await proveInclusion(db, chainId, lastSeq, checkpoint.size);
  return { ...proof, type: EXPORT_PROOF_LINE_TYPE, checkpoint: checkpoint.note };
}

/**
 * The export's lines (lib/audit/export-format.ts), each ending in a newline, a batch at a time: the header,
 * one OCSF event per entry in seq order, then the checkpoints, then the proof of the last entry. It holds one batch in memory, whatever the
 * size of the export. 500 entries (about 1.5 MB of NDJSON): at 2,000 the garbage of a batch alone pushed
 * the peak RSS of bench:export from about 210 to about 330 MB.
 */
export async function* exportBatches(db: Db, plan: ExportPlan, batchSize = 500): AsyncGenerator<string> {
  yield `${JSON.stringify(plan.header)}\n`;
  if (!plan.range) return;
  // The next batch is read while this one is turned into lines and sent: the database and this process
  // work at the same time.
  const start = (plan.filter.fromSeq ?? plan.range.from) - 1;
  let pending: Promise<ChainEntry[]> | null = readEntries(db, plan.filter, start, batchSize);
  let lastSeq: number | null = null;
  try {
    while (pending) {
      const batch: ChainEntry[] = await pending;
      const last = batch.at(-1);
      lastSeq = last?.seq ?? lastSeq;
      pending = batch.length === batchSize && last ? readEntries(db, plan.filter, last.seq, batchSize) : null;
      if (batch.length === 0) break;
      let chunk = '';
      for (const entry of batch) chunk += `${JSON.stringify(toOcsf(entry))}\n`;
      yield chunk;
    }
  } finally {
    pending?.catch(() => {}); // abandoned when the download is cancelled: its result no longer matters
  }
  const checkpoints = await checkpointLines(db, plan);
  if (checkpoints.length > 0) yield checkpoints.map((c) => `${JSON.stringify(c)}\n`).join('');
  const proof = lastSeq === null ? null : await exportProofLine(db, lastSeq);
  if (proof) yield `${JSON.stringify(proof)}\n`;
}

/**
 * The export as a byte stream that pulls one batch at a time, so a slow download holds the database
 * reads back instead of buffering the log in memory. A failure part-way ends the stream with an error
 * (the download is then incomplete: it has no checkpoint lines, and the verifier says so).
 */
export function exportStream(
  db: Db,
  plan: ExportPlan,
  opts: { batchSize?: number; onError?: (err: unknown) => void } = {},
): ReadableStream<Uint8Array> {
  const lines = exportBatches(db, plan, opts.batchSize);
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await lines.next();
          if (next.done) controller.close();
          else controller.enqueue(encoder.encode(next.value));
        } catch (err) {
          opts.onError?.(err);
          controller.error(err);
        }
      },
      async cancel() {
        await lines.return(undefined);
      },
    },
    { highWaterMark: 1 },
  );
}
