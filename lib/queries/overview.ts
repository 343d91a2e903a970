import { sql } from 'drizzle-orm';
import { rows } from '@/db/client';
import { readCheckpoints } from '@/lib/audit/checkpoint';
import { can, requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { config } from '@/lib/config';
import { PoolNotConfiguredError, PoolUnavailableError, poolSnapshot } from '@/lib/pool';
import type { PoolAlert, UnknownAlert } from '@/lib/pool/snapshot';
import { approvalCounts } from '@/lib/queries/approvals';
import { brokenHead, chainHead, type RunView, recentVerifyRuns } from '@/lib/queries/audit-chain';
import { type SiemStatus, siemStatus } from '@/lib/queries/siem';
import { LIMIT_COLUMNS, LIMIT_KEYS, type LimitKey } from '@/lib/rate-limits';

/**
 * The overview (`/`): one figure per concern, each read by the query its own page uses, and each only for a
 * role that may read that page. A section is `null` when the role may not read it.
 */
export interface Overview {
  acting: OpenActing[] | null;
  orgs: { suspended: number; suspendedList: OrgMention[]; blocked: number; blockedList: BlockedOrg[] } | null;
  pool: PoolState | null;
  chain: ChainState | null;
  siem: SiemStatus | null;
  audit: NewestEntry[] | null;
  /** Requests waiting for this person, and writes applied under break-glass that no one has reviewed. */
  approvals: { waitingForYou: number; breakGlassUnreviewed: number };
}

export interface OpenActing {
  id: string;
  staffEmail: string;
  orgId: string;
  orgName: string;
  ticketRef: string;
  startedAt: string;
  expiresAt: string;
}

export interface OrgMention {
  id: string;
  name: string;
  slug: string;
}

export interface BlockedOrg extends OrgMention {
  /** The effective limits that are 0, in LIMIT_KEYS order. */
  zero: LimitKey[];
}

/**
 * The pool as far as the portal can tell: `unknown` when Prometheus is not configured or did not answer
 * (never an all-clear), otherwise the alerts that fire and those that cannot be evaluated.
 */
export type PoolState =
  | { state: 'unknown'; reason: string }
  | { state: 'read'; asOf: string; alerts: PoolAlert[]; unknown: UnknownAlert[] };

export interface ChainState {
  headSeq: number;
  /** The drain's own check of the head; null when it verifies. */
  broken: { seq: number; problem: string; waiting: number } | null;
  lastCheckpoint: { seq: number; signedAt: string } | null;
  checkpointEveryS: number;
  /** The newest verification run; undefined when the role may not verify (audit.verify), null when none ran. */
  lastRun: RunView | null | undefined;
}

export interface NewestEntry {
  seq: number;
  occurredAt: string;
  action: string;
  actorEmail: string | null;
  orgId: string | null;
  orgName: string | null;
  outcome: 'success' | 'denied' | 'failure';
}

/** How many rows each list of the overview shows; the figures count them all. */
export const OVERVIEW_LIST = 5;
/** How many of the newest audit entries the overview shows. */
export const OVERVIEW_AUDIT = 8;

export async function overview(ctx: StaffCtx): Promise<Overview> {
  const role = ctx.role;
  const [acting, orgs, pool, chain, siem, audit, approvals] = await Promise.all([
    can(role, 'acting.list') ? openActingContexts(ctx) : null,
    can(role, 'orgs.read') ? orgsNeedingAttention(ctx) : null,
    can(role, 'pool.read') ? poolState(ctx) : null,
    can(role, 'audit.read') ? chainState(ctx) : null,
    can(role, 'audit.read') ? siemStatus(ctx) : null,
    can(role, 'audit.read') ? newestEntries(ctx) : null,
    approvalCounts(ctx),
  ]);
  return { acting, orgs, pool, chain, siem, audit, approvals };
}

/** Acting contexts open now (not ended, not past their expiry), the soonest to expire first. */
export async function openActingContexts(ctx: StaffCtx): Promise<OpenActing[]> {
  requirePermission(ctx, 'acting.list');
  const found = await rows<{
    id: string;
    staff_email: string;
    org_id: string;
    org_name: string;
    ticket_ref: string;
    started_at: Date | string;
    expires_at: Date | string;
  }>(
    ctx.db,
    sql`select ac.id::text as id, s.email as staff_email, o.id::text as org_id, o.name as org_name,
          ac.ticket_ref, ac.started_at, ac.expires_at
        from acting_contexts ac
        join staff_users s on s.id = ac.staff_id
        join organizations o on o.id = ac.org_id
        where ac.ended_at is null and ac.expires_at > now()
        order by ac.expires_at, ac.id`,
  );
  return found.map((r) => ({
    id: r.id,
    staffEmail: r.staff_email,
    orgId: r.org_id,
    orgName: r.org_name,
    ticketRef: r.ticket_ref,
    startedAt: new Date(r.started_at).toISOString(),
    expiresAt: new Date(r.expires_at).toISOString(),
  }));
}

const ANY_ZERO = (alias: string) =>
  sql.raw(`0 in (${LIMIT_KEYS.map((k) => `${alias}.${LIMIT_COLUMNS[k]}`).join(', ')})`);

/**
 * Suspended organisations (the kill switch) and blocked ones (an effective limit of 0, which blocks as the
 * kill switch does). Blocked candidates come from the rows that can hold a 0 (the organisation's own limits,
 * a live override, a tier default), so the view is evaluated for those only, not for every organisation.
 */
export async function orgsNeedingAttention(ctx: StaffCtx): Promise<NonNullable<Overview['orgs']>> {
  requirePermission(ctx, 'orgs.read');
  const [suspended, blocked] = await Promise.all([
    rows<{ id: string; name: string; slug: string; total: number }>(
      ctx.db,
      sql`select o.id::text as id, o.name, o.slug, count(*) over ()::int as total
          from organizations o where o.status = 'suspended'
          order by lower(o.name) collate "C", o.id limit ${OVERVIEW_LIST}`,
    ),
    rows<{ id: string; name: string; slug: string; zero: string; total: number }>(
      ctx.db,
      sql`with candidates as (
            select r.org_id from rate_limits r where ${ANY_ZERO('r')}
            union
            select x.org_id from rate_limit_overrides x
              where x.revoked_at is null and x.starts_at <= now() and x.expires_at > now() and ${ANY_ZERO('x')}
            union
            select o.id from organizations o join plan_tiers t on t.key = o.plan_tier where ${ANY_ZERO('t')}
          )
          select o.id::text as id, o.name, o.slug, count(*) over ()::int as total,
                 concat_ws(',', ${sql.raw(
                   LIMIT_KEYS.map((k) => `case when c.${LIMIT_COLUMNS[k]} = 0 then '${k}' end`).join(', '),
                 )}) as zero
          from platform_org_config c
          join organizations o on o.id = c.org_id
          where c.org_id in (select org_id from candidates) and ${ANY_ZERO('c')}
          order by lower(o.name) collate "C", o.id limit ${OVERVIEW_LIST}`,
    ),
  ]);
  return {
    suspended: suspended[0]?.total ?? 0,
    suspendedList: suspended.map(({ id, name, slug }) => ({ id, name, slug })),
    blocked: blocked[0]?.total ?? 0,
    blockedList: blocked.map(({ id, name, slug, zero }) => ({
      id,
      name,
      slug,
      zero: zero.split(',').filter(Boolean) as LimitKey[],
    })),
  };
}

/** The pool's alerts through poolSnapshot, or why the portal cannot tell. */
export async function poolState(ctx: StaffCtx): Promise<PoolState> {
  requirePermission(ctx, 'pool.read');
  try {
    const s = await poolSnapshot(ctx);
    return { state: 'read', asOf: s.asOf, alerts: s.alerts, unknown: s.unknown };
  } catch (err) {
    if (err instanceof PoolNotConfiguredError || err instanceof PoolUnavailableError)
      return { state: 'unknown', reason: err.message };
    throw err;
  }
}

/** The chain's head and its check, the newest checkpoint, and (for audit.verify) the newest verification. */
export async function chainState(ctx: StaffCtx): Promise<ChainState> {
  requirePermission(ctx, 'audit.read');
  const [headSeq, broken, [checkpoint], runs] = await Promise.all([
    chainHead(ctx),
    brokenHead(ctx),
    readCheckpoints(ctx.db, { newestFirst: true, limit: 1 }),
    can(ctx.role, 'audit.verify') ? recentVerifyRuns(ctx, 1) : undefined,
  ]);
  return {
    headSeq,
    broken,
    lastCheckpoint: checkpoint ? { seq: checkpoint.seq, signedAt: checkpoint.signed_at } : null,
    checkpointEveryS: config().AUDIT_CHECKPOINT_EVERY_S,
    lastRun: runs === undefined ? undefined : (runs[0] ?? null),
  };
}

/** The newest audit entries, newest first, with the organisation's name where it still exists. */
export async function newestEntries(ctx: StaffCtx, limit = OVERVIEW_AUDIT): Promise<NewestEntry[]> {
  requirePermission(ctx, 'audit.read');
  const found = await rows<{
    seq: string;
    occurred_at: string;
    action: string;
    actor_email: string | null;
    org_id: string | null;
    org_name: string | null;
    outcome: NewestEntry['outcome'];
  }>(
    ctx.db,
    sql`select a.seq::text as seq,
          to_char(a.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at,
          a.action, a.actor_email, a.org_id::text as org_id, o.name as org_name, a.outcome::text as outcome
        from (select * from audit_log order by seq desc limit ${limit}) a
        left join organizations o on o.id = a.org_id
        order by a.seq desc`,
  );
  return found.map((r) => ({
    seq: Number(r.seq),
    occurredAt: r.occurred_at,
    action: r.action,
    actorEmail: r.actor_email,
    orgId: r.org_id,
    orgName: r.org_name,
    outcome: r.outcome,
  }));
}
