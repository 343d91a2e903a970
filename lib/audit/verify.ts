import { sql } from 'drizzle-orm';
import { type Db, rows } from '@/db/client';
import { config } from '@/lib/config';
import { type ChainEntry, GENESIS_HMAC, nextKeyId } from './chain';
import { ENTRY_COLUMNS, type RawRow, toEntry } from './entry-columns';
import { readCheckpoints } from './checkpoint';
import { checkpointKeyRing, publicKeys } from './checkpoint-keys';
import { type HmacKeyRing, hmacKeyRing } from './keys';
import {
  type BreakLookup,
  classifyBreak,
  combine,
  entryVerifies,
  evaluateCheckpoints,
  type VerifyResult,
} from './verify-core';

export type { BreakKind, ChainBreak, CheckpointMatch, VerifyResult } from './verify-core';

export interface VerifyOptions {
  fromSeq?: number;
  toSeq?: number;
  batchSize?: number;
  keys?: HmacKeyRing;
  onProgress?: (checked: number) => void;
  /** Check against the signed checkpoints (default), with these public keys (default: the key ring's). */
  checkpoints?: false | { publicKeys?: ReadonlyMap<string, import('node:crypto').KeyObject> };
}

export { ENTRY_COLUMNS, type RawRow, toEntry } from './entry-columns';

/** How long verifyChain keeps the thread before it lets other work run. */
const YIELD_EVERY_MS = 5;

/** Entries with afterSeq < seq <= toSeq, in seq order, at most `limit`. */
export async function readEntries(
  db: Db,
  afterSeq: number,
  toSeq: number,
  limit: number,
): Promise<ChainEntry[]> {
  const raw = await rows<RawRow>(
    db,
    sql`select ${ENTRY_COLUMNS} from audit_log where seq > ${afterSeq} and seq <= ${toSeq} order by audit_log.seq limit ${limit}`,
  );
  return raw.map(toEntry);
}

export function dbLookup(db: Db): BreakLookup {
  return {
    async seqWithHmac(hmac, notSeq) {
      const [found] = await rows<{ seq: string }>(
        db,
        sql`select seq::text as seq from audit_log where hmac = ${hmac} and seq <> ${notSeq}`,
      );
      return found ? Number(found.seq) : null;
    },
    async entryAfter(seq) {
      const [next] = await readEntries(db, seq, Number.MAX_SAFE_INTEGER, 1);
      return next ?? null;
    },
  };
}

/**
 * Verifies the chain in the database: walks it in seq order and reports the first entry that does not
 * verify, with the kind of break (each entry needs only the stored hmac and key of the one before it); then
 * checks it against the signed checkpoints, so that a truncated tail or a rollback is found too.
 */
export async function verifyChain(db: Db, opts: VerifyOptions = {}): Promise<VerifyResult> {
  const chain = await verifyLinks(db, opts);
  return opts.checkpoints === false ? chain : checkAgainstCheckpoints(db, chain, opts);
}

/** Where a range starts from: the entry before `fromSeq`. */
export interface Anchor {
  hmac: string;
  /** The key in force at `fromSeq` (null at seq 1: the chain's first key is whichever it names). */
  nextKey: string | null;
}

/** The hmac stored before `fromSeq` and the key it hands on. Null when that entry is missing. */
export async function readAnchor(db: Db, fromSeq: number): Promise<Anchor | null> {
  if (fromSeq <= 1) return { hmac: GENESIS_HMAC, nextKey: null };
  const [anchor] = await readEntries(db, fromSeq - 2, fromSeq - 1, 1);
  return anchor && anchor.seq === fromSeq - 1 ? { hmac: anchor.hmac, nextKey: nextKeyId(anchor) } : null;
}

async function verifyLinks(db: Db, opts: VerifyOptions): Promise<VerifyResult> {
  const keys = opts.keys ?? hmacKeyRing();
  const batchSize = opts.batchSize ?? 5000;
  const fromSeq = opts.fromSeq ?? 1;
  const toSeq = opts.toSeq ?? Number.MAX_SAFE_INTEGER;

  const anchor = await readAnchor(db, fromSeq);
  if (anchor === null) {
    return {
      ok: false,
      checked: 0,
      firstBadSeq: fromSeq - 1,
      kind: 'gap',
      detail: `entry ${fromSeq - 1} is missing`,
    };
  }

  let prevHmac = anchor.hmac;
  let expectedKey = anchor.nextKey;
  let expected = fromSeq;
  let checked = 0;
  // The next batch is fetched while this one is checked, so the database and the HMACs overlap.
  let pending: Promise<ChainEntry[]> | null = readEntries(db, expected - 1, toSeq, batchSize);
  // A batch takes the thread for tens of milliseconds; in a server process other requests wait that long.
  // So it hands the thread back every few milliseconds (setImmediate: after pending I/O).
  let slice = performance.now();
  while (pending) {
    const batch: ChainEntry[] = await pending;
    const last = batch.at(-1);
    pending = batch.length === batchSize && last ? readEntries(db, last.seq, toSeq, batchSize) : null;
    for (const entry of batch) {
      if (!entryVerifies(keys, entry, expected, prevHmac, expectedKey)) {
        pending?.catch(() => {}); // abandoned: its result, or its error, no longer matters
        return {
          ok: false,
          checked,
          ...(await classifyBreak(dbLookup(db), keys, entry, expected, prevHmac, expectedKey)),
        };
      }
      prevHmac = entry.hmac;
      expectedKey = nextKeyId(entry);
      expected++;
      checked++;
      if ((checked & 63) === 0 && performance.now() - slice > YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        slice = performance.now();
      }
    }
    opts.onProgress?.(checked);
  }
  return { ok: true, checked, headSeq: expected - 1, headHmac: prevHmac };
}

/** Adds the verdict of the checkpoints whose seq falls in the range to the chain's own result. */
export async function checkAgainstCheckpoints(
  db: Db,
  chain: VerifyResult,
  opts: Pick<VerifyOptions, 'fromSeq' | 'toSeq' | 'checkpoints'>,
): Promise<VerifyResult> {
  const fromSeq = opts.fromSeq ?? 1;
  const toSeq = opts.toSeq ?? Number.MAX_SAFE_INTEGER;
  const checkpoints = await readCheckpoints(db, { fromSeq: fromSeq - 1, toSeq });
  if (checkpoints.length === 0) return chain;
  const [head] = await rows<{ seq: string | null }>(
    db,
    sql`select max(seq)::text as seq from audit_log where seq <= ${toSeq}`,
  );
  const stored = await rows<{ seq: string; hmac: string }>(
    db,
    sql`select a.seq::text as seq, a.hmac from audit_log a
        where a.seq in (select c.seq from audit_checkpoints c
                        where c.chain_id = ${config().AUDIT_CHAIN_ID} and c.seq >= ${fromSeq - 1} and c.seq <= ${toSeq})`,
  );
  const hmacAt = new Map(stored.map((r) => [Number(r.seq), r.hmac]));
  const keys = (opts.checkpoints && opts.checkpoints.publicKeys) || publicKeys(checkpointKeyRing());
  return combine(
    chain,
    evaluateCheckpoints(
      checkpoints.map((c) => ({ ...c, chainHmac: hmacAt.get(c.seq) ?? null })),
      { chainId: config().AUDIT_CHAIN_ID, publicKeys: keys, headSeq: Number(head?.seq ?? 0), fromSeq },
    ),
  );
}
