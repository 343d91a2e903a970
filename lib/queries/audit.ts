import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { type Db, rows } from '@/db/client';
import { type AuditFilter, filterConditions, resolveAuditSearch } from '@/lib/audit/filter';
import type { AuditAction } from '@/lib/audit/actions';
import { redact } from '@/lib/audit/redact';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { NotFoundError, parseInput } from '@/lib/errors';
import { text } from '@/lib/text';

/** How many entries one page of /audit shows. */
export const AUDIT_PAGE_SIZE = 50;

/** One audit entry as the explorer shows it: the diff redacted again, names looked up where rows remain. */
export interface AuditRow {
  seq: number;
  id: string;
  occurredAt: string;
  requestId: string | null;
  actorStaffId: string | null;
  actorEmail: string | null;
  /** The staff member's display name, when the staff row exists. */
  actorName: string | null;
  actingOrgId: string | null;
  actingOrgName: string | null;
  actingContextId: string | null;
  orgId: string | null;
  orgName: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  outcome: 'success' | 'denied' | 'failure';
  diff: unknown;
  srcIp: string | null;
  userAgent: string | null;
  hmacKeyId: string;
  prevHmac: string;
  hmac: string;
}

export interface AuditPage {
  rows: AuditRow[];
  /** The `after` cursor of the newer page, or null on the newest. */
  newer: number | null;
  /** The `before` cursor of the older page, or null on the oldest. */
  older: number | null;
}

const Cursor = z.object({
  before: z.preprocess(
    (v) => (v === '' ? undefined : v),
    text()
      .regex(/^[0-9]{1,15}$/, 'This page link is broken; start the search again.')
      .transform(Number)
      .optional(),
  ),
  after: z.preprocess(
    (v) => (v === '' ? undefined : v),
    text()
      .regex(/^[0-9]{1,15}$/, 'This page link is broken; start the search again.')
      .transform(Number)
      .optional(),
  ),
});

interface RawRow {
  seq: string;
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
  outcome: AuditRow['outcome'];
  diff: string | null;
  src_ip: string | null;
  user_agent: string | null;
  hmac_key_id: string;
  prev_hmac: string;
  hmac: string;
}

const COLUMNS = sql.raw(`a.seq::text as seq, a.id::text as id,
  to_char(a.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at,
  a.request_id, a.actor_staff_id::text as actor_staff_id, a.actor_email, a.acting_org_id::text as acting_org_id,
  a.acting_context_id::text as acting_context_id, a.org_id::text as org_id, a.action, a.target_type, a.target_id,
  a.outcome::text as outcome, a.diff::text as diff, a.src_ip, a.user_agent, a.hmac_key_id, a.prev_hmac, a.hmac`);

/**
 * One page of the audit log, newest first, with keyset paging on seq: `before` (older than that seq) or
 * `after` (newer). Every filter is an equality with an index on (column, seq), or a time range, so a page
 * costs an index range scan of about one page whatever the size of the log (docs/AUDIT.md has the plans).
 */
export async function listAudit(ctx: StaffCtx, raw: Record<string, unknown>): Promise<AuditPage> {
  requirePermission(ctx, 'audit.read');
  const filter = await resolveAuditSearch(ctx.db, raw);
  const cursor = parseInput(Cursor, { before: raw.before, after: raw.after });
  if (cursor.after !== undefined) {
    const found = await pageRows(ctx.db, filter, { after: cursor.after });
    // Newer entries than a full page: that page, shown newest first, with older and newer pages around it.
    if (found.length > AUDIT_PAGE_SIZE) {
      const page = found.slice(0, AUDIT_PAGE_SIZE).reverse();
      return {
        rows: await withNames(ctx.db, page),
        newer: Number(page[0]!.seq),
        older: Number(page.at(-1)!.seq),
      };
    }
    // Otherwise this is the newest end: show the newest page as it is now.
    cursor.before = undefined;
  }
  const found = await pageRows(ctx.db, filter, { before: cursor.before });
  const page = found.slice(0, AUDIT_PAGE_SIZE);
  const [first, last] = [page[0], page.at(-1)];
  return {
    rows: await withNames(ctx.db, page),
    newer: cursor.before !== undefined && first ? Number(first.seq) : null,
    older: found.length > AUDIT_PAGE_SIZE && last ? Number(last.seq) : null,
  };
}

/**
 * Up to one more row than a page from the cursor on, nearest the cursor first. Two steps: pick the page's
 * seqs (an index-only scan where the filters allow), then read those rows. With a time range the order is
 * (occurred_at, seq), which the occurred_at index serves; it is seq order wherever the clocks agree.
 */
