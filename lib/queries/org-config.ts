import { sql } from 'drizzle-orm';
import { type Db, rows, type Tx } from '@/db/client';
import type { MfaMethod, PlanTier } from '@/lib/plans';

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
