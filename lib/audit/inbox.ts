import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { type Db, rows, type Tx } from '@/db/client';
import { log } from '@/lib/log';
import {
  activeKey,
  type ChainHead,
  GENESIS,
  insertChained,
  type NewEntry,
  unchainedEntry,
  type UnchainedEntry,
} from './append';
import { canonicalJson } from './canonical';
import { HMAC_ROTATION, hmacEquals, isRotation } from './chain';
import { ChainHeadError, checkHead } from './head';
import { type HmacKeyRing, hmacKeyRing, reloadHmacKeyRing } from './keys';
import type { TreeEdge } from './merkle';
import { readEdge } from './tree';

export { HMAC_ROTATION };

/**
 * The audited write's half of the chain (docs/AUDIT.md, "Append path"). The business transaction inserts
 * its entries into audit_inbox, MAC'd with the active key, and commits without touching the chain lock,
 * so concurrent writes share their commits' fsyncs. chainPending then moves everything committed in the
 * inbox onto the chain, many entries a transaction, under the chain lock.
 */
export async function enqueueEntries(
  tx: Tx,
  entries: readonly NewEntry[],
  keys: HmacKeyRing = hmacKeyRing(),
): Promise<void> {
  const key = activeKey(keys);
  const now = new Date().toISOString();
  const unchained = entries.map((e) => unchainedEntry(e, now));
  await tx.execute(
    sql`insert into audit_inbox (entries, key_id, mac) values (${JSON.stringify(unchained)}::jsonb, ${keys.activeId}, ${inboxMac(key, unchained)})`,
  );
}

function inboxMac(key: Buffer, entries: readonly UnchainedEntry[]): string {
  return crypto.createHmac('sha256', key).update(canonicalJson(entries)).digest('hex');
}

const ROWS_PER_DRAIN = 2000;

/**
 * How long after a rotation an inbox row MAC'd with the key it retired is still taken: a replica hears of
 * the rotation within a tick (NOTIFY at once, else its ticker), and a write that began before may commit
 * after. Past that, only someone holding the retired key writes with it: such a row is rejected.
 */
export const ROTATION_GRACE_MS = 60_000;

/** What a drain knows of the head it chains onto, once checked: kept per process, until the head moves. */
interface TrustedHead {
  seq: number;
  hmac: string;
  /** The key in force after the head. */
  keyId: string;
  /** The newest genuine rotation: its retired key is still taken in the inbox for ROTATION_GRACE_MS. */
  rotation: { fromKeyId: string; occurredAtMs: number } | null;
}
const trustedHeads = new WeakMap<Db, TrustedHead>();

/**
 * The head this drain extends, and its key, from nothing it did not check: the head it left itself last
 * time, else one that checkHead verifies (HMAC, link, and the key the genuine rotation history puts in force).
 */
async function trustedHead(
  db: Db,
  tx: Tx,
  keys: HmacKeyRing,
  seq: number | null,
  hmac: string | null,
): Promise<TrustedHead> {
  const known = trustedHeads.get(db);
  if (known && known.seq === (seq ?? 0) && known.hmac === (hmac ?? GENESIS.hmac)) return known;
  const check = await checkHead(tx, keys);
  if (!check.ok) {
    log.error(
      { seq: check.seq, used_key_id: check.usedKeyId, expected_key_id: check.expectedKeyId },
      `audit chain: the head does not verify, nothing is chained onto it: ${check.problem}`,
    );
    throw new ChainHeadError(check);
  }
  const newest = check.history.rotations.at(-1);
  return {
    seq: check.head.seq,
    hmac: check.head.hmac,
    keyId: check.nextKeyId ?? keys.activeId,
    rotation: newest ? { fromKeyId: newest.fromKeyId, occurredAtMs: Date.parse(newest.occurredAt) } : null,
  };
}

/** The Merkle tree's right edge as this process's last drain left it, valid while the head is where it was. */
const trees = new WeakMap<Db, TreeEdge>();
let treeProblem: string | null = null;

