import { sql } from 'drizzle-orm';
import type { ChainEntry } from './chain';

// Formatted in SQL so that both drivers hand back the same strings the HMAC was computed over.
export const ENTRY_COLUMNS = sql.raw(`seq::text as seq, id::text as id,
  to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at,
  request_id, actor_staff_id::text as actor_staff_id, actor_email, acting_org_id::text as acting_org_id,
  acting_context_id::text as acting_context_id, org_id::text as org_id, action, target_type, target_id,
  outcome::text as outcome, diff::text as diff, src_ip, user_agent, enforcement_action, policy_rule_id, pack_id,
  framework_ref, hmac_key_id, prev_hmac, hmac`);

export type RawRow = Omit<ChainEntry, 'seq' | 'diff'> & { seq: string; diff: string | null };

export function toEntry(r: RawRow): ChainEntry {
  return { ...r, seq: Number(r.seq), diff: r.diff === null ? null : JSON.parse(r.diff) };
}
