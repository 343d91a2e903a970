import { sql } from 'drizzle-orm';
import { type Db, rows } from '@/db/client';
import { type NewEntry, unchainedEntry } from '@/lib/audit/append';
import { type ChainEntry, entryHmac, GENESIS_HMAC } from '@/lib/audit/chain';
import { hmacKeyRing } from '@/lib/audit/keys';
import { readEntries } from '@/lib/audit/verify';

/**
 * What an attacker who holds an HMAC key of the ring (say a retired, leaked one) writes: an entry at the
 * head, linked to it and MAC'd with that key, inserted straight into audit_log. Needs INSERT on audit_log,
 * which only the table's owner or a superuser has (migration 0015).
 */
export async function forgeAtHead(db: Db, keyId: string, fields: NewEntry): Promise<ChainEntry> {
  const [top] = await rows<{ seq: string | null }>(db, sql`select max(seq)::text as seq from audit_log`);
  const headSeq = Number(top?.seq ?? 0);
  const [head] = headSeq > 0 ? await readEntries(db, headSeq - 1, headSeq, 1) : [];
  const key = hmacKeyRing().keys.get(keyId);
  if (!key) throw new Error(`no test key ${keyId}`);
  const row: Omit<ChainEntry, 'hmac'> = {
    ...unchainedEntry(fields, new Date().toISOString()),
    seq: (head?.seq ?? 0) + 1,
    hmac_key_id: keyId,
    prev_hmac: head?.hmac ?? GENESIS_HMAC,
  };
  const forged: ChainEntry = { ...row, hmac: entryHmac(key, row) };
  await db.execute(
    sql`insert into audit_log select * from jsonb_populate_recordset(null::audit_log, ${JSON.stringify([forged])}::jsonb)`,
  );
  return forged;
}
