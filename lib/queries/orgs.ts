import { and, desc, eq, getTableColumns, gt, gte, isNull, type SQL, sql } from 'drizzle-orm';
import { z } from 'zod';
import { rows, type Tx } from '@/db/client';
import {
  auditLog,
  enterpriseEntitlements,
  organizations,
  orgMfaPolicy,
  outposts,
  planTiers,
  rateLimitOverrides,
  rateLimits,
  staffUsers,
  supportNotes,
  usageMonthly,
} from '@/db/schema';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { NotFoundError, parseInput } from '@/lib/errors';
import { type MfaMethod, PLAN_TIERS, type PlanTier } from '@/lib/plans';
import { orgConfig } from '@/lib/queries/org-config';
import { text } from '@/lib/text';

/** How many organisations one page of /orgs shows, unless the search asks for another of PAGE_SIZES. */
export const ORGS_PAGE_SIZE = 50;
export const PAGE_SIZES = ['10', '25', '50', '100'] as const;

const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/** A position in the list: the sort key `(lower(name) collate "C", id)` of a row, as a URL-safe string. */
export interface OrgCursor {
  key: string;
  id: string;
}

export function encodeOrgCursor(c: OrgCursor): string {
  return Buffer.from(JSON.stringify([c.key, c.id])).toString('base64url');
}

const BROKEN_CURSOR = 'This page link is broken; start the search again.';
const CursorShape = z.tuple([text(), z.uuid()]);
const Cursor = text()
  .max(2000, BROKEN_CURSOR)
  .transform((s, ctx): OrgCursor => {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    } catch {
      decoded = null;
    }
    const parsed = CursorShape.safeParse(decoded);
    if (!parsed.success) {
      ctx.addIssue({ code: 'custom', message: BROKEN_CURSOR });
      return z.NEVER;
    }
    return { key: parsed.data[0], id: parsed.data[1] };
  });

/** The /orgs search as its URL carries it; empty fields (an unset select, say) mean "any". */
export const OrgSearch = z
  .object({
    q: z.preprocess(blank, text().trim().max(200, 'Search for at most 200 characters.').optional()),
    tier: z.preprocess(
      blank,
      z.enum(PLAN_TIERS, { error: `The tier must be one of ${PLAN_TIERS.join(', ')}.` }).optional(),
    ),
    status: z.preprocess(
      blank,
      z.enum(['active', 'suspended'], { error: 'The status must be active or suspended.' }).optional(),
    ),
    over: z.preprocess(
      blank,
      z.literal('1', { error: 'The over-quota filter is either 1 (on) or absent.' }).optional(),
    ),
    size: z.preprocess(
      blank,
      z
        .enum(PAGE_SIZES, { error: `The page size must be one of ${PAGE_SIZES.join(', ')}.` })
        .transform(Number)
        .default(ORGS_PAGE_SIZE),
    ),
    after: z.preprocess(blank, Cursor.optional()),
    before: z.preprocess(blank, Cursor.optional()),
  })
  .refine((f) => !(f.after && f.before), {
    error: 'A page link has either after or before, not both.',
    path: ['before'],
  });
export type OrgSearchInput = z.input<typeof OrgSearch>;

export interface OrgListRow {
  id: string;
  name: string;
  slug: string;
  planTier: PlanTier;
  status: 'active' | 'suspended';
  mfaRequired: boolean;
  mfaMethods: MfaMethod[];
  mfaSource: 'tier' | 'org';
  /** The effective monthly request quota (platform_org_config). */
  quota: number;
  /** This month's requests so far; null when the platform has recorded none. */
  requests: number | null;
  overQuota: boolean;
}

export interface OrgListPage {
  rows: OrgListRow[];
  /** The `before` cursor of the previous page, or null on the first page. */
  prev: string | null;
  /** The `after` cursor of the next page, or null on the last page. */
  next: string | null;
}

interface RawOrgRow {
  id: string;
  name: string;
  slug: string;
  plan_tier: PlanTier;
  status: 'active' | 'suspended';
  sort_key: string;
  mfa_required: boolean;
  mfa_methods: string;
  mfa_source: 'tier' | 'org';
  quota: number;
  requests: number | null;
}

/** The list's sort key; the organizations_* indexes are built on this exact expression. */
const SORT_KEY = sql.raw(`(lower(o.name) collate "C")`);
/** The current month as usage_monthly stores it (the platform counts months in UTC). */
const THIS_MONTH = sql.raw(`(date_trunc('month', now() at time zone 'UTC'))::date`);

