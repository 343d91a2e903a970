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

/** How /orgs can be sorted: by name (A–Z), by plan tier (then name), by this month's requests (most first). */
export const ORG_SORTS = ['name', 'tier', 'usage'] as const;
export type OrgSort = (typeof ORG_SORTS)[number];

/**
 * A position in the list: the sort key of a row, as a URL-safe string. Every order ends in the row's id, so
 * keys are unique: by name `(lower(name) collate "C", id)`; by tier `(plan_tier, lower(name), id)`; by usage
 * `(requests, id)` descending for organisations with usage this month, then `(lower(name), id)` for those
 * without (`requests` null). `page` is the number of the page the cursor opens, for "Page n of m".
 */
export interface OrgCursor {
  sort?: OrgSort;
  key: string;
  id: string;
  tier?: PlanTier;
  requests?: number | null;
  page?: number;
}

export function encodeOrgCursor(c: OrgCursor): string {
  return Buffer.from(
    JSON.stringify({
      s: c.sort ?? 'name',
      k: c.key,
      i: c.id,
      p: c.page ?? 1,
      ...(c.tier !== undefined && { t: c.tier }),
      ...(c.requests !== undefined && { u: c.requests }),
    }),
  ).toString('base64url');
}

const BROKEN_CURSOR = 'This page link is broken; start the search again.';
const CursorShape = z
  .object({
    s: z.enum(ORG_SORTS),
    k: text(),
    i: z.uuid(),
    p: z.number().int().min(1).max(100_000_000),
    t: z.enum(PLAN_TIERS).optional(),
    u: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable().optional(),
  })
  .strict()
  .refine((c) => (c.s === 'tier') === (c.t !== undefined) && (c.s === 'usage') === (c.u !== undefined));
