import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import { getTableColumns, sql } from 'drizzle-orm';
import type { PgInsertValue, PgTable } from 'drizzle-orm/pg-core';
import { type Db, rows, type Tx } from '@/db/client';
import {
  enterpriseEntitlements,
  type MFA_METHODS,
  organizations,
  orgMfaPolicy,
  outposts,
  type PLAN_TIERS,
  planTiers,
  rateLimits,
  SIEM_CONNECTORS,
  usageMonthly,
} from '@/db/schema';
import { appendEntries, type NewEntry } from '@/lib/audit/append';
import type { HmacKeyRing } from '@/lib/audit/keys';
import { withAudit } from '@/lib/audit/with-audit';
import { systemCtx } from '@/lib/services/staff/system';

type Tier = (typeof PLAN_TIERS)[number];
type MfaMethod = (typeof MFA_METHODS)[number];
type Limits = Partial<Record<'requestsPerMinute' | 'tokensPerMinute' | 'concurrentRequests', number>> & {
  monthlyRequestQuota?: number;
};

interface DemoOrg {
  slug: string;
  name: string;
  tier: Tier;
  suspended?: string;
  mfa?: { required: boolean; methods: MfaMethod[] };
  limits?: Limits;
  /** Months ago (0 = this month) in which usage went over the quota. */
  overQuota?: number[];
  /** name, Azure region, inference mode, seconds since the last heartbeat. */
  outposts?: Array<[string, string, 'gpu' | 'cpu_trial', number]>;
}

const FIDO2_ONLY = { required: true, methods: ['fido2'] } satisfies DemoOrg['mfa'];

