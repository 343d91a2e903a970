import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rows, type Tx } from '@/db/client';
import { AuditAction } from './actions';
import { type ChainEntry, entryHmac, GENESIS_HMAC } from './chain';
import { type HmacKeyRing, hmacKeyRing } from './keys';
import { extendTree, type TreeEdge } from './merkle';
import { redact } from './redact';
import { entryLeafHash, readEdge, tilesParam } from './tree';

/** One entry for appendEntries: the chain fields (seq, hmac_key_id, prev_hmac, hmac) are assigned by it. */
export type NewEntry = Partial<Omit<ChainEntry, 'seq' | 'hmac_key_id' | 'prev_hmac' | 'hmac'>> & {
  action: AuditAction;
};

// One jsonb parameter a statement, so Postgres's limit of 65535 bind parameters does not apply; the size
// only bounds the statement (a few MB).
const ROWS_PER_INSERT = 5000;
const ACTIONS = new Set<string>(AuditAction.options);
export const CHAIN_LOCK = 0x4155_4449; // "AUDI": the one advisory lock that serialises appends to the chain

/**
 * Appends entries to the chain in the caller's transaction, as its last step: takes the chain lock,
 * continues from the head with dense seq, and inserts in batches of 5000. Seeding and benchmarks append
 * through here; audited writes go through the inbox (inbox.ts), whose drain uses the same pieces. The lock
 * is held until the transaction ends, so it must be the last thing a transaction does.
 */
export async function appendEntries(
  tx: Tx,
  entries: readonly NewEntry[],
  keys: HmacKeyRing = hmacKeyRing(),
  /** `tree: false` leaves the Merkle tree behind, as a replica older than it would (bench:audit's catch-up). */
  opts: { tree?: boolean } = {},
): Promise<ChainHead> {
  activeKey(keys);
  for (const e of entries) if (!ACTIONS.has(e.action)) throw new Error(`Unknown audit action "${e.action}"`);
  await lockChain(tx);
  const [head] = await rows<{ seq: string | number; hmac: string }>(
    tx,
    sql`select seq, hmac from audit_log order by seq desc limit 1`,
  );
  const from = head ? { seq: Number(head.seq), hmac: head.hmac } : GENESIS;
  const tree = opts.tree === false ? null : await readEdge(tx).catch(() => null);
  return insertChained(tx, entries, keys, from, [], tree?.size === from.seq ? tree : null);
}

export interface ChainHead {
  seq: number;
  hmac: string;
  /** The Merkle tree's right edge when it covers the chain up to this head, else null. */
  tree?: TreeEdge | null;
}
export const GENESIS: ChainHead = { seq: 0, hmac: GENESIS_HMAC };

/**
 * Takes the chain lock until the transaction ends. A statement of its own: under READ COMMITTED the next
 * statement takes its snapshot after the lock is granted, so it sees the previous holder's entries.
 */
