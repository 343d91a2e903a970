import type crypto from 'node:crypto';
import { type ChainEntry, entryHmac, GENESIS_HMAC, hmacEquals } from './chain';
import { checkSignature } from './checkpoint-format';
import type { CheckpointRecord } from './export-format';
import type { HmacKeyRing } from './keys';

/**
 * How the chain is broken at its first bad entry:
 * - `gap`: the expected seq is missing (a deleted row);
 * - `reordered`: the entry links to some other entry than the one before it (rows swapped);
 * - `unknown_key`: its hmac_key_id is not in the key ring (a suffix re-MACed under someone else's key);
 * - `wrong_key`: it verifies and links, but under another key of the ring than the one in force at its
 *   seq (key continuity, chain.ts `nextKeyId`): a retired key, perhaps leaked, MACing after its rotation;
 * - `inserted`: it does not verify and the entry after it links to the one before it (a forged row);
 * - `deleted`: it verifies but does not link to the one before it;
 * - `modified`: anything else that does not verify (a changed field);
 * - `truncated`: the chain ends before the seq a signed checkpoint covers (the tail was cut off);
 * - `rollback`: the entry at a signed checkpoint's seq is not the one signed (the table was replaced by
 *   another history, e.g. an older backup that the portal then kept appending to);
 * - `bad_checkpoint`: a stored checkpoint's signature does not verify, or names an unknown key;
 * - `bad_proof`: an export's Merkle proof of its last entry does not hold (lib/audit/proof-format.ts).
 */
export type BreakKind =
  | 'modified'
  | 'deleted'
  | 'gap'
  | 'inserted'
  | 'reordered'
  | 'unknown_key'
  | 'wrong_key'
  | 'truncated'
  | 'rollback'
  | 'bad_checkpoint'
  | 'bad_proof';

export interface ChainBreak {
  firstBadSeq: number;
  kind: BreakKind;
  detail: string;
  /** `wrong_key`: the key the entry is MAC'd with, and the one in force at its seq. */
  usedKeyId?: string;
  expectedKeyId?: string;
}

/** The newest checkpoint that the verified chain matches. */
export interface CheckpointMatch {
  seq: number;
  signed_at: string;
  key_id: string;
}

export type VerifyResult =
  | { ok: true; checked: number; headSeq: number; headHmac: string; checkpoint?: CheckpointMatch }
  | ({ ok: false; checked: number; checkpoint?: CheckpointMatch } & ChainBreak);

/**
 * One entry's check. `expected` null: any seq will do (a filtered export); `prevHmac` null: the entry's
 * own stored prev_hmac is taken as given (its HMAC still covers it); `expectedKey` null: the key in force
 * is not known (the first entry of a range), any key of the ring will do.
 */
export function entryVerifies(
  keys: HmacKeyRing,
  entry: ChainEntry,
  expected: number | null,
  prevHmac: string | null,
  expectedKey: string | null = null,
): boolean {
  const key = keys.keys.get(entry.hmac_key_id);
  return (
    (expected === null || entry.seq === expected) &&
    (prevHmac === null || entry.prev_hmac === prevHmac) &&
    (expectedKey === null || entry.hmac_key_id === expectedKey) &&
    key !== undefined &&
    hmacEquals(entryHmac(key, entry), entry.hmac)
  );
}

/** What classification may look up around a bad entry: the database, or the export file. */
export interface BreakLookup {
  /** The seq of an entry other than `notSeq` whose hmac is `hmac`. */
  seqWithHmac(hmac: string, notSeq: number): Promise<number | null>;
  /** The first entry after `seq`. */
  entryAfter(seq: number): Promise<ChainEntry | null>;
}