/** Fictional regulated-industry customers. The data is fixed: the same on every machine and every run. */
export const DEMO_ORGS: readonly DemoOrg[] = [
  {
    slug: 'harbor-point-cu',
    name: 'Harbor Point Credit Union',
    tier: 'devfree_saas',
    mfa: { required: true, methods: ['fido2', 'totp', 'sms'] },
    overQuota: [0, 2, 3],
  },
  {
    slug: 'meadowbrook-family-clinic',
    name: 'Meadowbrook Family Clinic',
    tier: 'devfree_saas',
    mfa: { required: true, methods: ['fido2', 'totp'] },
  },
  { slug: 'cedar-valley-community-bank', name: 'Cedar Valley Community Bank', tier: 'devfree_saas' },
  { slug: 'tri-county-legal-aid', name: 'Tri-County Legal Aid Society', tier: 'devfree_saas' },
  { slug: 'bluewater-dental-group', name: 'Bluewater Dental Group', tier: 'devfree_saas' },
  { slug: 'pinecrest-township', name: "Pinecrest Township Clerk's Office", tier: 'devfree_saas' },
  {
    slug: 'lakeshore-fcu',
    name: 'Lakeshore Federal Credit Union',
    tier: 'devpro_saas',
    mfa: { required: true, methods: ['fido2', 'totp'] },
    limits: { requestsPerMinute: 600 },
  },
  {
    slug: 'ridgeway-orthopedics',
    name: 'Ridgeway Orthopedic Associates',
    tier: 'devpro_saas',
    limits: { monthlyRequestQuota: 1_200_000 },
    overQuota: [1, 4, 5],
  },
  { slug: 'granite-state-title', name: 'Granite State Title & Escrow', tier: 'devpro_saas' },
  {
    slug: 'summit-pharmacy-coop',
    name: 'Summit Pharmacy Cooperative',
    tier: 'devpro_saas',
    suspended: 'Invoice INV-2025-0412 unpaid, 60 days past due; finance hold.',
  },
  { slug: 'northfield-municipal-utilities', name: 'Northfield Municipal Utilities', tier: 'devpro_saas' },
  { slug: 'alder-finch-llp', name: 'Alder & Finch LLP', tier: 'devpro_saas' },
  {
    slug: 'keystone-mutual',
    name: 'Keystone Mutual Insurance Company',
    tier: 'team_saas',
    limits: { requestsPerMinute: 1500, tokensPerMinute: 1_500_000 },
  },
  { slug: 'riverbend-health', name: 'Riverbend Health System', tier: 'team_saas', mfa: FIDO2_ONLY },
  { slug: 'copperline-savings', name: 'Copperline Savings Bank', tier: 'team_saas' },
  { slug: 'whitmore-hale', name: 'Whitmore Hale & Partners LLP', tier: 'team_saas', overQuota: [0, 1, 2] },
  { slug: 'prairie-farm-mutual', name: 'Prairie Farm Mutual Insurance', tier: 'team_saas' },
  {
    slug: 'st-brigids-childrens',
    name: "St. Brigid's Children's Hospital",
    tier: 'team_saas',
    mfa: FIDO2_ONLY,
  },
  {
    slug: 'evergreen-wealth',
    name: 'Evergreen Wealth Advisors',
    tier: 'team_saas',
    limits: { tokensPerMinute: 500_000 },
  },
  {
    slug: 'coastal-behavioral-health',
    name: 'Coastal Behavioral Health',
    tier: 'team_saas',
    suspended:
      'Security hold: customer reported a leaked API key; awaiting rotation confirmation (SEC-2291).',
  },
  {
    slug: 'first-meridian-bancorp',
    name: 'First Meridian Bancorp',
    tier: 'enterprise_saas',
    mfa: FIDO2_ONLY,
    limits: {
      requestsPerMinute: 10_000,
      tokensPerMinute: 12_000_000,
      concurrentRequests: 400,
      monthlyRequestQuota: 250_000_000,
    },
  },
  {
    slug: 'atlantic-crown-life',
    name: 'Atlantic Crown Life Assurance',
    tier: 'enterprise_saas',
    limits: { monthlyRequestQuota: 150_000_000 },
  },
  {
    slug: 'mercy-ridge-health',
    name: 'Mercy Ridge Health Network',
    tier: 'enterprise_saas',
    mfa: FIDO2_ONLY,
  },
  { slug: 'sterling-vance-capital', name: 'Sterling Vance Capital Markets', tier: 'enterprise_saas' },
  { slug: 'commonwealth-revenue', name: 'Commonwealth Department of Revenue', tier: 'enterprise_saas' },
  {
    slug: 'pacific-shield-casualty',
    name: 'Pacific Shield Casualty Group',
    tier: 'enterprise_saas',
    limits: { concurrentRequests: 300 },
  },
  { slug: 'beacon-hill-clearing', name: 'Beacon Hill Securities Clearing Corp.', tier: 'enterprise_saas' },
  {
    slug: 'state-court-records',
    name: 'Unified State Court Records Administration',
    tier: 'enterprise_saas',
  },
  {
    slug: 'national-reserve-trust',
    name: 'National Reserve Trust Bank',
    tier: 'enterprise_outpost',
    outposts: [
      ['prod-eastus2', 'eastus2', 'gpu', 12],
      ['dr-centralus', 'centralus', 'gpu', 41],
      ['pilot-westus3', 'westus3', 'cpu_trial', 7],
    ],
  },
  {
    slug: 'rhein-main-privatbank',
    name: 'Rhein-Main Privatbank AG',
    tier: 'enterprise_outpost',
    outposts: [
      ['frankfurt-prod', 'germanywestcentral', 'gpu', 23],
      ['amsterdam-dr', 'westeurope', 'gpu', 58],
    ],
  },
  {
    slug: 'northern-lights-university-hospital',
    name: 'Northern Lights University Hospital',
    tier: 'enterprise_outpost',
    outposts: [['evaluation', 'canadacentral', 'cpu_trial', 95]],
  },
  {
    slug: 'cardinal-reinsurance',
    name: 'Cardinal Reinsurance SE',
    tier: 'enterprise_outpost',
    outposts: [
      ['primary', 'westeurope', 'gpu', 5],
      // Silent for two hours: an outpost the GPU pool view should flag.
      ['trial-dublin', 'northeurope', 'cpu_trial', 2 * 3600 + 14 * 60],
    ],
  },
  {
    slug: 'federal-benefits-administration',
    name: 'Federal Benefits Administration',
    tier: 'enterprise_outpost',
    mfa: FIDO2_ONLY,
    outposts: [
      ['gov-virginia', 'usgovvirginia', 'gpu', 17],
      ['gov-arizona', 'usgovarizona', 'gpu', 30],
    ],
  },
  {
    slug: 'thames-mutual-building-society',
    name: 'Thames Mutual Building Society',
    tier: 'enterprise_outpost',
    outposts: [['london-prod', 'uksouth', 'gpu', 9]],
  },
];