async function pageRows(db: Db, f: AuditFilter, c: { before?: number; after?: number }): Promise<RawRow[]> {
  const byTime = f.from !== undefined || f.to !== undefined;
  const where = filterConditions(f);
  const cursorSeq = c.before ?? c.after;
  if (cursorSeq !== undefined) {
    const op = c.after !== undefined ? sql.raw('>') : sql.raw('<');
    where.push(
      byTime
        ? sql`(a.occurred_at, a.seq) ${op} ((select occurred_at from audit_log where seq = ${cursorSeq}), ${cursorSeq}::bigint)`
        : sql`a.seq ${op} ${cursorSeq}`,
    );
  }
  const dir = c.after !== undefined ? 'asc' : 'desc';
  const order = (t: string) =>
    sql.raw(byTime ? `${t}.occurred_at ${dir}, ${t}.seq ${dir}` : `${t}.seq ${dir}`);
  return rows<RawRow>(
    db,
    sql`with page as (
          select a.seq, a.occurred_at from audit_log a
          where ${where.length ? sql.join(where, sql` and `) : sql`true`}
          order by ${order('a')} limit ${AUDIT_PAGE_SIZE + 1})
        select ${COLUMNS} from page p join audit_log a on a.seq = p.seq
        order by ${order('p')}`,
  );
}

/** The names of the staff and organisations the rows mention, in two lookups, where the rows still exist. */
async function withNames(db: Db, raw: RawRow[]): Promise<AuditRow[]> {
  const staffIds = [...new Set(raw.flatMap((r) => (r.actor_staff_id ? [r.actor_staff_id] : [])))];
  const orgIds = [...new Set(raw.flatMap((r) => [r.org_id, r.acting_org_id].filter((x) => x !== null)))];
  const [staff, orgs] = await Promise.all([
    staffIds.length
      ? rows<{ id: string; name: string }>(
          db,
          sql`select id::text as id, display_name as name from staff_users where id = any(${uuidArray(staffIds)})`,
        )
      : [],
    orgIds.length
      ? rows<{ id: string; name: string }>(
          db,
          sql`select id::text as id, name from organizations where id = any(${uuidArray(orgIds)})`,
        )
      : [],
  ]);
  const staffName = new Map(staff.map((s) => [s.id, s.name]));
  const orgName = new Map(orgs.map((o) => [o.id, o.name]));
  return raw.map((r) => ({
    seq: Number(r.seq),
    id: r.id,
    occurredAt: r.occurred_at,
    requestId: r.request_id,
    actorStaffId: r.actor_staff_id,
    actorEmail: r.actor_email,
    actorName: r.actor_staff_id ? (staffName.get(r.actor_staff_id) ?? null) : null,
    actingOrgId: r.acting_org_id,
    actingOrgName: r.acting_org_id ? (orgName.get(r.acting_org_id) ?? null) : null,
    actingContextId: r.acting_context_id,
    orgId: r.org_id,
    orgName: r.org_id ? (orgName.get(r.org_id) ?? null) : null,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    outcome: r.outcome,
    // Redacted when written; again here, so that no entry shows a secret whatever wrote it.
    diff: r.diff === null ? null : redact(JSON.parse(r.diff)),
    srcIp: r.src_ip,
    userAgent: r.user_agent,
    hmacKeyId: r.hmac_key_id,
    prevHmac: r.prev_hmac,
    hmac: r.hmac,
  }));
}

/** A uuid[] parameter that both drivers bind the same way: a Postgres array literal. */
function uuidArray(ids: string[]) {
  return sql`${`{${ids.join(',')}}`}::uuid[]`;
}

export interface AuditEntryDetail {
  entry: AuditRow;
  staff: { id: string; email: string; displayName: string; role: string; status: string } | null;
  actingContext: {
    id: string;
    reason: string;
    ticketRef: string;
    startedAt: string;
    expiresAt: string;
    endedAt: string | null;
  } | null;
  /** The nearest seq below and above, or null at either end. */
  prevSeq: number | null;
  nextSeq: number | null;
}

const SeqParam = text()
  .regex(/^[0-9]{1,15}$/, 'An entry is named by its seq, a whole number.')
  .transform(Number);

