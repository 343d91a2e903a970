/** The five canonical plan tiers (ADR-012). The Postgres enum `plan_tier` is made from this list. */
export const PLAN_TIERS = [
  'devfree_saas',
  'devpro_saas',
  'team_saas',
  'enterprise_saas',
  'enterprise_outpost',
] as const;
export type PlanTier = (typeof PLAN_TIERS)[number];

/** Tiers that may hold enterprise entitlements. */
export const ENTERPRISE_TIERS: ReadonlySet<PlanTier> = new Set(['enterprise_saas', 'enterprise_outpost']);

export const TIER_LABELS: Record<PlanTier, string> = {
  devfree_saas: 'Developer Free',
  devpro_saas: 'Developer Pro (Early Access)',
  team_saas: 'Team',
  enterprise_saas: 'Enterprise SaaS',
  enterprise_outpost: 'Enterprise Outpost',
};

/** MFA methods an organisation's users may use; all three means "any MFA". */
export const MFA_METHODS = ['fido2', 'totp', 'sms'] as const;
export type MfaMethod = (typeof MFA_METHODS)[number];

export const MFA_METHOD_LABELS: Record<MfaMethod, string> = {
  fido2: 'FIDO2 security key',
  totp: 'Authenticator app (TOTP)',
  sms: 'SMS',
};

/** "Required; FIDO2 security key" or "Optional; any MFA". */
export function describeMfa(required: boolean, methods: readonly MfaMethod[]): string {
  const which =
    methods.length === MFA_METHODS.length ? 'any MFA' : methods.map((m) => MFA_METHOD_LABELS[m]).join(', ');
  return `${required ? 'Required' : 'Optional'}; ${which}`;
}

/** SIEM connectors an enterprise organisation may be entitled to; the Postgres enum `siem_connector`. */
export const SIEM_CONNECTORS = [
  'splunk_hec',
  'sentinel',
  'elastic',
  'datadog',
  'security_hub',
  'chronicle',
  'qradar',
] as const;
export type SiemConnector = (typeof SIEM_CONNECTORS)[number];

/** Bounds of an enterprise organisation's audit retention, in days. */
export const RETENTION_DAYS = { min: 90, max: 3650 } as const;

/** An Outpost's inference mode (ADR-013); `cpu_trial` is vendor-only. The Postgres enum `inference_mode`. */
export const INFERENCE_MODES = ['gpu', 'cpu_trial'] as const;
export type InferenceMode = (typeof INFERENCE_MODES)[number];
export const INFERENCE_MODE_LABELS: Record<InferenceMode, string> = { gpu: 'GPU', cpu_trial: 'CPU trial' };