const ENTERPRISE: ReadonlySet<Tier> = new Set(['enterprise_saas', 'enterprise_outpost']);
const DAY_MS = 86_400_000;

export interface SeedOptions {
  /** Defaults to the key ring of lib/audit/keys. */
  keys?: HmacKeyRing;
  now?: Date;
  /** Progress lines; nothing is printed without it. */
  log?: (line: string) => void;
}

export interface DemoSeedResult {
  seeded: boolean;
  counts: Record<string, number>;
  message: string;
}

class AlreadySeeded extends Error {}

/**
 * Seeds the demo organisations and everything hanging off them, with one `system.seed` audit entry, in
 * one transaction. Organisations whose slug exists are left alone; when all exist nothing is written.
 * The caller owns the database handle.
 */
export async function seedDemo(db: Db, opts: SeedOptions = {}): Promise<DemoSeedResult> {
  const now = opts.now ?? new Date();
  let result: DemoSeedResult;
  try {
    const counts = await withAudit(
      systemCtx(db, 'seed'),
      { action: 'system.seed', targetType: 'system', targetId: 'demo' },
      async (tx, audit) => {
        const inserted = await tx
          .insert(organizations)
          .values(
            DEMO_ORGS.map((o) => ({
              slug: o.slug,
              name: o.name,
              planTier: o.tier,
              status: o.suspended ? ('suspended' as const) : ('active' as const),
              suspendedReason: o.suspended ?? null,
              createdAt: new Date(now.getTime() - (400 + Math.floor(prng(o.slug)() * 800)) * DAY_MS),
            })),
          )
          .onConflictDoNothing({ target: organizations.slug })
          .returning({ id: organizations.id, slug: organizations.slug });
        // Rolls the transaction back, so that a second run writes no audit entry either.
        if (inserted.length === 0) throw new AlreadySeeded();
        const ids = new Map(inserted.map((r) => [r.slug, r.id]));
        const orgs = DEMO_ORGS.flatMap((o) => {
          const id = ids.get(o.slug);
          return id ? [{ ...o, id }] : [];
        });

        const mfa = orgs.flatMap((o) =>
          o.mfa ? [{ orgId: o.id, required: o.mfa.required, allowedMethods: o.mfa.methods }] : [],
        );
        const limits = orgs.flatMap((o) => (o.limits ? [{ orgId: o.id, ...o.limits }] : []));
        const quotas = await tierQuotas(tx);
        const months = lastMonths(now, 12);
        const usage = orgs.flatMap((o) =>
          usageRows(o.id, o.slug, o.limits?.monthlyRequestQuota ?? quotas.get(o.tier) ?? 0, months, now, {
            overQuota: o.overQuota,
            suspended: o.suspended !== undefined,
          }),
        );
        const outpostRows = orgs.flatMap((o) =>
          (o.outposts ?? []).map(([name, region, inferenceMode, secondsAgo]) => ({
            orgId: o.id,
            name,
            region,
            inferenceMode,
            lastHeartbeatAt: new Date(now.getTime() - secondsAgo * 1000),
          })),
        );
        const entitlements = orgs.flatMap((o) =>
          ENTERPRISE.has(o.tier) ? [demoEntitlements(o.id, o.slug, o.outposts?.length ?? 0)] : [],
        );

        await insertAll(tx, orgMfaPolicy, mfa);
        await insertAll(tx, rateLimits, limits);
        await insertAll(tx, usageMonthly, usage);
        await insertAll(tx, outposts, outpostRows);
        await insertAll(tx, enterpriseEntitlements, entitlements);
        const counts = {
          organizations: orgs.length,
          org_mfa_policy: mfa.length,
          rate_limits: limits.length,
          usage_monthly: usage.length,
          outposts: outpostRows.length,
          enterprise_entitlements: entitlements.length,
        };
        audit.detail({ seed: 'demo', counts });
        return counts;
      },
      opts.keys,
    );
    result = {
      seeded: true,
      counts,
      message:
        `seeded ${counts.organizations} organisations (${counts.org_mfa_policy} MFA policies, ` +
        `${counts.rate_limits} rate limits, ${counts.usage_monthly} usage months, ${counts.outposts} outposts, ` +
        `${counts.enterprise_entitlements} enterprise entitlements)`,
    };
  } catch (err) {
    if (!(err instanceof AlreadySeeded)) throw err;
    result = { seeded: false, counts: {}, message: 'demo data already present' };
  }
  opts.log?.(result.message);
  return result;
}

