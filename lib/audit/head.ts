import { sql } from 'drizzle-orm';
import { type Db, rows, type Tx } from '@/db/client';
import { type ChainEntry, GENESIS_HMAC, HMAC_ROTATION, hmacEquals, entryHmac } from './chain';
import type { ChainHead } from './append';
import type { HmacKeyRing } from './keys';
import { ENTRY_COLUMNS, type RawRow, toEntry } from './entry-columns';
import { entryVerifies } from './verify-core';

/** A rotation the chain honours: MAC'd with the key in force at its seq, and followed by what it hands on. */
export interface GenuineRotation {
  seq: number;
  occurredAt: string;
  actorEmail: string | null;
  fromKeyId: string;
  toKeyId: string;
}

/** The keys the chain has been on, as its genuine rotations record them. */
export interface KeyHistory {
  /** The key of the chain's first entry, in force until the first rotation; null on an empty chain. */
  first: string | null;
  /** Oldest first. */
  rotations: GenuineRotation[];
  /** The successful rotation entries that are not genuine (a forged or altered row), by seq. */
  ignored: number[];
}

/** The key in force at `seq`: the target of the last genuine rotation before it, else the first key. */
export function keyAt(history: KeyHistory, seq: number): string | null {
  let key = history.first;
  for (const r of history.rotations) {
    if (r.seq >= seq) break;
    key = r.toKeyId;
  }
  return key;
}

/**
 * The chain's key history, which nothing but genuine rotations can change. A rotation counts only when its
 * HMAC verifies under the key in force at its seq (so a retired key cannot name the next one) and the entry
 * after it, if any, links to it (so it is not a row slipped in beside the chain). A handful of rows: the
 * `(action, seq)` index finds them.
 */
export async function readKeyHistory(db: Db | Tx, keys: HmacKeyRing): Promise<KeyHistory> {
  const [first] = await rows<{ id: string }>(
    db,
    sql`select hmac_key_id as id from audit_log order by audit_log.seq limit 1`,
  );
  const history: KeyHistory = { first: first?.id ?? null, rotations: [], ignored: [] };
  const raw = await rows<RawRow>(
    db,
    sql`select ${ENTRY_COLUMNS} from audit_log where action = ${HMAC_ROTATION} and outcome = 'success' order by audit_log.seq`,
  );
  if (raw.length === 0) return history;
  const entries = raw.map(toEntry);
  const next = await rows<{ seq: string; prev_hmac: string }>(
    db,
    sql`select (seq - 1)::text as seq, prev_hmac from audit_log where seq = any(${`{${entries.map((e) => e.seq + 1).join(',')}}`}::bigint[])`,
  );
  const linkedBy = new Map(next.map((r) => [Number(r.seq), r.prev_hmac]));
  for (const e of entries) {
    const inForce = keyAt(history, e.seq);
    const after = linkedBy.get(e.seq);
    const genuine =
      !!e.target_id &&
      entryVerifies(keys, e, null, null, inForce) &&
      (after === undefined || after === e.hmac);
    if (genuine) {
      history.rotations.push({
        seq: e.seq,
        occurredAt: e.occurred_at,
        actorEmail: e.actor_email,
        fromKeyId: e.hmac_key_id,
        toKeyId: e.target_id!,
      });
    } else history.ignored.push(e.seq);
  }
  return history;
}

export type HeadCheck =
  | { ok: true; head: ChainHead; headKeyId: string | null; nextKeyId: string | null; history: KeyHistory }
  | {
      ok: false;
      seq: number;
      problem: string;
      usedKeyId: string;
      expectedKeyId: string | null;
      history: KeyHistory;
    };

/**
 * Whether the chain may be extended: its head entry verifies, links to the entry before it and is MAC'd
 * with the key the genuine rotation history puts in force at its seq. A forged head (by someone holding a
 * retired key and the table) fails the last test; an altered or inserted one the first two. `nextKeyId` is
 * the key the next entry must be MAC'd with.
 */
export async function checkHead(db: Db | Tx, keys: HmacKeyRing): Promise<HeadCheck> {
  const history = await readKeyHistory(db, keys);
  const last = (
    await rows<RawRow>(db, sql`select ${ENTRY_COLUMNS} from audit_log order by audit_log.seq desc limit 2`)
  ).map(toEntry);
  const [head, before] = last;
  if (!head)
    return { ok: true, head: { seq: 0, hmac: GENESIS_HMAC }, headKeyId: null, nextKeyId: null, history };
  const expectedKeyId = keyAt(history, head.seq);
  const prevHmac = head.seq === 1 ? GENESIS_HMAC : before?.seq === head.seq - 1 ? before.hmac : null;
  if (prevHmac !== null && entryVerifies(keys, head, head.seq, prevHmac, expectedKeyId)) {
    return {
      ok: true,
      head: { seq: head.seq, hmac: head.hmac },
      headKeyId: head.hmac_key_id,
      nextKeyId: keyAt(history, head.seq + 1),
      history,
    };
  }
  return {
    ok: false,
    seq: head.seq,
    problem: describe(keys, head, prevHmac, expectedKeyId),
    usedKeyId: head.hmac_key_id,
    expectedKeyId,
    history,
  };
}

function describe(
  keys: HmacKeyRing,
  head: ChainEntry,
  prevHmac: string | null,
  expectedKeyId: string | null,
) {
  const at = `the chain's head, seq ${head.seq},`;
  if (prevHmac === null) return `${at} has no entry ${head.seq - 1} before it`;
  if (head.prev_hmac !== prevHmac) return `${at} does not link to entry ${head.seq - 1}`;
  const key = keys.keys.get(head.hmac_key_id);
  if (!key) return `${at} names the HMAC key "${head.hmac_key_id}", which is not in the key ring`;
  if (!hmacEquals(entryHmac(key, head), head.hmac)) return `${at} does not match its HMAC`;
  return `${at} is MACed with the key "${head.hmac_key_id}", but the key in force is "${expectedKeyId}"`;
}

/** Raised instead of extending (or signing) a chain whose head does not verify. */
export class ChainHeadError extends Error {
  constructor(readonly check: Extract<HeadCheck, { ok: false }>) {
    super(
      `audit chain: refusing to extend a broken head: ${check.problem}. Entries wait in audit_inbox until the head is repaired (docs/AUDIT.md, "A broken head").`,
    );
  }
}
