import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rows, type Tx } from '@/db/client';
import { AuditAction } from './actions';
import { type ChainEntry, entryHmac, GENESIS_HMAC } from './chain';
import { type HmacKeyRing, hmacKeyRing } from './keys';
import { redact } from './redact';

/** One entry for appendEntries: the chain fields (seq, hmac_key_id, prev_hmac, hmac) are assigned by it. */
export type NewEntry = Partial<Omit<ChainEntry, 'seq' | 'hmac_key_id' | 'prev_hmac' | 'hmac'>> & {
  action: AuditAction;
};

// One jsonb parameter a statement, so Postgres's limit of 65535 bind parameters does not apply; the size
// only bounds the statement (a few MB).
const ROWS_PER_INSERT = 5000;
const ACTIONS = new Set<string>(AuditAction.options);
const CHAIN_LOCK = 0x4155_4449; // "AUDI": the one advisory lock that serialises appends to the chain

/**
 * Appends entries to the chain in the caller's transaction, as its last step: takes the chain lock,
 * continues from the head with dense seq, and inserts in batches of 5000. withAudit appends one entry
 * through here; seeding and benchmarks append many. The lock is held until the transaction ends, so it
 * must be the last thing a transaction does.
 */
export async function appendEntries(
  tx: Tx,
  entries: readonly NewEntry[],
  keys: HmacKeyRing = hmacKeyRing(),
): Promise<{ firstSeq: number; lastSeq: number; headHmac: string }> {
  const key = keys.keys.get(keys.activeId);
  if (!key) throw new Error(`The active audit HMAC key ${keys.activeId} is not in the key ring`);
  for (const e of entries) if (!ACTIONS.has(e.action)) throw new Error(`Unknown audit action "${e.action}"`);

  // A separate statement from the head read: under READ COMMITTED the read then takes its snapshot after
  // the lock is granted, so it sees the previous holder's committed entry.
  await tx.execute(sql`select pg_advisory_xact_lock(${CHAIN_LOCK})`);
  const [head] = await rows<{ seq: string | number; hmac: string }>(
    tx,
    sql`select seq, hmac from audit_log order by seq desc limit 1`,
  );
  let seq = head ? Number(head.seq) : 0;
  let prev = head?.hmac ?? GENESIS_HMAC;
  const firstSeq = seq + 1;
  const now = new Date().toISOString();

  for (let start = 0; start < entries.length; start += ROWS_PER_INSERT) {
    const batch = entries.slice(start, start + ROWS_PER_INSERT).map((e) => {
      const row: Omit<ChainEntry, 'hmac'> = {
        seq: ++seq,
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
        // The same redaction and JSON round trip as withAudit: the HMAC covers what jsonb gives back.
        diff: e.diff == null ? null : JSON.parse(JSON.stringify(redact(e.diff))),
        src_ip: e.src_ip ?? null,
        user_agent: e.user_agent ?? null,
        enforcement_action: e.enforcement_action ?? null,
        policy_rule_id: e.policy_rule_id ?? null,
        pack_id: e.pack_id ?? null,
        framework_ref: e.framework_ref ?? null,
        hmac_key_id: keys.activeId,
        prev_hmac: prev,
      };
      prev = entryHmac(key, row);
      return { ...row, hmac: prev };
    });
    // ChainEntry's fields are audit_log's column names. One jsonb parameter instead of Drizzle's multi-row
    // VALUES: building that statement costs more than the HMACs and the insert together.
    const columns = sql.raw(Object.keys(batch[0]!).join(', '));
    await tx.execute(
      sql`insert into audit_log (${columns}) select ${columns} from jsonb_populate_recordset(null::audit_log, ${JSON.stringify(batch)}::jsonb)`,
    );
  }
  return { firstSeq, lastSeq: seq, headHmac: prev };
}
