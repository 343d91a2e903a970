import { sql } from 'drizzle-orm';
import { type Db, rows } from '@/db/client';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { config } from '@/lib/config';
import { SPLUNK_SINK, sinkSettings } from '@/lib/siem/splunk';

export interface SiemStatus {
  /** Where events go (scheme, host and path of SPLUNK_HEC_URL), or null when delivery is off. */
  destination: string | null;
  /** Why delivery cannot run at all (the token is missing), or null. */
  problem: string | null;
  /** The last seq Splunk accepted (0: none yet). */
  deliveredSeq: number;
  headSeq: number;
  /** Entries not delivered yet. */
  lagEntries: number;
  /** When the oldest entry not yet delivered was written, or null when there is none. */
  oldestPendingAt: string | null;
  lastSuccessAt: string | null;
  lastAttemptAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  failures: number;
  nextAttemptAt: string | null;
  /** The replica delivering, while its lease lasts. */
  leaseOwner: string | null;
  leaseUntil: string | null;
}

const iso = (v: string | null | undefined) => (v ? new Date(v).toISOString() : null);

/** The SIEM deliverer's state as the cursor row and the chain's head show it; readable by every role. */
export async function siemStatus(ctx: StaffCtx): Promise<SiemStatus> {
  requirePermission(ctx, 'audit.read');
  return readSiemStatus(ctx.db);
}

export async function readSiemStatus(db: Db): Promise<SiemStatus> {
  const url = config().SPLUNK_HEC_URL;
  const [row] = await rows<{
    delivered_seq: string;
    head_seq: string;
    oldest_pending_at: string | null;
    last_success_at: string | null;
    last_attempt_at: string | null;
    last_error: string | null;
    last_error_at: string | null;
    failures: number;
    next_attempt_at: string | null;
    lease_owner: string | null;
    lease_until: string | null;
  }>(
    db,
    sql`with c as (select * from siem_cursor where sink = ${SPLUNK_SINK}),
             d as (select coalesce((select delivered_seq from c), 0) as seq)
        select d.seq::text as delivered_seq,
               coalesce((select max(seq) from audit_log), 0)::text as head_seq,
               (select occurred_at::text from audit_log where seq > d.seq order by seq limit 1) as oldest_pending_at,
               c.last_success_at::text as last_success_at, c.last_attempt_at::text as last_attempt_at,
               c.last_error, c.last_error_at::text as last_error_at, coalesce(c.failures, 0) as failures,
               c.next_attempt_at::text as next_attempt_at,
               case when c.lease_until > now() then c.lease_owner end as lease_owner,
               case when c.lease_until > now() then c.lease_until::text end as lease_until
        from d left join c on true`,
  );
  const delivered = Number(row?.delivered_seq ?? 0);
  const head = Number(row?.head_seq ?? 0);
  let destination: string | null = null;
  let problem: string | null = null;
  if (url) {
    const u = new URL(url);
    destination = `${u.protocol}//${u.host}${u.pathname}`;
    try {
      sinkSettings();
    } catch (err) {
      problem = (err as Error).message; // names the secret and where it was looked for, never a value
    }
  }
  return {
    destination,
    problem,
    deliveredSeq: delivered,
    headSeq: head,
    lagEntries: Math.max(0, head - delivered),
    oldestPendingAt: iso(row?.oldest_pending_at),
    lastSuccessAt: iso(row?.last_success_at),
    lastAttemptAt: iso(row?.last_attempt_at),
    lastError: row?.last_error ?? null,
    lastErrorAt: iso(row?.last_error_at),
    failures: row?.failures ?? 0,
    nextAttemptAt: iso(row?.next_attempt_at),
    leaseOwner: row?.lease_owner ?? null,
    leaseUntil: iso(row?.lease_until),
  };
}