export interface BenchSeedOptions extends SeedOptions {
  /** Bench organisations to add, numbered after any that exist. */
  orgs: number;
  /** Audit entries to append to the chain. */
  audit: number;
}

/**
 * Large mode: adds `orgs` organisations `bench-org-NNNNNN` with 12 months of usage each (one transaction,
 * with its `system.seed` entry), then appends `audit` synthetic entries to the chain.
 */
export async function seedBench(db: Db, opts: BenchSeedOptions): Promise<{ orgIds: string[] }> {
  const now = opts.now ?? new Date();
  const log = opts.log ?? (() => {});
  let orgIds: string[] = [];
  if (opts.orgs > 0) {
    orgIds = await withAudit(
      systemCtx(db, 'seed'),
      { action: 'system.seed', targetType: 'system', targetId: 'bench' },
      async (tx, audit) => {
        const [last] = await rows<{ n: string }>(
          tx,
          sql`select coalesce(max(substring(slug from 11)::int), 0)::text as n
              from organizations where slug ~ '^bench-org-[0-9]+$'`,
        );
        const first = Number(last?.n ?? 0) + 1;
        const quotas = await tierQuotas(tx);
        const months = lastMonths(now, 12);
        const ids: string[] = [];
        let usageCount = 0;
        let entitlementCount = 0;
        const CHUNK = 5000;
        for (let done = 0; done < opts.orgs; done += CHUNK) {
          const chunk = Array.from({ length: Math.min(CHUNK, opts.orgs - done) }, (_, k) => {
            const n = first + done + k;
            const slug = `bench-org-${String(n).padStart(6, '0')}`;
            return { id: crypto.randomUUID(), slug, tier: benchTier(prng(slug)()) };
          });
          await insertAll(
            tx,
            organizations,
            chunk.map((o) => ({
              id: o.id,
              slug: o.slug,
              name: `Bench Org ${o.slug.slice(10)}`,
              planTier: o.tier,
            })),
          );
          const usage = chunk.flatMap((o) =>
            usageRows(o.id, o.slug, quotas.get(o.tier) ?? 0, months, now, {}),
          );
          await insertAll(tx, usageMonthly, usage);
          const entitlements = chunk.flatMap((o) =>
            ENTERPRISE.has(o.tier)
              ? [demoEntitlements(o.id, o.slug, o.tier === 'enterprise_outpost' ? 1 : 0)]
              : [],
          );
          await insertAll(tx, enterpriseEntitlements, entitlements);
          ids.push(...chunk.map((o) => o.id));
          usageCount += usage.length;
          entitlementCount += entitlements.length;
          if (ids.length % 10_000 < CHUNK || ids.length === opts.orgs)
            log(`bench organisations: ${ids.length}/${opts.orgs}`);
        }
        audit.detail({
          seed: 'bench',
          counts: {
            organizations: ids.length,
            usage_monthly: usageCount,
            enterprise_entitlements: entitlementCount,
          },
        });
        return ids;
      },
      opts.keys,
    );
  }
  if (opts.audit > 0) {
    if (orgIds.length === 0) {
      const existing = await rows<{ id: string }>(
        db,
        sql`select id::text as id from organizations order by (slug like 'bench-org-%') desc, slug limit 100000`,
      );
      orgIds = existing.map((r) => r.id);
    }
    await appendFakeAudit(db, opts.audit, { orgIds, keys: opts.keys, now, log });
  }
  return { orgIds };
}