/** Names the kind of break at an entry that did not verify. It may look things up: it runs once. */
export async function classifyBreak(
  lookup: BreakLookup,
  keys: HmacKeyRing,
  entry: ChainEntry,
  expected: number | null,
  prevHmac: string | null,
  expectedKey: string | null = null,
): Promise<ChainBreak> {
  if (expected !== null && entry.seq !== expected) {
    return entry.seq > expected
      ? {
          firstBadSeq: expected,
          kind: 'gap',
          detail: `entry ${expected} is missing; the next is ${entry.seq}`,
        }
      : {
          firstBadSeq: expected,
          kind: 'reordered',
          detail: `entry ${entry.seq} comes where entry ${expected} should be`,
        };
  }
  const key = keys.keys.get(entry.hmac_key_id);
  const linked = prevHmac === null || entry.prev_hmac === prevHmac;
  const valid = key !== undefined && hmacEquals(entryHmac(key, entry), entry.hmac);
  const at = entry.seq;
  if (!linked) {
    const elsewhere = await lookup.seqWithHmac(entry.prev_hmac, at - 1);
    if (elsewhere !== null) {
      return {
        firstBadSeq: at,
        kind: 'reordered',
        detail: `entry ${at} follows entry ${elsewhere}, not entry ${at - 1}`,
      };
    }
  }
  if (!key) {
    return {
      firstBadSeq: at,
      kind: 'unknown_key',
      detail: `entry ${at} names HMAC key "${entry.hmac_key_id}", which is not in the key ring`,
    };
  }
  if (linked && valid && expectedKey !== null && entry.hmac_key_id !== expectedKey) {
    return {
      firstBadSeq: at,
      kind: 'wrong_key',
      detail: `entry ${at} is MACed with the key "${entry.hmac_key_id}", but the key in force at seq ${at} is "${expectedKey}"`,
      usedKeyId: entry.hmac_key_id,
      expectedKeyId: expectedKey,
    };
  }
  if (prevHmac !== null) {
    const next = await lookup.entryAfter(at);
    if (next && next.prev_hmac === prevHmac) {
      return {
        firstBadSeq: at,
        kind: 'inserted',
        detail: `entry ${at} was not in the chain: entry ${next.seq} links to entry ${at - 1}`,
      };
    }
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

/** A stored checkpoint with the chain's own hmac at its seq (null when the chain has no such entry). */
export interface CheckpointView extends CheckpointRecord {
  chainHmac: string | null;
}

/**
 * Checks the chain against its signed checkpoints, given oldest signature first. Every checkpoint's
 * signature must verify; then the chain must still hold, at each checkpoint's seq, the hmac that was
 * signed (else `rollback`), and must reach each checkpoint's seq (else `truncated`). Returns the first
 * problem by seq, and the newest checkpoint the chain matches.
 */
export function evaluateCheckpoints(
  checkpoints: readonly CheckpointView[],
  opts: {
    chainId: string;
    publicKeys: ReadonlyMap<string, crypto.KeyObject>;
    /** The last seq the chain (or the range checked) holds. */
    headSeq: number;
    fromSeq: number;
  },
): CheckpointVerdict {
  const problems: CheckpointProblem[] = [];
  let latest: CheckpointMatch | null = null;
  // The highest seq a checkpoint signed so far vouches for, for where a rollback starts.
  let goodSeq = opts.fromSeq - 1;
  for (const cp of checkpoints) {
    const where = `the checkpoint of seq ${cp.seq} signed at ${cp.signed_at}`;
    const signature = checkSignature(cp, opts.publicKeys);
    if (cp.chain_id !== opts.chainId || signature !== 'ok') {
      problems.push({
        evidenceSeq: cp.seq,
        firstBadSeq: Math.max(cp.seq, opts.fromSeq),
        kind: 'bad_checkpoint',
        detail:
          cp.chain_id !== opts.chainId
            ? `${where} is for the chain "${cp.chain_id}", not "${opts.chainId}"`
            : signature === 'unknown_key'
              ? `${where} names the key "${cp.key_id}", which is not a checkpoint key`
              : `${where} has a signature that does not verify (forged or altered)`,
      });
      continue;
    }
    const chainHmac = cp.seq === 0 ? GENESIS_HMAC : cp.chainHmac;
    if (cp.seq > opts.headSeq) {
      problems.push({
        evidenceSeq: cp.seq,
        firstBadSeq: opts.headSeq + 1,
        kind: 'truncated',
        detail: `the chain ends at seq ${opts.headSeq}, but ${where} covers entries up to ${cp.seq}: entries ${opts.headSeq + 1}-${cp.seq} were cut off`,
      });
    } else if (chainHmac !== cp.head_hmac) {
      problems.push({
        evidenceSeq: cp.seq,
        firstBadSeq: Math.max(goodSeq + 1, opts.fromSeq),
        kind: 'rollback',
        detail: `entry ${cp.seq} is not the one ${where} covers: the chain after seq ${goodSeq} was replaced by another history (a restored backup?)`,
      });
    } else {
      goodSeq = Math.max(goodSeq, cp.seq);
      if (!latest || cp.seq >= latest.seq)
        latest = { seq: cp.seq, signed_at: cp.signed_at, key_id: cp.key_id };
    }
  }
  return { problems, latest };
}

/** A problem a checkpoint shows: `firstBadSeq` is where it starts, `evidenceSeq` the checkpoint's seq. */
export type CheckpointProblem = ChainBreak & { evidenceSeq: number };

export interface CheckpointVerdict {
  problems: CheckpointProblem[];
  latest: CheckpointMatch | null;
}

/**
 * The chain's own result and the checkpoints' verdict, as one. A break in the chain names its seq
 * exactly, so a checkpoint's problem is reported instead only when that checkpoint lies before the break
 * (a rollback or truncation behind it, or a forged checkpoint); then the lowest such problem wins.
 */
export function combine(chain: VerifyResult, checkpoints: CheckpointVerdict): VerifyResult {
  const withLatest = checkpoints.latest ? { checkpoint: checkpoints.latest } : {};
  const before = checkpoints.problems
    .filter((p) => chain.ok || p.evidenceSeq < chain.firstBadSeq)
    .sort((a, b) => a.firstBadSeq - b.firstBadSeq);
  const first = before[0];
  if (first) {
    const { evidenceSeq: _evidence, ...problem } = first;
    return { ok: false, checked: chain.checked, ...problem, ...withLatest };
  }
  return { ...chain, ...withLatest };
}
