import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { type Db, rows, type Tx } from '@/db/client';
import { organizations, planTiers } from '@/db/schema';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { NotFoundError, parseInput } from '@/lib/errors';
import { type MfaMethod, PLAN_TIERS, type PlanTier } from '@/lib/plans';
import { LIMIT_COLUMNS, LIMIT_KEYS, type LimitKey } from '@/lib/rate-limits';

export type Source = 'tier' | 'org' | 'override';

/** One row of the platform_org_config view: the effective configuration, and where each value comes from. */
export interface OrgConfig {
  org_id: string;
  slug: string;
  plan_tier: PlanTier;
  status: 'active' | 'suspended';
  suspended_reason: string | null;
  mfa_required: boolean;
  mfa_allowed_methods: MfaMethod[];
  mfa_source: 'tier' | 'org';
  requests_per_minute: number;
  requests_per_minute_source: Source;
  tokens_per_minute: number;
  tokens_per_minute_source: Source;
  concurrent_requests: number;
  concurrent_requests_source: Source;
  monthly_request_quota: number;
  monthly_request_quota_source: Source;
  override_id: string | null;
  override_expires_at: string | null;
  outposts: Array<{ outpost_id: string; name: string; inference_mode: 'gpu' | 'cpu_trial' }>;
}

/** Postgres arrays of an enum reach JS as text like `{fido2,totp}` through some drivers. */
function methods(v: unknown): MfaMethod[] {
  if (Array.isArray(v)) return v as MfaMethod[];
  return String(v)
    .replace(/^\{|\}$/g, '')
    .split(',')
    .filter(Boolean) as MfaMethod[];
}

/**
 * The effective configuration of one organisation, resolved by the platform_org_config view: the one
 * place that resolution happens, for the gateway and for the portal's screens alike.
 */
export async function orgConfig(db: Db | Tx, orgId: string): Promise<OrgConfig | undefined> {
  const [row] = await rows<OrgConfig>(
    db,
    sql`select *, monthly_request_quota::float8 as monthly_request_quota, mfa_allowed_methods::text[] as mfa_allowed_methods
        from platform_org_config where org_id = ${orgId}`,
  );
  return row && { ...row, mfa_allowed_methods: methods(row.mfa_allowed_methods) };
}

/** A limit or the MFA policy: what is in force now, and what the proposed tier would put in force. */
export interface PreviewLine<V> {
  now: { value: V; source: Source };
  proposed: { value: V; source: Source };
  /** The proposed tier's default. */
  tierDefault: V;
  /** The organisation's own value (or an override) still wins over the new default, which differs from it. */
  keepsOverriding: boolean;
}

export interface TierPreview {
  orgId: string;
  current: PlanTier;
  tier: PlanTier;
  limits: Record<LimitKey, PreviewLine<number>>;
  mfa: PreviewLine<{ required: boolean; methods: MfaMethod[] }>;
  /** When the override in force ends, if one is. */
  overrideExpiresAt: string | null;
}

/** Thrown to roll the preview's transaction back, carrying what it read. */
class PreviewRead extends Error {
  constructor(readonly rows: { now: OrgConfig; proposed: OrgConfig; tier: typeof planTiers.$inferSelect }) {
    super('preview');
  }
}

const sortedMethods = (m: readonly MfaMethod[]) => [...m].sort();

/**
 * What moving an organisation to `tier` would put in force, resolved by the one resolver, the
 * platform_org_config view, and never by logic of its own: inside a transaction that is always rolled back,
 * the organisation's tier is set to the proposed one and the view is read. Nothing is committed, so nothing
 * is audited or notified; the row lock lasts the two reads, and waits at most 2 s for a write in flight.
 */
export async function previewTier(ctx: StaffCtx, orgId: string, rawTier: unknown): Promise<TierPreview> {
  requirePermission(ctx, 'orgs.read');
  const { orgId: id, tier } = parseInput(PreviewInput, { orgId, tier: rawTier });
  let read: PreviewRead['rows'];
  try {
    await ctx.db.transaction(async (tx) => {
      await tx.execute(sql`set local lock_timeout = '2s'`);
      const now = await orgConfig(tx, id);
      if (!now) throw new NotFoundError('No such organisation.');
      await tx.update(organizations).set({ planTier: tier }).where(eq(organizations.id, id));
      const proposed = await orgConfig(tx, id);
      const [tierRow] = await tx.select().from(planTiers).where(eq(planTiers.key, tier));
      throw new PreviewRead({ now, proposed: proposed!, tier: tierRow! });
    });
    throw new Error('unreachable: the preview transaction always rolls back');
  } catch (err) {
    if (!(err instanceof PreviewRead)) throw err;
    read = err.rows;
  }
  const { now, proposed, tier: t } = read;
  const limits = Object.fromEntries(
    LIMIT_KEYS.map((k) => {
      const c = LIMIT_COLUMNS[k];
      const line: PreviewLine<number> = {
        now: { value: Number(now[c]), source: now[`${c}_source`] },
        proposed: { value: Number(proposed[c]), source: proposed[`${c}_source`] },
        tierDefault: Number(t[k]),
        keepsOverriding: proposed[`${c}_source`] !== 'tier' && Number(proposed[c]) !== Number(t[k]),
      };
      return [k, line];
    }),
  ) as Record<LimitKey, PreviewLine<number>>;
  const policy = (r: OrgConfig) => ({ required: r.mfa_required, methods: r.mfa_allowed_methods });
  const tierPolicy = { required: t.mfaRequired, methods: t.mfaAllowedMethods };
  const differs =
    proposed.mfa_required !== tierPolicy.required ||
    sortedMethods(proposed.mfa_allowed_methods).join() !== sortedMethods(tierPolicy.methods).join();
  return {
    orgId: id,
    current: now.plan_tier,
    tier,
    limits,
    mfa: {
      now: { value: policy(now), source: now.mfa_source },
      proposed: { value: policy(proposed), source: proposed.mfa_source },
      tierDefault: tierPolicy,
      keepsOverriding: proposed.mfa_source !== 'tier' && differs,
    },
    overrideExpiresAt: proposed.override_expires_at
      ? new Date(proposed.override_expires_at).toISOString()
      : null,
  };
}

const PreviewInput = z.object({
  orgId: z.uuid('Choose an organisation.'),
  tier: z.enum(PLAN_TIERS, 'Choose one of the five plan tiers.'),
});