const OVER_QUOTA = sql`select c.org_id from platform_org_config c
  join usage_monthly u on u.org_id = c.org_id and u.month = ${THIS_MONTH}
  where u.requests > c.monthly_request_quota`;

/**
 * One page of organisations for /orgs, in (lower(name), id) order with keyset pagination: search by name
 * prefix (case-insensitive), exact slug or exact id; filter by tier, status and over quota. Candidates
 * are picked from organizations alone (the indexes return them in order), and platform_org_config is
 * joined for the page's rows only, except for the over-quota filter, which needs the effective quota.
 */
export async function listOrgs(ctx: StaffCtx, raw: unknown): Promise<OrgListPage> {
  requirePermission(ctx, 'orgs.read');
  const f = parseInput(OrgSearch, raw);
  let backwards = f.before !== undefined;
  let after = f.after;
  let found = await pageRows(ctx, f, backwards ? 'before' : 'after', f.before ?? f.after);
  // Going back can land short of a full page at the start (rows renamed or added meanwhile): show the
  // first page as it is now instead.
  if (backwards && found.length < f.size) {
    backwards = false;
    after = undefined;
    found = await pageRows(ctx, f, 'after', undefined);
  }
  const more = found.length > f.size;
  const page = found.slice(0, f.size);
  if (backwards) page.reverse();
  const cursor = (r: RawOrgRow | undefined) => (r ? encodeOrgCursor({ key: r.sort_key, id: r.id }) : null);
  const [first, last] = [page[0], page.at(-1)];
  return {
    rows: page.map(toRow),
    prev: backwards ? (more ? cursor(first) : null) : after ? cursor(first) : null,
    next: backwards || more ? cursor(last) : null,
  };
}

type OrgFilters = Pick<z.infer<typeof OrgSearch>, 'q' | 'tier' | 'status' | 'over' | 'size'>;

/** Up to one more row than a page, from `cursor` on in the direction given, nearest first. */
async function pageRows(
  ctx: StaffCtx,
  f: OrgFilters,
  direction: 'after' | 'before',
  cursor: OrgCursor | undefined,
): Promise<RawOrgRow[]> {
  const order = direction === 'after' ? sql.raw('asc') : sql.raw('desc');
  const filters: SQL[] = [];
  if (f.tier) filters.push(sql`o.plan_tier = ${f.tier}`);
  if (f.status) filters.push(sql`o.status = ${f.status}`);
  // The over-quota set is worked out whole first (hash joins over every organisation with usage this
  // month), then paged: walked in name order instead, the view would be evaluated for each organisation
  // until a page fills, which is every organisation when few are over quota.
  if (f.over) filters.push(sql`o.id in (select org_id from over_quota)`);
  if (cursor) {
    const op = direction === 'after' ? sql.raw('>') : sql.raw('<');
    filters.push(sql`(${SORT_KEY}, o.id) ${op} (${cursor.key}::text collate "C", ${cursor.id}::uuid)`);
  }
  const candidates = (match: SQL) => sql`
    select o.id, ${SORT_KEY} as sort_key
    from organizations o
    where ${sql.join([match, ...filters], sql` and `)}
    order by 2 ${order}, 1 ${order}
    limit ${f.size + 1}`;

  let picked: SQL;
  const q = f.q;
  if (q === undefined) {
    picked = candidates(sql`true`);
  } else if (z.uuid().safeParse(q).success) {
    picked = candidates(sql`o.id = ${q.toLowerCase()}::uuid`);
  } else {
    // A prefix as a range of the C-collated key, which an index scan serves whether or not the plan is
    // generic (LIKE with a bound pattern is not indexable then). Every string that starts with p lies in
    // [p, p || U+10FFFF), and no other does.
    const prefix = sql`${SORT_KEY} >= lower(${q}) collate "C" and ${SORT_KEY} < (lower(${q}) || chr(1114111)) collate "C"`;
    // Two branches rather than an OR, so that each keeps its index order and stops after one page.
    picked = sql`(${candidates(prefix)}) union all (${candidates(
      sql`o.slug = ${q.toLowerCase()} and not (${prefix})`,
    )}) order by 2 ${order}, 1 ${order} limit ${f.size + 1}`;
  }

  return rows<RawOrgRow>(
    ctx.db,
    sql`with ${f.over ? sql`over_quota as materialized (${OVER_QUOTA}), ` : sql``}page as (${picked})
      select o.id, o.name, o.slug, o.plan_tier, o.status, page.sort_key,
             c.mfa_required, array_to_string(c.mfa_allowed_methods, ',') as mfa_methods, c.mfa_source,
             c.monthly_request_quota::float8 as quota, u.requests::float8 as requests
      from page
      join organizations o on o.id = page.id
      join platform_org_config c on c.org_id = page.id
      left join usage_monthly u on u.org_id = page.id and u.month = ${THIS_MONTH}
      order by page.sort_key ${order}, page.id ${order}`,
  );
}