/** One entry with both identities resolved where their rows remain, and its neighbours in the chain. */
export async function auditEntryDetail(ctx: StaffCtx, rawSeq: string): Promise<AuditEntryDetail> {
  requirePermission(ctx, 'audit.read');
  const seq = parseInput(SeqParam, rawSeq);
  const [row] = await rows<RawRow>(ctx.db, sql`select ${COLUMNS} from audit_log a where a.seq = ${seq}`);
  if (!row) throw new NotFoundError(`There is no audit entry ${seq}.`);
  // The context the entry was made in; for acting.started (made before the context existed), the one it started.
  const contextId =
    row.acting_context_id ??
    (row.target_type === 'acting_context' && row.target_id && z.uuid().safeParse(row.target_id).success
      ? row.target_id
      : null);
  const [[entry], staff, context, [neighbours]] = await Promise.all([
    withNames(ctx.db, [row]),
    row.actor_staff_id
      ? rows<{ id: string; email: string; display_name: string; role: string; status: string }>(
          ctx.db,
          sql`select id::text as id, email, display_name, role::text as role, status::text as status
              from staff_users where id = ${row.actor_staff_id}::uuid`,
        )
      : [],
    contextId
      ? rows<{
          id: string;
          reason: string;
          ticket_ref: string;
          started_at: string;
          expires_at: string;
          ended_at: string | null;
        }>(
          ctx.db,
          sql`select id::text as id, reason, ticket_ref, started_at::text as started_at,
                     expires_at::text as expires_at, ended_at::text as ended_at
              from acting_contexts where id = ${contextId}::uuid`,
        )
      : [],
    rows<{ prev: string | null; next: string | null }>(
      ctx.db,
      sql`select (select max(seq) from audit_log where seq < ${seq})::text as prev,
                 (select min(seq) from audit_log where seq > ${seq})::text as next`,
    ),
  ]);
  const s = staff[0];
  const c = context[0];
  return {
    entry: entry!,
    staff: s
      ? { id: s.id, email: s.email, displayName: s.display_name, role: s.role, status: s.status }
      : null,
    actingContext: c
      ? {
          id: c.id,
          reason: c.reason,
          ticketRef: c.ticket_ref,
          startedAt: new Date(c.started_at).toISOString(),
          expiresAt: new Date(c.expires_at).toISOString(),
          endedAt: c.ended_at ? new Date(c.ended_at).toISOString() : null,
        }
      : null,
    prevSeq: neighbours?.prev ? Number(neighbours.prev) : null,
    nextSeq: neighbours?.next ? Number(neighbours.next) : null,
  };
}

/** Staff e-mail addresses, for the explorer's suggestions (the staff table is small). */
export async function staffEmails(ctx: StaffCtx): Promise<string[]> {
  requirePermission(ctx, 'audit.read');
  const r = await rows<{ email: string }>(
    ctx.db,
    sql`select email from staff_users order by email limit 500`,
  );
  return r.map((x) => x.email);
}

/** The staff actions the GPU pool view marks on its charts' time axis. */
export const POOL_MARK_ACTIONS = [
  'org.outpost.inference_mode.updated',
  'org.suspended',
  'org.resumed',
] as const satisfies readonly AuditAction[];

export interface PoolMark {
  /** When (ISO). */
  at: string;
  action: (typeof POOL_MARK_ACTIONS)[number];
  orgId: string | null;
  orgName: string | null;
  /** The Outpost's name, for an inference mode change. */
  outpost: string | null;
  actorEmail: string | null;
}

/** How many marks one chart range shows at most (the newest). */
export const POOL_MARKS_LIMIT = 200;

/** The successful Outpost mode changes, suspensions and resumes between two moments, oldest first. */
export async function poolMarks(ctx: StaffCtx, from: Date, to: Date): Promise<PoolMark[]> {
  requirePermission(ctx, 'audit.read');
  const found = await rows<{
    at: string;
    action: PoolMark['action'];
    org_id: string | null;
    org_name: string | null;
    outpost: string | null;
    actor_email: string | null;
  }>(
    ctx.db,
    sql`select * from (
          select to_char(a.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, a.action,
            a.org_id::text as org_id, o.name as org_name, op.name as outpost, a.actor_email, a.seq
          from audit_log a
          left join organizations o on o.id = a.org_id
          left join outposts op on a.target_type = 'outpost' and op.id::text = a.target_id
          where a.action in (${sql.join(
            POOL_MARK_ACTIONS.map((x) => sql`${x}`),
            sql`, `,
          )})
            and a.outcome = 'success' and a.occurred_at >= ${from.toISOString()} and a.occurred_at <= ${to.toISOString()}
          order by a.occurred_at desc, a.seq desc limit ${POOL_MARKS_LIMIT}) m
        order by m.at, m.seq`,
  );
  return found.map((r) => ({
    at: r.at,
    action: r.action,
    orgId: r.org_id,
    orgName: r.org_name,
    outpost: r.outpost,
    actorEmail: r.actor_email,
  }));
}