const Cursor = text()
  .max(2000, BROKEN_CURSOR)
  .transform((s, ctx): Required<Pick<OrgCursor, 'sort' | 'key' | 'id' | 'page'>> & OrgCursor => {
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
    const c = parsed.data;
    return { sort: c.s, key: c.k, id: c.i, page: c.p, tier: c.t, requests: c.u };
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
    sort: z.preprocess(
      blank,
      z.enum(ORG_SORTS, { error: `The sort must be one of ${ORG_SORTS.join(', ')}.` }).default('name'),
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
  })
  .refine((f) => (f.after ?? f.before)?.sort === undefined || (f.after ?? f.before)!.sort === f.sort, {
    error: BROKEN_CURSOR,
    path: ['after'],
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
  /** How many organisations match the search (every page). */
  total: number;
  /** This page's number (1 on the first), and how many pages of this size the matches fill. */
  page: number;
  pages: number;
  sort: OrgSort;
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
 * One page of organisations for /orgs, with keyset pagination, in the order `sort` asks for: search by name
 * prefix (case-insensitive), exact slug or exact id; filter by tier, status and over quota. Candidates are
 * picked from organizations (and, sorted by usage, usage_monthly) alone, in an index's order, and
 * platform_org_config is joined for the page's rows only, except for the over-quota filter, which needs the
 * effective quota. The total is a count of the same filters, run alongside.
 */
export async function listOrgs(ctx: StaffCtx, raw: unknown): Promise<OrgListPage> {
  requirePermission(ctx, 'orgs.read');
  const f = parseInput(OrgSearch, raw);
  let backwards = f.before !== undefined;
  let at = f.before ?? f.after;
  const totalQuery = countOrgs(ctx, f);
  let found = await pageRows(ctx, f, backwards ? 'before' : 'after', at);
  // Going back can land short of a full page at the start (rows renamed or added meanwhile): show the
  // first page as it is now instead.
  if (backwards && found.length < f.size) {
    backwards = false;
    at = undefined;
    found = await pageRows(ctx, f, 'after', undefined);
  }
  const total = await totalQuery;
  const more = found.length > f.size;
  const page = found.slice(0, f.size);
  if (backwards) page.reverse();
  const pages = Math.max(1, Math.ceil(total / f.size));
  // The cursor says which page it opens; a forged or stale number cannot claim more pages than there are.
  const number = Math.min(pages, at?.page ?? 1);
  const cursor = (r: RawOrgRow | undefined, to: number) =>
    r
      ? encodeOrgCursor({
          sort: f.sort,
          key: r.sort_key,
          id: r.id,
          page: Math.max(1, to),
          ...(f.sort === 'tier' && { tier: r.plan_tier }),
          ...(f.sort === 'usage' && { requests: r.requests }),
        })
      : null;
  const [first, last] = [page[0], page.at(-1)];
  const hasPrev = backwards ? more : at !== undefined;
  return {
    rows: page.map(toRow),
    prev: hasPrev ? cursor(first, number - 1) : null,
    next: backwards || more ? cursor(last, number + 1) : null,
    total,
    page: number,
    pages,
    sort: f.sort,
  };
}

type OrgFilters = Pick<z.infer<typeof OrgSearch>, 'q' | 'tier' | 'status' | 'over' | 'size' | 'sort'>;
type Direction = 'after' | 'before';

/** The filters every query of the list shares (not the cursor), on `organizations o`. */
function filterConditions(f: OrgFilters): SQL[] {
  const filters: SQL[] = [];
  if (f.tier) filters.push(sql`o.plan_tier = ${f.tier}`);
  if (f.status) filters.push(sql`o.status = ${f.status}`);
  // The over-quota set is worked out whole first (hash joins over every organisation with usage this
  // month), then paged: walked in name order instead, the view would be evaluated for each organisation
  // until a page fills, which is every organisation when few are over quota.
  if (f.over) filters.push(sql`o.id in (select org_id from over_quota)`);
  return filters;
}

/** The search of `q` as one condition: an exact id, or a name prefix (as a C-collated range) or exact slug. */
function matchCondition(q: string | undefined): SQL {
  if (q === undefined) return sql`true`;
  if (z.uuid().safeParse(q).success) return sql`o.id = ${q.toLowerCase()}::uuid`;
  return sql`(${prefixRange(q)} or o.slug = ${q.toLowerCase()})`;
}

/**
 * A prefix as a range of the C-collated key, which an index scan serves whether or not the plan is generic
 * (LIKE with a bound pattern is not indexable then). Every string that starts with p lies in
 * [p, p || U+10FFFF), and no other does.
 */
function prefixRange(q: string): SQL {
  return sql`${SORT_KEY} >= lower(${q}) collate "C" and ${SORT_KEY} < (lower(${q}) || chr(1114111)) collate "C"`;
}

const withOverQuota = (f: OrgFilters) => (f.over ? sql`over_quota as materialized (${OVER_QUOTA}), ` : sql``);

/** How many organisations match the search: an index range or an index-only count of organizations. */
async function countOrgs(ctx: StaffCtx, f: OrgFilters): Promise<number> {
  const [row] = await rows<{ n: number }>(
    ctx.db,
    sql`with ${withOverQuota(f)}counted as (
          select count(*)::int as n from organizations o
          where ${sql.join([matchCondition(f.q), ...filterConditions(f)], sql` and `)})
        select n from counted`,
  );
  return row?.n ?? 0;
}

/** Up to one more row than a page, from `cursor` on in the direction given, nearest first. */
async function pageRows(
  ctx: StaffCtx,
  f: OrgFilters,
  direction: Direction,
  cursor: OrgCursor | undefined,
): Promise<RawOrgRow[]> {
  if (f.sort === 'usage') return usagePageRows(ctx, f, direction, cursor);
  const order = direction === 'after' ? sql.raw('asc') : sql.raw('desc');
  const op = direction === 'after' ? sql.raw('>') : sql.raw('<');
  const filters = filterConditions(f);
  if (f.sort === 'tier') {
    // organizations_tier is (plan_tier, lower(name), id): the walk is this index in order.
    if (cursor)
      filters.push(
        sql`(o.plan_tier, ${SORT_KEY}, o.id) ${op} (${cursor.tier ?? null}::plan_tier, ${cursor.key}::text collate "C", ${cursor.id}::uuid)`,
      );
    const picked = sql`
      select o.id, ${SORT_KEY} as sort_key from organizations o
      where ${sql.join([matchCondition(f.q), ...filters], sql` and `)}
      order by o.plan_tier ${order}, 2 ${order}, 1 ${order}
      limit ${f.size + 1}`;
    return readPage(ctx, f, picked, sql`o.plan_tier ${order}, page.sort_key ${order}, page.id ${order}`);
  }
  if (cursor)
    filters.push(sql`(${SORT_KEY}, o.id) ${op} (${cursor.key}::text collate "C", ${cursor.id}::uuid)`);
  const candidates = (match: SQL) => sql`
    select o.id, ${SORT_KEY} as sort_key
    from organizations o
    where ${sql.join([match, ...filters], sql` and `)}
    order by 2 ${order}, 1 ${order}
    limit ${f.size + 1}`;

  let picked: SQL;
  const q = f.q;
  if (q === undefined || z.uuid().safeParse(q).success) {
    picked = candidates(matchCondition(q));
  } else {
    // Two branches rather than an OR, so that each keeps its index order and stops after one page.
    const prefix = prefixRange(q);
    picked = sql`(${candidates(prefix)}) union all (${candidates(
      sql`o.slug = ${q.toLowerCase()} and not (${prefix})`,
    )}) order by 2 ${order}, 1 ${order} limit ${f.size + 1}`;
  }
  return readPage(ctx, f, picked, sql`page.sort_key ${order}, page.id ${order}`);
}

/**
 * Sorted by this month's requests, most first: first the organisations with a usage row this month, walked
 * backwards on the index usage_monthly_month_requests `(month, requests, org_id)` (so `(requests, org_id)`
 * descending, one index range that stops after a page), then those without one, walked on the name index
 * with an anti-join on usage_monthly's primary key. The second walk runs only when the first runs out.
 */
async function usagePageRows(
  ctx: StaffCtx,
  f: OrgFilters,
  direction: Direction,
  cursor: OrgCursor | undefined,
): Promise<RawOrgRow[]> {
  const want = f.size + 1;
  const withUsage = (limit: number, dir: Direction, from: OrgCursor | undefined) => {
    // Forward in the list is descending usage.
    const order = dir === 'after' ? sql.raw('desc') : sql.raw('asc');
    const op = dir === 'after' ? sql.raw('<') : sql.raw('>');
    const filters = filterConditions(f);
    if (from && from.requests !== null && from.requests !== undefined)
      filters.push(sql`(u.requests, u.org_id) ${op} (${from.requests}::bigint, ${from.id}::uuid)`);
    const picked = sql`
      select u.org_id as id, ${SORT_KEY} as sort_key, u.requests from usage_monthly u
      join organizations o on o.id = u.org_id
      where u.month = ${THIS_MONTH} and ${sql.join([matchCondition(f.q), ...filters], sql` and `)}
      order by u.requests ${order}, u.org_id ${order}
      limit ${limit}`;
    return readPage(ctx, f, picked, sql`page.requests ${order}, page.id ${order}`);
  };
  const withoutUsage = (limit: number, dir: Direction, from: OrgCursor | undefined) => {
    const order = dir === 'after' ? sql.raw('asc') : sql.raw('desc');
    const op = dir === 'after' ? sql.raw('>') : sql.raw('<');
    const filters = filterConditions(f);
    if (from && from.requests === null)
      filters.push(sql`(${SORT_KEY}, o.id) ${op} (${from.key}::text collate "C", ${from.id}::uuid)`);
    const picked = sql`
      select o.id, ${SORT_KEY} as sort_key from organizations o
      where not exists (select 1 from usage_monthly u where u.org_id = o.id and u.month = ${THIS_MONTH})
        and ${sql.join([matchCondition(f.q), ...filters], sql` and `)}
      order by 2 ${order}, 1 ${order}
      limit ${limit}`;
    return readPage(ctx, f, picked, sql`page.sort_key ${order}, page.id ${order}`);
  };
  const inTail = cursor !== undefined && cursor.requests === null;
  if (direction === 'after') {
    const head = inTail ? [] : await withUsage(want, 'after', cursor);
    if (head.length >= want) return head;
    return [...head, ...(await withoutUsage(want - head.length, 'after', inTail ? cursor : undefined))];
  }
  const tail = inTail ? await withoutUsage(want, 'before', cursor) : [];
  if (tail.length >= want) return tail;
  return [...tail, ...(await withUsage(want - tail.length, 'before', inTail ? undefined : cursor))];
}

/** The page's rows, picked by `picked` (id, sort_key), with the effective configuration and this month's usage. */
function readPage(ctx: StaffCtx, f: OrgFilters, picked: SQL, order: SQL): Promise<RawOrgRow[]> {
  return rows<RawOrgRow>(
    ctx.db,
    sql`with ${withOverQuota(f)}page as (select p.id, p.sort_key, u.requests from (${picked}) p
          left join usage_monthly u on u.org_id = p.id and u.month = ${THIS_MONTH})
      select o.id, o.name, o.slug, o.plan_tier, o.status, page.sort_key,
             c.mfa_required, array_to_string(c.mfa_allowed_methods, ',') as mfa_methods, c.mfa_source,
             c.monthly_request_quota::float8 as quota, page.requests::float8 as requests
      from page
      join organizations o on o.id = page.id
      join platform_org_config c on c.org_id = page.id
      order by ${order}`,
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
