import { sql } from 'drizzle-orm';
import { type Db, rows } from '@/db/client';
import { type ChainEntry, entryHmac, GENESIS_HMAC, hmacEquals } from './chain';
import { type HmacKeyRing, hmacKeyRing } from './keys';

export type BreakKind = 'modified' | 'deleted' | 'gap' | 'inserted' | 'reordered' | 'unknown_key';

export type VerifyResult =
  | { ok: true; checked: number; headSeq: number; headHmac: string }
  | { ok: false; checked: number; firstBadSeq: number; kind: BreakKind; detail: string };

export interface VerifyOptions {
  fromSeq?: number;
  toSeq?: number;
  batchSize?: number;
  keys?: HmacKeyRing;
  onProgress?: (checked: number) => void;
}

// Formatted in SQL so that both drivers hand back the same strings the HMAC was computed over.
const COLUMNS = sql.raw(`seq::text as seq, id::text as id,
  to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at,
  request_id, actor_staff_id::text as actor_staff_id, actor_email, acting_org_id::text as acting_org_id,
  acting_context_id::text as acting_context_id, org_id::text as org_id, action, target_type, target_id,
  outcome::text as outcome, diff::text as diff, src_ip, user_agent, enforcement_action, policy_rule_id, pack_id,
  framework_ref, hmac_key_id, prev_hmac, hmac`);

type RawRow = Omit<ChainEntry, 'seq' | 'diff'> & { seq: string; diff: string | null };

function toEntry(r: RawRow): ChainEntry {
  return { ...r, seq: Number(r.seq), diff: r.diff === null ? null : JSON.parse(r.diff) };
}

async function readBatch(db: Db, afterSeq: number, toSeq: number, limit: number): Promise<ChainEntry[]> {
  const raw = await rows<RawRow>(
    db,
    sql`select ${COLUMNS} from audit_log where seq > ${afterSeq} and seq <= ${toSeq} order by audit_log.seq limit ${limit}`,
  );
  return raw.map(toEntry);
}

/**
 * Walks the chain in `seq` order and reports the first entry that does not verify, with the kind of
 * break. Each entry needs only the stored hmac of the one before it.
 */
export async function verifyChain(db: Db, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const keys = opts.keys ?? hmacKeyRing();
  const batchSize = opts.batchSize ?? 5000;
  const fromSeq = opts.fromSeq ?? 1;
  const toSeq = opts.toSeq ?? Number.MAX_SAFE_INTEGER;

  let prevHmac = GENESIS_HMAC;
  if (fromSeq > 1) {
    const [anchor] = await readBatch(db, fromSeq - 2, fromSeq - 1, 1);
    if (!anchor || anchor.seq !== fromSeq - 1) {
      return {
        ok: false,
        checked: 0,
        firstBadSeq: fromSeq - 1,
        kind: 'gap',
        detail: `entry ${fromSeq - 1} is missing`,
      };
    }
    prevHmac = anchor.hmac;
  }

  let expected = fromSeq;
  let checked = 0;
  // The next batch is fetched while this one is checked, so the database and the HMACs overlap.
  let pending: Promise<ChainEntry[]> | null = readBatch(db, expected - 1, toSeq, batchSize);
  while (pending) {
    const batch: ChainEntry[] = await pending;
    const last = batch.at(-1);
    pending = batch.length === batchSize && last ? readBatch(db, last.seq, toSeq, batchSize) : null;
    for (const entry of batch) {
      if (!entryVerifies(keys, entry, expected, prevHmac)) {
        pending?.catch(() => {}); // abandoned: its result, or its error, no longer matters
        return { ok: false, checked, ...(await classifyBreak(db, keys, entry, expected, prevHmac)) };
      }
      prevHmac = entry.hmac;
      expected++;
      checked++;
    }
    opts.onProgress?.(checked);
  }
  return { ok: true, checked, headSeq: expected - 1, headHmac: prevHmac };
}

function entryVerifies(keys: HmacKeyRing, entry: ChainEntry, expected: number, prevHmac: string): boolean {
  const key = keys.keys.get(entry.hmac_key_id);
  return (
    entry.seq === expected &&
    entry.prev_hmac === prevHmac &&
    key !== undefined &&
    hmacEquals(entryHmac(key, entry), entry.hmac)
  );
}

/** Names the kind of break at an entry that did not verify. It may query: it runs once per verification. */
async function classifyBreak(
  db: Db,
  keys: HmacKeyRing,
  entry: ChainEntry,
  expected: number,
  prevHmac: string,
): Promise<{ firstBadSeq: number; kind: BreakKind; detail: string }> {
  if (entry.seq !== expected) {
    return {
      firstBadSeq: expected,
      kind: 'gap',
      detail: `entry ${expected} is missing; the next is ${entry.seq}`,
    };
  }
  const key = keys.keys.get(entry.hmac_key_id);
  const linked = entry.prev_hmac === prevHmac;
  const valid = key !== undefined && hmacEquals(entryHmac(key, entry), entry.hmac);
  const at = entry.seq;
  if (!linked) {
    const [elsewhere] = await rows<{ seq: string }>(
      db,
      sql`select seq::text as seq from audit_log where hmac = ${entry.prev_hmac} and seq <> ${at - 1}`,
    );
    if (elsewhere) {
      return {
        firstBadSeq: at,
        kind: 'reordered',
        detail: `entry ${at} follows entry ${elsewhere.seq}, not entry ${at - 1}`,
      };
    }
  }
  if (!key)
    return {
      firstBadSeq: at,
      kind: 'unknown_key',
      detail: `entry ${at} names HMAC key "${entry.hmac_key_id}", which is not in the key ring`,
    };
  const [next] = await readBatch(db, at, Number.MAX_SAFE_INTEGER, 1);
  if (next && next.prev_hmac === prevHmac) {
    return {
      firstBadSeq: at,
      kind: 'inserted',
      detail: `entry ${at} was not in the chain: entry ${next.seq} links to entry ${at - 1}`,
    };
  }
  if (!linked && valid) {
    return {
      firstBadSeq: at,
      kind: 'deleted',
      detail: `an entry between ${at - 1} and ${at} was removed and the rest renumbered`,
    };
  }
  return { firstBadSeq: at, kind: 'modified', detail: `entry ${at} does not match its HMAC` };
}