/**
 * The tree's edge at the head `seq`, to extend in this drain: the one this process left, else read from the
 * tiles (another replica moved the head). Null when the tree does not cover the chain up to the head (it is
 * being built by catchUpTree, or is broken): the entries are then chained without it.
 */
async function treeAt(db: Db, tx: Tx, seq: number): Promise<TreeEdge | null> {
  const known = trees.get(db);
  if (known?.size === seq) return known;
  let edge: TreeEdge;
  try {
    edge = await readEdge(tx);
  } catch (err) {
    edge = { size: -1, partial: [] };
    noteTreeProblem(`the tiles do not form a tree: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (edge.size > seq) noteTreeProblem(`the tree holds ${edge.size} leaves but the chain ends at seq ${seq}`);
  if (edge.size !== seq) return null;
  treeProblem = null;
  return edge;
}

function noteTreeProblem(problem: string) {
  if (problem !== treeProblem)
    log.error(
      { problem },
      `audit: the Merkle tree is not extended, entries are chained without it: ${problem}`,
    );
  treeProblem = problem;
}

/**
 * Chains every inbox row committed before it started, in inbox order, and deletes them in the same
 * transaction. A row is chained as it stands only when its MAC verifies under the key in force (or, for
 * ROTATION_GRACE_MS after a rotation, the key it retired); otherwise an `audit.inbox_rejected` failure
 * entry takes its place and carries it. Refuses (ChainHeadError) to chain onto a head that does not verify.
 */
async function drain(db: Db, keys: HmacKeyRing): Promise<number> {
  let chained = 0;
  for (;;) {
    const moved = await db.transaction(async (tx) => {
      // The lock, the pending rows and the head, in one round trip (audit_inbox_take, migration 0015): this
      // transaction holds the lock that every writer of the chain needs, so each round trip here is one
      // that all of them wait for.
      const pending = await rows<{
        id: string | number;
        entries: unknown;
        key_id: string;
        mac: string;
        created_ms: string | number;
        head_seq: string | number | null;
        head_hmac: string | null;
      }>(tx, sql`select * from audit_inbox_take(${ROWS_PER_DRAIN})`);
      const first = pending[0];
      if (!first) return null;
      const trusted = await trustedHead(
        db,
        tx,
        keys,
        first.head_seq == null ? null : Number(first.head_seq),
        first.head_hmac,
      );
      // The chain, not this process, decides the key: the one in force after the trusted head, until a
      // rotation entry (itself MAC'd with the old key) names the next.
      let keyId = trusted.keyId;
      let rotation = trusted.rotation;
      const entries: NewEntry[] = [];
      for (const row of pending) {
        const got = typeof row.entries === 'string' ? (JSON.parse(row.entries) as unknown) : row.entries;
        const key = keys.keys.get(row.key_id);
        const macOk =
          key && Array.isArray(got) && hmacEquals(inboxMac(key, got as UnchainedEntry[]), row.mac);
        const inForce =
          row.key_id === keyId ||
          (rotation !== null &&
            row.key_id === rotation.fromKeyId &&
            Number(row.created_ms) <= rotation.occurredAtMs + ROTATION_GRACE_MS);
        if (macOk && inForce) {
          for (const e of got as NewEntry[]) {
            entries.push(e);
            if (isRotation(e)) {
              rotation = { fromKeyId: keyId, occurredAtMs: Date.parse(e.occurred_at ?? '') };
              keyId = e.target_id;
            }
          }
        } else {
          entries.push({
            action: 'audit.inbox_rejected',
            outcome: 'failure',
            diff: {
              reason: !key
                ? `unknown key id "${row.key_id}"`
                : !macOk
                  ? 'the MAC does not match the entries'
                  : `MACed with the key "${row.key_id}", which is not in force (the chain is on "${keyId}")`,
              inbox_id: Number(row.id),
              entries: got,
            },
          });
        }
      }
      let head: ChainHead = { seq: trusted.seq, hmac: trusted.hmac, tree: await treeAt(db, tx, trusted.seq) };
      let chainKey = trusted.keyId;
      const segments = splitAfterRotations(entries);
      for (const [i, segment] of segments.entries()) {
        // The inbox rows go with the last segment, once every entry they hold is on the chain.
        const consumed = i === segments.length - 1 ? pending.map((r) => Number(r.id)) : [];
        head = await insertChained(tx, segment, ringWith(keys, chainKey), head, consumed, head.tree ?? null);
        const last = segment.at(-1)!;
        if (isRotation(last)) chainKey = last.target_id;
      }
      const { tree, ...at } = head;
      return { count: pending.length, trusted: { ...at, keyId: chainKey, rotation }, tree };
    });
    if (moved) {
      trustedHeads.set(db, moved.trusted);
      if (moved.tree) trees.set(db, moved.tree);
      else trees.delete(db);
    }
    const count = moved?.count ?? 0;
    chained += count;
    if (count < ROWS_PER_DRAIN) return chained;
  }
}

/** Runs of entries, each ending after an HMAC key rotation (or at the end). */
function splitAfterRotations(entries: readonly NewEntry[]): NewEntry[][] {
  const runs: NewEntry[][] = [[]];
  for (const e of entries) {
    runs.at(-1)!.push(e);
    if (isRotation(e)) runs.push([]);
  }
  return runs.filter((r) => r.length > 0);
}

/** `keys` appending with `id`; re-reads the key file for a key it does not hold yet, and throws if still not. */
function ringWith(keys: HmacKeyRing, id: string): HmacKeyRing {
  const held = keys.keys.has(id) ? keys.keys : reloadHmacKeyRing().keys;
  if (!held.has(id))
    throw new Error(
      `The chain is on HMAC key "${id}", which audit-hmac-keys lacks: entries wait in the inbox`,
    );
  return { activeId: id, keys: held };
}

/**
 * The newest entry with this action that is committed in the inbox but not chained yet, if its inbox MAC
 * verifies: a key rotation counts from its commit, not from when a drain chains it.
 */
export async function newestPending(
  db: Db | Tx,
  action: string,
  keys: HmacKeyRing = hmacKeyRing(),
  /** Only rows MAC'd with this key count (the key in force: a retired key's rows are rejected by the drain). */
  keyId: string | null = null,
): Promise<UnchainedEntry | null> {
  const found = await rows<{ entries: unknown; key_id: string; mac: string }>(
    db,
    sql`select entries, key_id, mac from audit_inbox where entries @> ${JSON.stringify([{ action }])}::jsonb order by id desc limit 10`,
  );
  for (const row of found) {
    const got = (typeof row.entries === 'string' ? JSON.parse(row.entries) : row.entries) as UnchainedEntry[];
    const key = keys.keys.get(row.key_id);
    if ((keyId !== null && row.key_id !== keyId) || !key || !hmacEquals(inboxMac(key, got), row.mac))
      continue;
    const entry = got.findLast((e) => e.action === action && e.outcome === 'success');
    if (entry) return entry;
  }
  return null;
}

interface DrainState {
  running: Promise<number> | null;
  queued: Promise<number> | null;
}
const states = new WeakMap<Db, DrainState>();

/**
 * Resolves once every inbox row committed before the call is on the chain. Calls in one process share
 * drains: while one runs, later callers wait for a single next one, which starts after it and so after
 * their commits. Other processes' drains wait on the chain lock.
 */
export function chainPending(db: Db, keys: HmacKeyRing = hmacKeyRing()): Promise<number> {
  let state = states.get(db);
  if (!state) states.set(db, (state = { running: null, queued: null }));
  const s = state;
  if (!s.running) {
    s.running = drain(db, keys).finally(() => {
      s.running = null;
    });
    return s.running;
  }
  s.queued ??= s.running
    .catch(() => 0)
    .then(() => {
      s.queued = null;
      return chainPending(db, keys);
    });
  return s.queued;
}