function toRow(r: RawOrgRow): OrgListRow {
  return {
    id: r.id,
    name: r.name,
    slug: r.slug,
    planTier: r.plan_tier,
    status: r.status,
    mfaRequired: r.mfa_required,
    mfaMethods: r.mfa_methods.split(',').filter(Boolean) as MfaMethod[],
    mfaSource: r.mfa_source,
    quota: r.quota,
    requests: r.requests,
    overQuota: r.requests !== null && r.requests > r.quota,
  };
}

/**
 * Everything /orgs/[id] shows, read in one read-only snapshot: the `version` the forms send back belongs
 * to the values they show, and the reads go down one connection together (postgres.js pipelines them).
 */
export async function orgDetail(ctx: StaffCtx, orgId: string) {
  requirePermission(ctx, 'orgs.read');
  return ctx.db.transaction((tx) => readOrgDetail(tx, orgId), {
    isolationLevel: 'repeatable read',
    accessMode: 'read only',
  });
}

async function readOrgDetail(db: Tx, orgId: string) {
  const [org] = await db.select().from(organizations).where(eq(organizations.id, orgId));
  if (!org) throw new NotFoundError('No such organisation.');
  const [
    config,
    [tier],
    [mfaOverride],
    [limits],
    overrides,
    [entitlements],
    orgOutposts,
    usage,
    notes,
    audit,
  ] = await Promise.all([
    orgConfig(db, orgId),
    db.select().from(planTiers).where(eq(planTiers.key, org.planTier)),
    db.select().from(orgMfaPolicy).where(eq(orgMfaPolicy.orgId, orgId)),
    db.select().from(rateLimits).where(eq(rateLimits.orgId, orgId)),
    liveOverrides(db, orgId),
    db.select().from(enterpriseEntitlements).where(eq(enterpriseEntitlements.orgId, orgId)),
    db.select().from(outposts).where(eq(outposts.orgId, orgId)).orderBy(outposts.name),
    db
      .select({ month: usageMonthly.month, requests: usageMonthly.requests, tokens: usageMonthly.tokens })
      .from(usageMonthly)
      .where(
        and(
          eq(usageMonthly.orgId, orgId),
          gte(usageMonthly.month, sql`date_trunc('month', now()) - interval '11 months'`),
        ),
      )
      .orderBy(usageMonthly.month),
    db
      .select({
        id: supportNotes.id,
        body: supportNotes.body,
        createdAt: supportNotes.createdAt,
        author: staffUsers.email,
      })
      .from(supportNotes)
      .innerJoin(staffUsers, eq(staffUsers.id, supportNotes.staffId))
      .where(eq(supportNotes.orgId, orgId))
      .orderBy(desc(supportNotes.createdAt))
      .limit(50),
    db
      .select({
        seq: auditLog.seq,
        occurredAt: auditLog.occurredAt,
        action: auditLog.action,
        actorEmail: auditLog.actorEmail,
        outcome: auditLog.outcome,
        diff: auditLog.diff,
      })
      .from(auditLog)
      .where(eq(auditLog.orgId, orgId))
      .orderBy(desc(auditLog.seq))
      .limit(50),
  ]);
  return {
    org,
    config: config!,
    tier: tier!,
    mfaOverride: mfaOverride ?? null,
    limits: limits ?? null,
    overrides,
    entitlements: entitlements ?? null,
    outposts: orgOutposts,
    usage,
    notes,
    audit,
  };
}

/** Overrides not yet revoked or expired, newest first; the first is the one in force (as the view picks it). */
function liveOverrides(db: Tx, orgId: string) {
  return db
    .select({ ...getTableColumns(rateLimitOverrides), createdByEmail: staffUsers.email })
    .from(rateLimitOverrides)
    .innerJoin(staffUsers, eq(staffUsers.id, rateLimitOverrides.createdBy))
    .where(
      and(
        eq(rateLimitOverrides.orgId, orgId),
        isNull(rateLimitOverrides.revokedAt),
        gt(rateLimitOverrides.expiresAt, sql`now()`),
      ),
    )
    .orderBy(desc(rateLimitOverrides.createdAt));
}