/**
 * Appends `count` realistic synthetic entries, spread in increasing time over the 90 days before `now`,
 * in transactions of 10,000 so that the chain lock is never held for long.
 */
export async function appendFakeAudit(
  db: Db,
  count: number,
  opts: {
    orgIds: readonly string[];
    keys?: HmacKeyRing;
    now?: Date;
    log?: (line: string) => void;
    /** false: leave the Merkle tree for catchUpTree (bench:audit times that). */
    tree?: boolean;
  },
): Promise<{ firstSeq: number; lastSeq: number }> {
  const to = (opts.now ?? new Date()).getTime();
  const from = to - 90 * DAY_MS;
  const step = (to - from) / count;
  const rng = prng(`audit-${from}`);
  const CHUNK = 10_000;
  let firstSeq = 0;
  let lastSeq = 0;
  for (let done = 0; done < count; done += CHUNK) {
    const entries = Array.from({ length: Math.min(CHUNK, count - done) }, (_, k) =>
      fakeEntry(rng, opts.orgIds, new Date(from + Math.floor((done + k + rng()) * step))),
    );
    const appended = await db.transaction((tx) => appendEntries(tx, entries, opts.keys, { tree: opts.tree }));
    firstSeq ||= appended.seq - entries.length + 1;
    lastSeq = appended.seq;
    const total = done + entries.length;
    if (total % 100_000 < CHUNK || total === count) opts.log?.(`audit entries: ${total}/${count}`);
  }
  return { firstSeq, lastSeq };
}

export class UsageError extends Error {}

export const SEED_USAGE =
  'usage: npm run db:seed [-- [--orgs N] [--audit N]]   N: how many bench organisations / audit entries to add';

/** `--orgs N` and `--audit N` (or `--orgs=N`); anything else is a UsageError. */
export function parseSeedArgs(argv: string[]): { orgs: number; audit: number } {
  let values: { orgs?: string; audit?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { orgs: { type: 'string' }, audit: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const count = (flag: string, v: string | undefined): number => {
    if (v === undefined) return 0;
    if (!/^[0-9]{1,9}$/.test(v)) throw new UsageError(`--${flag} takes a whole number, not "${v}"`);
    return Number(v);
  };
  return { orgs: count('orgs', values.orgs), audit: count('audit', values.audit) };
}

async function tierQuotas(tx: Tx): Promise<Map<Tier, number>> {
  const tiers = await tx.select({ key: planTiers.key, quota: planTiers.monthlyRequestQuota }).from(planTiers);
  return new Map(tiers.map((t) => [t.key, t.quota]));
}

/** Multi-row inserts, each under Postgres's limit of 65535 bind parameters. */
async function insertAll<T extends PgTable>(tx: Tx, table: T, values: PgInsertValue<T>[]): Promise<void> {
  // Columns a row leaves out are sent as DEFAULT, so the table's column count bounds the parameters.
  const perInsert = Math.floor(65535 / Object.keys(getTableColumns(table)).length);
  for (let i = 0; i < values.length; i += perInsert) {
    await tx.insert(table).values(values.slice(i, i + perInsert));
  }
}

/** mulberry32 seeded from a string: variety without randomness between runs. */
export function prng(seed: string): () => number {
  let a = 2166136261;
  for (let i = 0; i < seed.length; i++) a = Math.imul(a ^ seed.charCodeAt(i), 16777619);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The first day of each of the last `n` months, oldest first, ending with the current month. */
function lastMonths(now: Date, n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (n - 1 - i), 1)).toISOString().slice(0, 10),
  );
}