export async function lockChain(tx: Tx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${CHAIN_LOCK})`);
}

export function activeKey(keys: HmacKeyRing): Buffer {
  const key = keys.keys.get(keys.activeId);
  if (!key) throw new Error(`The active audit HMAC key ${keys.activeId} is not in the key ring`);
  return key;
}

/**
 * Chains `entries` after `head`, which the caller read under the chain lock, and inserts them. The last
 * statement also deletes `consumedInboxIds`, whose entries must all be on the chain by then (this call's
 * or an earlier one's in the transaction), so that the inbox rows go in the same statement as their
 * entries arrive. With `tree`, the Merkle tree's edge at the head, each statement also appends the entries'
 * leaves to the tree (the tiles it changes); without it the tree is left to catchUpTree.
 */
export async function insertChained(
  tx: Tx,
  entries: readonly NewEntry[],
  keys: HmacKeyRing,
  head: ChainHead,
  consumedInboxIds: readonly number[] = [],
  tree: TreeEdge | null = null,
): Promise<ChainHead> {
  const key = activeKey(keys);
  let seq = head.seq;
  let prev = head.hmac;
  let edge = tree?.size === head.seq ? tree : null;
  const now = new Date().toISOString();
  for (let start = 0; start < entries.length; start += ROWS_PER_INSERT) {
    const batch = entries.slice(start, start + ROWS_PER_INSERT).map((e) => {
      const row: Omit<ChainEntry, 'hmac'> = {
        ...unchainedEntry(e, now),
        seq: ++seq,
        hmac_key_id: keys.activeId,
        prev_hmac: prev,
      };
      prev = entryHmac(key, row);
      return { ...row, hmac: prev };
    });
    // One jsonb parameter instead of Drizzle's multi-row VALUES: building that statement costs more than the
    // HMACs and the insert together. audit_chain_append (migration 0015) is the only way into audit_log for
    // portal_app: it checks that the batch continues the head, and removes the inbox rows it carries.
    const ids = start + ROWS_PER_INSERT >= entries.length ? consumedInboxIds : [];
    let tiles: string | null = null;
    if (edge) {
      const extended = extendTree(edge, batch.map(entryLeafHash));
      edge = extended.edge;
      tiles = tilesParam(extended.writes);
    }
    await tx.execute(
      sql`select audit_chain_append(${`{${ids.join(',')}}`}::bigint[], ${JSON.stringify(batch)}::jsonb, ${tiles}::jsonb)`,
    );
  }
  return { seq, hmac: prev, tree: edge };
}

/** The fields of a chain entry that do not depend on its place in the chain. */
export type UnchainedEntry = Omit<ChainEntry, 'seq' | 'hmac_key_id' | 'prev_hmac' | 'hmac'>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const UUID_FIELDS = ['id', 'actor_staff_id', 'acting_org_id', 'acting_context_id', 'org_id'] as const;
const OUTCOMES = new Set<string>(['success', 'denied', 'failure']);

/**
 * The fields of an entry, with their defaults, checked as audit_log's columns would check them: an entry
 * waiting in the inbox must be one the chain can take.
 */
export function unchainedEntry(e: NewEntry, now: string): UnchainedEntry {
  if (!ACTIONS.has(e.action)) throw new Error(`Unknown audit action "${e.action}"`);
  for (const field of UUID_FIELDS) {
    const value = e[field];
    if (value != null && !UUID.test(value)) throw new Error(`Audit entry: ${field} is not a uuid`);
  }
  if (e.outcome != null && !OUTCOMES.has(e.outcome))
    throw new Error(`Audit entry: unknown outcome "${e.outcome}"`);
  if (e.occurred_at != null && Number.isNaN(Date.parse(e.occurred_at)))
    throw new Error('Audit entry: occurred_at is not a date');
  return {
    id: e.id ?? crypto.randomUUID(),
    // Stored with millisecond precision; toISOString is the form the verifier reads back.
    occurred_at: new Date(e.occurred_at ?? now).toISOString(),
    request_id: e.request_id ?? null,
    actor_staff_id: e.actor_staff_id ?? null,
    actor_email: e.actor_email ?? null,
    acting_org_id: e.acting_org_id ?? null,
    acting_context_id: e.acting_context_id ?? null,
    org_id: e.org_id ?? null,
    action: e.action,
    target_type: e.target_type ?? null,
    target_id: e.target_id ?? null,
    outcome: e.outcome ?? 'success',
    // The same redaction and JSON round trip as jsonb: the HMAC covers what jsonb gives back.
    diff: e.diff == null ? null : JSON.parse(JSON.stringify(redact(e.diff))),
    src_ip: e.src_ip ?? null,
    user_agent: e.user_agent ?? null,
    enforcement_action: e.enforcement_action ?? null,
    policy_rule_id: e.policy_rule_id ?? null,
    pack_id: e.pack_id ?? null,
    framework_ref: e.framework_ref ?? null,
  };
}
