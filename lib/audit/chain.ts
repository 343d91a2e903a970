import crypto from 'node:crypto';
import { canonicalJson } from './canonical';
import { leafHash } from './merkle';

/** `prev_hmac` of the first entry: 32 zero bytes. */
export const GENESIS_HMAC = '0'.repeat(64);

/** One audit entry as it is chained: every column of audit_log, in its JSON form. */
export interface ChainEntry {
  seq: number;
  id: string;
  occurred_at: string;
  request_id: string | null;
  actor_staff_id: string | null;
  actor_email: string | null;
  acting_org_id: string | null;
  acting_context_id: string | null;
  org_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: 'success' | 'denied' | 'failure';
  diff: unknown;
  src_ip: string | null;
  user_agent: string | null;
  enforcement_action: string | null;
  policy_rule_id: string | null;
  pack_id: string | null;
  framework_ref: string | null;
  hmac_key_id: string;
  prev_hmac: string;
  hmac: string;
}

/** The chained columns: every column of audit_log but `hmac`, in RFC 8785 (UTF-16 code unit) order. */
const CHAINED_FIELDS = (
  [
    'seq',
    'id',
    'occurred_at',
    'request_id',
    'actor_staff_id',
    'actor_email',
    'acting_org_id',
    'acting_context_id',
    'org_id',
    'action',
    'target_type',
    'target_id',
    'outcome',
    'diff',
    'src_ip',
    'user_agent',
    'enforcement_action',
    'policy_rule_id',
    'pack_id',
    'framework_ref',
    'hmac_key_id',
    'prev_hmac',
  ] satisfies (keyof ChainEntry)[]
).sort();

/** Every column, hmac included, in RFC 8785 order: what a Merkle leaf covers. */
const LEAF_FIELDS = [...CHAINED_FIELDS, 'hmac' as const].sort();

/** RFC 8785 form of an entry without its hmac. Equal to canonicalJson of that object, but without copying it. */
export function canonicalEntry(entry: Omit<ChainEntry, 'hmac'>): string {
  return canonicalFields(entry, CHAINED_FIELDS);
}

/** RFC 8785 form of the whole entry, its hmac included: the bytes of its Merkle leaf (lib/audit/merkle.ts). */
export function canonicalChainedEntry(entry: ChainEntry): string {
  return canonicalFields(entry, LEAF_FIELDS);
}

function canonicalFields<E extends Partial<ChainEntry>>(
  entry: E,
  fields: readonly (keyof ChainEntry)[],
): string {
  let out = '{';
  for (const field of fields) {
    const value = entry[field];
    if (value === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}"${field}":${canonicalJson(value)}`;
  }
  return `${out}}`;
}

/** An entry's Merkle leaf hash: SHA-256(0x00 ‖ RFC 8785 of the whole entry, its hmac included). */
export function entryLeafHash(entry: ChainEntry): Buffer {
  return leafHash(canonicalChainedEntry(entry));
}

/** hmac_n = HMAC-SHA256(key[hmac_key_id_n], prev_hmac_n || RFC8785(entry_n without hmac)), hex. */
export function entryHmac(key: Buffer, entry: Omit<ChainEntry, 'hmac'>): string {
  return crypto
    .createHmac('sha256', key)
    .update(Buffer.from(entry.prev_hmac, 'hex'))
    .update(canonicalEntry(entry))
    .digest('hex');
}

export function hmacEquals(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && crypto.timingSafeEqual(x, y);
}

/** The entry that moves the chain to another HMAC key: its target_id names the key. */
export const HMAC_ROTATION = 'audit.hmac_key.rotated';

export function isRotation(e: {
  action: string;
  outcome?: string | null;
  target_id?: string | null;
}): e is { action: string; target_id: string } {
  return e.action === HMAC_ROTATION && (e.outcome ?? 'success') === 'success' && !!e.target_id;
}

/**
 * Key continuity: the key the entry after `e` must be MAC'd with. It is e's own key, unless e is a
 * successful rotation, which hands over to the key it names. A retired key therefore cannot MAC anything
 * that follows the rotation away from it.
 */
export function nextKeyId(e: Pick<ChainEntry, 'action' | 'outcome' | 'target_id' | 'hmac_key_id'>): string {
  return isRotation(e) ? e.target_id! : e.hmac_key_id;
}