function usageRows(
  orgId: string,
  seed: string,
  quota: number,
  months: string[],
  now: Date,
  opts: { overQuota?: number[]; suspended?: boolean },
): Array<typeof usageMonthly.$inferInsert> {
  const rng = prng(`usage-${seed}`);
  const base = 0.2 + rng() * 0.6;
  const growth = -0.01 + rng() * 0.05;
  const tokensPerRequest = 350 + Math.floor(rng() * 2200);
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const monthEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  const elapsed = Math.max(0.03, (now.getTime() - monthStart) / (monthEnd - monthStart));
  return months.map((month, i) => {
    const ago = months.length - 1 - i;
    let share = Math.min(0.97, base * (1 + growth) ** i * (0.9 + rng() * 0.2));
    if (opts.overQuota?.includes(ago)) share = 1.04 + rng() * 0.25;
    if (opts.suspended && ago === 0) share = 0;
    // Month to date; an organisation over quota this month is already over it.
    if (ago === 0 && !opts.overQuota?.includes(0)) share *= elapsed;
    const requests = Math.round(quota * share);
    return { orgId, month, requests, tokens: Math.round(requests * tokensPerRequest * (0.9 + rng() * 0.2)) };
  });
}

function demoEntitlements(
  orgId: string,
  slug: string,
  outpostCount: number,
): typeof enterpriseEntitlements.$inferInsert {
  const rng = prng(`entitlements-${slug}`);
  const siem = shuffle(rng, SIEM_CONNECTORS).slice(0, 1 + Math.floor(rng() * 2));
  return {
    orgId,
    maxOutposts: outpostCount === 0 ? 0 : outpostCount + 1 + Math.floor(rng() * 2),
    ssoEnabled: true,
    scimEnabled: rng() < 0.7,
    siemConnectors: siem,
    auditRetentionDays: pick(rng, [365, 730, 2555]),
    dedicatedSupport: outpostCount > 0 || rng() < 0.6,
    contractRef: `MSA-${2022 + Math.floor(rng() * 4)}-${String(Math.floor(rng() * 10_000)).padStart(4, '0')}`,
  };
}

const BENCH_TIERS: Array<[Tier, number]> = [
  ['devfree_saas', 0.4],
  ['devpro_saas', 0.65],
  ['team_saas', 0.85],
  ['enterprise_saas', 0.95],
  ['enterprise_outpost', 1],
];

function benchTier(r: number): Tier {
  return (BENCH_TIERS.find(([, upTo]) => r < upTo) ?? BENCH_TIERS[0]!)[0];
}

function pick<T>(rng: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rng() * xs.length)]!;
}

