import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { type Db, rows, type Tx } from '@/db/client';
import {
  activeKey,
  type ChainHead,
  GENESIS,
  insertChained,
  lockChain,
  type NewEntry,
  unchainedEntry,
  type UnchainedEntry,
} from './append';
import { canonicalJson } from './canonical';
import { type ChainEntry, HMAC_ROTATION, hmacEquals, isRotation } from './chain';
import { type HmacKeyRing, hmacKeyRing, reloadHmacKeyRing } from './keys';

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
 * Chains every inbox row committed before it started, in inbox order, and deletes them in the same
 * transaction. A row whose MAC does not verify (changed in the database while it waited) is not chained
 * as it stands: an `audit.inbox_rejected` failure entry takes its place and carries it.
 */
async function drain(db: Db, keys: HmacKeyRing): Promise<number> {
  let chained = 0;
  for (;;) {
    const t0 = performance.now();
    const moved = await db.transaction(async (tx) => {
      await lockChain(tx);
      // The head comes with the pending rows, in one round trip: this transaction holds the lock that
      // every writer of the chain needs, so each round trip here is one that all of them wait for.
      const pending = await rows<{
        id: string | number;
        entries: unknown;
        key_id: string;
        mac: string;
        head_seq: string | number | null;
        head_hmac: string | null;
        head_key_id: string | null;
        head_action: string | null;
        head_outcome: ChainEntry['outcome'] | null;
        head_target_id: string | null;
      }>(
        tx,
        sql`with head as (select seq, hmac, hmac_key_id, action, outcome, target_id from audit_log order by seq desc limit 1)
            select i.id, i.entries, i.key_id, i.mac, h.seq as head_seq, h.hmac as head_hmac, h.hmac_key_id as head_key_id,
              h.action as head_action, h.outcome as head_outcome, h.target_id as head_target_id
            from audit_inbox i left join head h on true order by i.id limit ${ROWS_PER_DRAIN}`,
      );
      const first = pending[0];
      if (!first) return 0;
      const entries: NewEntry[] = [];
      for (const row of pending) {
        const got = typeof row.entries === 'string' ? (JSON.parse(row.entries) as unknown) : row.entries;
        const key = keys.keys.get(row.key_id);
        const ok = key && Array.isArray(got) && hmacEquals(inboxMac(key, got as UnchainedEntry[]), row.mac);
        if (ok) entries.push(...(got as NewEntry[]));
        else {
          entries.push({
            action: 'audit.inbox_rejected',
            outcome: 'failure',
            diff: {
              reason: key ? 'the MAC does not match the entries' : `unknown key id "${row.key_id}"`,
              inbox_id: Number(row.id),
              entries: got,
            },
          });
        }
      }
      let head: ChainHead =
        first.head_seq == null ? GENESIS : { seq: Number(first.head_seq), hmac: first.head_hmac! };
      let consumed = pending.map((r) => Number(r.id));
      // The chain, not this process, decides the key: the one of the head, until a rotation entry (itself
      // MAC'd with the old key) names the next. A replica that learns of a rotation late cannot MAC the
      // entries after it with the old key.
      const headEntry = {
        action: first.head_action as NewEntry['action'],
        outcome: first.head_outcome ?? undefined,
        target_id: first.head_target_id,
      };
      let keyId = isRotation(headEntry) ? headEntry.target_id : (first.head_key_id ?? keys.activeId);
      for (const segment of splitAfterRotations(entries)) {
        head = await insertChained(tx, segment, ringWith(keys, keyId), head, consumed);
        consumed = [];
        const last = segment.at(-1)!;
        if (isRotation(last)) keyId = last.target_id;
      }
      return pending.length;
    });
    chained += moved;
    if (process.env.DRAIN_PROF) console.error(`drain ${moved} in ${(performance.now() - t0).toFixed(1)} ms`);
    if (moved < ROWS_PER_DRAIN) return chained;
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
): Promise<UnchainedEntry | null> {
  const found = await rows<{ entries: unknown; key_id: string; mac: string }>(
    db,
    sql`select entries, key_id, mac from audit_inbox where entries @> ${JSON.stringify([{ action }])}::jsonb order by id desc limit 10`,
  );
  for (const row of found) {
    const got = (typeof row.entries === 'string' ? JSON.parse(row.entries) : row.entries) as UnchainedEntry[];
    const key = keys.keys.get(row.key_id);
    if (!key || !hmacEquals(inboxMac(key, got), row.mac)) continue;
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