function shuffle<T>(rng: () => number, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function hex32(rng: () => number): string {
  return Math.floor(rng() * 4294967296)
    .toString(16)
    .padStart(8, '0');
}

function uuidFrom(rng: () => number): string {
  const h = hex32(rng) + hex32(rng) + hex32(rng) + hex32(rng);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

const STAFF = Array.from({ length: 40 }, (_, i) => ({
  id: uuidFrom(prng(`staff-${i}`)),
  email: `staff-${String(i + 1).padStart(2, '0')}@arbitex.ai`,
}));
const USER_AGENTS = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
];
const LIMIT_STEPS = [60, 120, 300, 600, 1000, 1500, 2500, 5000, 10_000];
const REASONS = [
  'Customer request via support ticket',
  'Quarter-end batch processing window',
  'Incident follow-up: throttle abusive client',
  'Contract amendment signed',
  'Capacity review',
];

/** One realistic entry made by a staff member: sign-ins, limit and plan changes, acting contexts. */
function fakeEntry(rng: () => number, orgIds: readonly string[], at: Date): NewEntry {
  const staff = pick(rng, STAFF);
  const orgId = orgIds.length > 0 ? pick(rng, orgIds) : null;
  const base = {
    occurred_at: at.toISOString(),
    request_id: `req_${hex32(rng)}${hex32(rng)}`,
    actor_staff_id: staff.id,
    actor_email: staff.email,
    src_ip: `10.${Math.floor(rng() * 256)}.${Math.floor(rng() * 256)}.${1 + Math.floor(rng() * 254)}`,
    user_agent: pick(rng, USER_AGENTS),
  };
  const org = { ...base, org_id: orgId, target_type: 'organization', target_id: orgId };
  const ticket = `SUP-${10_000 + Math.floor(rng() * 90_000)}`;
  const r = rng();
  if (r < 0.25) return { ...base, action: 'staff.signin.success', target_type: 'staff', target_id: staff.id };
  if (r < 0.28)
    return {
      ...base,
      action: 'staff.signin.failure',
      outcome: 'failure',
      diff: { reason: 'user_verification_failed' },
    };
  if (r < 0.48) {
    const before = pick(rng, LIMIT_STEPS);
    const after = pick(rng, LIMIT_STEPS);
    return {
      ...org,
      action: 'org.rate_limits.updated',
      diff: {
        reason: pick(rng, REASONS),
        before: { requests_per_minute: before, tokens_per_minute: before * 1000 },
        after: { requests_per_minute: after, tokens_per_minute: after * 1000 },
      },
    };
  }
  if (r < 0.56) {
    const [before, after] = shuffle(
      rng,
      BENCH_TIERS.map(([t]) => t),
    );
    return {
      ...org,
      action: 'org.plan_tier.updated',
      diff: { before: { plan_tier: before }, after: { plan_tier: after } },
    };
  }
  if (r < 0.63)
    return {
      ...org,
      action: 'org.mfa_policy.updated',
      diff: {
        before: { required: false, allowed_methods: ['fido2', 'totp', 'sms'] },
        after: { required: true, allowed_methods: rng() < 0.5 ? ['fido2'] : ['fido2', 'totp'] },
      },
    };
  if (r < 0.75) {
    const contextId = uuidFrom(rng);
    return {
      ...org,
      action: 'acting.started',
      acting_org_id: orgId,
      acting_context_id: contextId,
      target_type: 'acting_context',
      target_id: contextId,
      diff: { reason: pick(rng, REASONS), ticket_ref: ticket },
    };
  }
  if (r < 0.85)
    return { ...org, action: 'acting.stopped', acting_org_id: orgId, diff: { ticket_ref: ticket } };
  if (r < 0.92) {
    const denied = rng() < 0.25;
    return {
      ...org,
      action: 'org.entitlements.updated',
      outcome: denied ? 'denied' : 'success',
      diff: denied
        ? { reason: 'step-up required' }
        : {
            before: { scim_enabled: false, max_outposts: 2 },
            after: { scim_enabled: true, max_outposts: 3 },
          },
    };
  }
  if (r < 0.95)
    return {
      ...org,
      action: 'org.rate_limit_override.created',
      diff: {
        reason: pick(rng, REASONS),
        after: {
          requests_per_minute: pick(rng, LIMIT_STEPS),
          expires_at: new Date(at.getTime() + 7 * DAY_MS).toISOString(),
        },
      },
    };
  if (r < 0.975)
    return {
      ...org,
      action: 'org.suspended',
      diff: {
        before: { status: 'active', suspended_reason: null },
        after: { status: 'suspended', suspended_reason: `Finance hold (${ticket})` },
      },
    };
  return {
    ...org,
    action: 'org.resumed',
    diff: { before: { status: 'suspended' }, after: { status: 'active', suspended_reason: null } },
  };
}
