import { z } from 'zod';
import { OPTIONAL_DUAL_CONTROL } from '@/lib/auth/permissions';

type OptionalRule = keyof typeof OPTIONAL_DUAL_CONTROL;

/**
 * All configuration, parsed once from the environment. Nothing else reads process.env.
 *
 * Edge-safe (middleware.ts uses it): no Node modules here.
 *
 * PORTAL_ENV (not NODE_ENV, which `next start` always sets to production) chooses the deployment profile.
 */
const Env = z.object({
  PORTAL_ENV: z.enum(['local', 'production']).default('local'),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /**
   * The port of the internal metrics listener (`GET /metrics`, Prometheus text; lib/metrics/server.ts), a
   * second listener in the same process, outside the network gate and the ingress. Unset: none.
   */
  METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  /**
   * How long the portal waits for a PostgreSQL connection, and for one statement, before it gives up: a
   * request during a database outage is answered 503 with Retry-After within about this long.
   */
  DATABASE_CONNECT_TIMEOUT_S: z.coerce.number().int().min(1).max(60).default(5),
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  /** Where embedded mode keeps its database and generated secrets. */
  DATA_DIR: z.string().min(1).default('.data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Where secrets come from: `files` under SECRETS_DIR (the Key Vault CSI mount), `env` variables named
   * SECRET_<NAME>, or `generated` once and kept under DATA_DIR/secrets (local only).
   */
  SECRETS_BACKEND: z.enum(['files', 'env', 'generated']).optional(),
  SECRETS_DIR: z.string().min(1).optional(),

  /** The portal's own origin, as staff browsers see it. */
  PORTAL_URL: z.url().optional(),
  /** WebAuthn relying party ID; defaults to PORTAL_URL's host name. */
  WEBAUTHN_RP_ID: z.string().min(1).optional(),
  /**
   * `mds`: attestation must chain to a root in the FIDO MDS3 blob of WEBAUTHN_MDS_FILE. `relaxed`: any
   * attestation with user verification (local only, with a banner).
   */
  WEBAUTHN_ATTESTATION_TRUST: z.enum(['mds', 'relaxed']).optional(),
  /** A FIDO MDS3 blob (the JWT), read from this file; nothing is fetched. */
  WEBAUTHN_MDS_FILE: z.string().min(1).optional(),
  /** PEM of the root that signed the MDS blob; defaults to the FIDO Alliance's. */
  WEBAUTHN_MDS_ROOT_FILE: z.string().min(1).optional(),
  /** Authenticator models (AAGUIDs) that may enrol. Empty: any model. */
  WEBAUTHN_AAGUID_ALLOWLIST: csv(z.guid('each entry must be an AAGUID (8-4-4-4-12 hex digits)')),
  /** Lets production start with relaxed attestation or no AAGUID allow-list. Never set it lightly. */
  WEBAUTHN_INSECURE_OVERRIDE: z.stringbool().default(false),

  SESSION_IDLE_TIMEOUT_S: z.coerce
    .number()
    .int()
    .min(5)
    .max(86_400)
    .default(15 * 60),
  SESSION_ABSOLUTE_TIMEOUT_S: z.coerce
    .number()
    .int()
    .min(60)
    .max(7 * 86_400)
    .default(8 * 3600),
  STEP_UP_MAX_AGE_S: z.coerce.number().int().min(10).max(3600).default(300),
  /** How long an enrolment link lives: 5 minutes to 7 days. */
  INVITE_TTL_S: z.coerce
    .number()
    .int()
    .min(300)
    .max(7 * 86_400)
    .default(72 * 3600),

  /** How long a request for a dual-controlled write waits for its second person: 1 minute to 24 hours. */
  APPROVAL_TTL_S: z.coerce
    .number()
    .int()
    .min(60)
    .max(86_400)
    .default(30 * 60),
  /** Rules added to the dual-control list (OPTIONAL_DUAL_CONTROL in lib/auth/permissions.ts); none removed. */
  APPROVAL_EXTRA_RULES: csv(
    z.enum(Object.keys(OPTIONAL_DUAL_CONTROL) as [OptionalRule, ...OptionalRule[]], {
      error: `APPROVAL_EXTRA_RULES takes ${Object.keys(OPTIONAL_DUAL_CONTROL).join(', ')}`,
    }),
  ),

  /** Failed sign-ins allowed per window, per client address and per credential, before 429. */
  SIGNIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(20),
  SIGNIN_MAX_FAILURES_PER_CREDENTIAL: z.coerce.number().int().min(1).default(5),
  SIGNIN_WINDOW_S: z.coerce
    .number()
    .int()
    .min(1)
    .default(15 * 60),

  /** Acting contexts: the longest a staff member may act for an organisation, and the form's default. */
  ACTING_MAX_MINUTES: z.coerce.number().int().min(1).max(60).default(60),
  ACTING_DEFAULT_MINUTES: z.coerce.number().int().min(1).max(60).default(30),
  /** What a ticket reference must look like. */
  ACTING_TICKET_PATTERN: z
    .string()
    .default('^[A-Z][A-Z0-9]+-\\d+$')
    .refine((p) => {
      try {
        new RegExp(p);
        return true;
      } catch {
        return false;
      }
    }, 'must be a valid regular expression'),
  /** A ticket reference that matches the pattern, which the error for a bad one gives as an example. */
  ACTING_TICKET_EXAMPLE: z.string().min(1).default('SUP-2041'),
  /** Platform API tokens: their audience, and how long they live (5 minutes at most). */
  PLATFORM_API_AUDIENCE: z.string().min(1).default('https://api.arbitex.ai'),
  PLATFORM_TOKEN_TTL_S: z.coerce.number().int().min(30).max(300).default(300),

  /**
   * The audit chain: how often a signed checkpoint of its head is written, even when nothing happened, and
   * the chain's name in every checkpoint (default: `staff-portal@` and the relying party ID).
   */
  AUDIT_CHECKPOINT_EVERY_S: z.coerce.number().int().min(5).max(86_400).default(60),
  /**
   * Worker threads of a verification started from /audit/verify (each with a PostgreSQL connection of
   * its own). One leaves the other core of a two-core replica to the requests.
   */
  AUDIT_VERIFY_WORKERS: z.coerce.number().int().min(1).max(16).default(1),
  /**
   * The /audit/checkpoints download kept outside the database (docs/OPERATIONS.md, restore). While the chain
   * does not reach its newest checkpoint with the same hmac (a restored older backup), the portal signs no
   * checkpoint and is not ready, until AUDIT_TRUSTED_CHECKPOINT_ACK names that checkpoint's seq.
   */
  AUDIT_TRUSTED_CHECKPOINT_FILE: z.string().min(1).optional(),
  AUDIT_TRUSTED_CHECKPOINT_ACK: z.coerce.number().int().nonnegative().optional(),
  AUDIT_CHAIN_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.:@/-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 _ . : @ / -')
    .optional(),
  /**
   * Witnesses (docs/AUDIT.md, "Witnesses"): each one's URL (the portal posts to <URL>/add-checkpoint) and, in
   * the same order, its verifier key, `<name>+<key ID>+<base64(0x04 ‖ Ed25519 key)>` as
   * `npm run audit:witness -- keygen` prints it, which its cosignatures must verify under. Empty: none.
   */
  AUDIT_WITNESS_URLS: csv(
    z
      .url({ protocol: /^https?$/, error: 'each entry must be an http:// or https:// URL' })
      .refine((u) => !new URL(u).username && !new URL(u).password, 'must not carry credentials')
      .refine((u) => !new URL(u).search && !new URL(u).hash, 'must not have a query or fragment')
      .transform((u) => u.replace(/\/+$/, '')),
  ),
  // The key ID is checked against the name and key where the keys are read (lib/audit/witnesses.ts):
  // hashing is not available to this edge-safe module.
  AUDIT_WITNESS_KEYS: csv(
    z
      .string()
      .regex(
        /^[^\s+]+\+[0-9a-f]{8}\+B[A-Za-z0-9+/]{43}$/,
        'each entry must be a witness verifier key: <name>+<8 hex digits>+<base64 of 0x04 and a 32-byte Ed25519 key>',
      ),
  ),
  /** How long one witness may take to answer a checkpoint before it counts as unreachable. */
  AUDIT_WITNESS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),

  /** Network gate: client addresses allowed in (CIDRs), after TRUSTED_PROXY_COUNT proxies. */
  TRUSTED_CIDRS: csv(
    z.string().regex(/^[0-9a-fA-F:.]+\/\d{1,3}$/, 'each entry must be a CIDR such as 10.0.0.0/8'),
  ),
  TRUSTED_PROXY_COUNT: z.coerce.number().int().min(0).max(10).default(0),
  /** Network gate: the Cloudflare Access application's JWKS URL and audience tag. */
  CF_ACCESS_JWKS_URL: z.url().optional(),
  CF_ACCESS_AUD: z.string().min(1).optional(),
  CF_ACCESS_ISSUER: z.url().optional(),

  /**
   * The GPU inference pool view (DESIGN section 7): the Prometheus HTTP API it reads. Unset: /pool says
   * it is not configured. A bearer token, when Prometheus needs one, is the secret `prometheus-bearer-token`.
   */
  PROMETHEUS_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' })
    .refine((u) => {
      const url = new URL(u);
      return !url.username && !url.password;
    }, 'must not carry credentials: put a bearer token in the secret prometheus-bearer-token')
    .refine((u) => !new URL(u).search && !new URL(u).hash, 'must not have a query or fragment')
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  /** How long one Prometheus query may take before the view reports a timeout. */
  PROMETHEUS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  /** The pool's nodes, as a regular expression on kube-state-metrics' `node` label (AKS names them by pool). */
  POOL_NODE_PATTERN: z
    .string()
    .min(1)
    .default('aks-gpupool-.*')
    .refine((p) => {
      try {
        new RegExp(p);
        return true;
      } catch {
        return false;
      }
    }, 'must be a valid regular expression'),
  /** The p95 inference latency above which /pool raises its alert, in milliseconds. */
  POOL_P95_TARGET_MS: z.coerce.number().positive().max(60_000).default(250),
  /**
   * /pool marks a sample older than this many seconds stale, and an alert that reads it "cannot tell".
   * Keep it above twice the scrape interval of the pool's exporters.
   */
  POOL_STALE_AFTER_S: z.coerce.number().int().min(5).max(3600).default(30),
  /** How often /pool refreshes, in seconds. */
  POOL_REFRESH_S: z.coerce.number().int().min(2).max(300).default(15),
  /** OpenTelemetry traces (lib/tracing.ts): off unless switched on, then sent as OTLP/HTTP. */
  OTEL_TRACES_ENABLED: z.stringbool().default(false),
  /** The collector's base URL; traces go to <it>/v1/traces. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('arbitex-staff-portal'),
  /**
   * SIEM delivery (lib/siem): the Splunk HTTP Event Collector's event endpoint, e.g.
   * https://splunk.example:8088/services/collector/event. Unset: no delivery. The token is the secret
   * `splunk-hec-token`, never part of the URL.
   */
  SPLUNK_HEC_URL: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .url()
      .refine(
        (u) => !new URL(u).username && !new URL(u).password,
        'must not contain credentials; the token is the secret splunk-hec-token',
      )
      .optional(),
  ),
  /** Events per HEC request. */
  SIEM_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(200),
  /** How often the deliverer looks for new entries, and how often a standby replica checks the lease. */
  SIEM_POLL_INTERVAL_S: z.coerce.number().min(0.1).max(3600).default(5),
  /** How long one HEC request may take before it counts as failed (and is retried). */
  SIEM_TIMEOUT_S: z.coerce.number().min(0.1).max(300).default(10),
  /** The longest wait between retries; also the wait after a refusal (4xx) that a retry cannot fix. */
  SIEM_MAX_BACKOFF_S: z.coerce.number().min(0.1).max(3600).default(300),
});

/** A comma-separated list of items, each checked by `item`. */
function csv(item: z.ZodType<string, string>) {
  return z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(item));
}

export type Config = Readonly<
  Omit<z.infer<typeof Env>, 'SECRETS_BACKEND' | 'AUDIT_CHAIN_ID'> & {
    SECRETS_BACKEND: 'files' | 'env' | 'generated';
    AUDIT_CHAIN_ID: string;
    WEBAUTHN_ATTESTATION_TRUST: 'mds' | 'relaxed';
    PORTAL_URL: string;
    WEBAUTHN_RP_ID: string;
    dbKind: 'postgres' | 'pglite';
  }
>;

/** Chromium's virtual FIDO2 authenticator, which the e2e suite uses. Never trusted in production. */
export const VIRTUAL_AUTHENTICATOR_AAGUID = '01020304-0506-0708-0102-030405060708';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Refusing to start, the configuration is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** The documented bounds (DESIGN section 4) that production may tighten but never loosen. */
export const PRODUCTION_BOUNDS = {
  STEP_UP_MAX_AGE_S: 300,
  SESSION_IDLE_TIMEOUT_S: 15 * 60,
  SESSION_ABSOLUTE_TIMEOUT_S: 8 * 3600,
} as const;

/** A ticket pattern that is unanchored, or takes an empty or free-text reference, checks nothing. */
function weakTicketPattern(pattern: string): boolean {
  const re = new RegExp(pattern);
  const anchored = pattern.startsWith('^') && pattern.endsWith('$') && !pattern.endsWith('\\$');
  return !anchored || ['', ' ', 'x', 'no ticket', 'see chat'].some((s) => re.test(s));
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  // `next start` (and the image) run with NODE_ENV=production; without PORTAL_ENV the profile would
  // silently be local. `next build` evaluates modules with it too, and is not a start-up.
  if (
    env.NODE_ENV === 'production' &&
    env.NEXT_PHASE !== 'phase-production-build' &&
    env.PORTAL_ENV === undefined
  ) {
    throw new ConfigError([
      'PORTAL_ENV is not set under a production build (NODE_ENV=production): set PORTAL_ENV=production, or local for a local run',
    ]);
  }
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const secretsBackend =
    e.SECRETS_BACKEND ?? (e.SECRETS_DIR ? 'files' : e.PORTAL_ENV === 'production' ? 'files' : 'generated');
  const portalUrl = e.PORTAL_URL ?? `http://localhost:${e.PORT}`;
  const rpId = e.WEBAUTHN_RP_ID ?? new URL(portalUrl).hostname;
  const config: Config = {
    ...e,
    SECRETS_BACKEND: secretsBackend,
    PORTAL_URL: portalUrl.replace(/\/$/, ''),
    WEBAUTHN_RP_ID: rpId,
    AUDIT_CHAIN_ID: e.AUDIT_CHAIN_ID ?? `staff-portal@${rpId}`,
    WEBAUTHN_ATTESTATION_TRUST:
      e.WEBAUTHN_ATTESTATION_TRUST ?? (e.PORTAL_ENV === 'production' ? 'mds' : 'relaxed'),
    dbKind: e.DATABASE_URL ? 'postgres' : 'pglite',
  };
  const problems = productionProblems(config);
  if (config.TRUSTED_CIDRS.length > 0 && config.TRUSTED_PROXY_COUNT === 0) {
    // Next hands middleware whatever X-Forwarded-For the client sent, so without a proxy that sets it
    // the client address cannot be known, and the address check would refuse everyone.
    problems.push(
      'TRUSTED_CIDRS needs TRUSTED_PROXY_COUNT of 1 or more: the client address comes from the proxies',
    );
  }
  if (config.METRICS_PORT === config.PORT)
    problems.push('METRICS_PORT must differ from PORT: the metrics listener is a port of its own');
  if (config.AUDIT_WITNESS_URLS.length !== config.AUDIT_WITNESS_KEYS.length)
    problems.push(
      `AUDIT_WITNESS_URLS has ${config.AUDIT_WITNESS_URLS.length} entries and AUDIT_WITNESS_KEYS ${config.AUDIT_WITNESS_KEYS.length}: they pair by position, one key per witness`,
    );
  for (const [name, list] of [
    ['AUDIT_WITNESS_URLS', config.AUDIT_WITNESS_URLS],
    ['AUDIT_WITNESS_KEYS', config.AUDIT_WITNESS_KEYS.map((k) => k.split('+')[0]!)],
  ] as const) {
    const twice = list.filter((item, i) => list.indexOf(item) !== i);
    if (twice.length > 0) problems.push(`${name} names ${twice[0]} twice: each witness once`);
  }
  if (config.OTEL_TRACES_ENABLED && !config.OTEL_EXPORTER_OTLP_ENDPOINT)
    problems.push('OTEL_TRACES_ENABLED needs OTEL_EXPORTER_OTLP_ENDPOINT, the collector to send traces to');
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Settings that are fine on a laptop but insecure in production. Each is one line of the refusal. */
function productionProblems(c: Config): string[] {
  if (c.PORTAL_ENV !== 'production') return [];
  const problems: string[] = [];
  if (c.dbKind === 'pglite')
    problems.push('DATABASE_URL is not set: production needs PostgreSQL, not the embedded database');
  if (c.SECRETS_BACKEND === 'env')
    problems.push('SECRETS_BACKEND=env: production reads secrets from files under SECRETS_DIR');
  if (c.SECRETS_BACKEND === 'generated')
    problems.push('SECRETS_BACKEND=generated: production never generates its own secrets');
  if (!c.SECRETS_DIR)
    problems.push('SECRETS_DIR is not set: production reads secrets from the Key Vault CSI mount');
  if (c.WEBAUTHN_RP_ID === 'localhost')
    problems.push('WEBAUTHN_RP_ID is localhost: set PORTAL_URL (or WEBAUTHN_RP_ID) to the real host');
  if (!c.PORTAL_URL.startsWith('https://')) problems.push('PORTAL_URL must be an https:// URL in production');
  if (c.TRUSTED_CIDRS.length === 0 && !(c.CF_ACCESS_JWKS_URL && c.CF_ACCESS_AUD))
    // Every gate also gives the client address (lib/auth/network-gate.ts): after the trusted proxies with
    // TRUSTED_CIDRS, which needs TRUSTED_PROXY_COUNT (checked below), or CF-Connecting-IP behind Access.
    problems.push(
      'no network gate, and the client address would be unknown: set TRUSTED_CIDRS (with TRUSTED_PROXY_COUNT), or CF_ACCESS_JWKS_URL and CF_ACCESS_AUD, or both',
    );
  for (const any of c.TRUSTED_CIDRS.filter((cidr) => /\/0+$/.test(cidr)))
    problems.push(`TRUSTED_CIDRS contains ${any}, which lets every address in: the gate would check nothing`);
  if (c.CF_ACCESS_JWKS_URL && !c.CF_ACCESS_JWKS_URL.startsWith('https://'))
    problems.push(
      'CF_ACCESS_JWKS_URL must be an https:// URL in production: the keys decide who passes the gate',
    );
  if ((c.CF_ACCESS_JWKS_URL || c.CF_ACCESS_AUD) && !c.CF_ACCESS_ISSUER)
    problems.push('CF_ACCESS_ISSUER is not set: with Cloudflare Access on, the token issuer must be checked');
  for (const key of Object.keys(PRODUCTION_BOUNDS) as (keyof typeof PRODUCTION_BOUNDS)[]) {
    if (c[key] > PRODUCTION_BOUNDS[key])
      problems.push(`${key} is above ${PRODUCTION_BOUNDS[key]}, the documented bound (DESIGN section 4)`);
  }
  if (weakTicketPattern(c.ACTING_TICKET_PATTERN))
    problems.push(
      'ACTING_TICKET_PATTERN is weaker than a ticket reference: anchor it (^…$) and refuse empty or free text',
    );
  if (!c.WEBAUTHN_INSECURE_OVERRIDE) {
    if (c.WEBAUTHN_ATTESTATION_TRUST !== 'mds')
      problems.push('WEBAUTHN_ATTESTATION_TRUST is not mds: attestation trust is off');
    else if (!c.WEBAUTHN_MDS_FILE)
      problems.push('WEBAUTHN_MDS_FILE is not set: attestation trust needs a FIDO MDS3 blob');
    if (c.WEBAUTHN_AAGUID_ALLOWLIST.length === 0)
      problems.push('WEBAUTHN_AAGUID_ALLOWLIST is empty: the AAGUID policy is off');
  }
  if (c.SPLUNK_HEC_URL && !c.SPLUNK_HEC_URL.startsWith('https://'))
    problems.push(
      'SPLUNK_HEC_URL must be an https:// URL in production: the HEC token travels with every request',
    );
  for (const url of c.AUDIT_WITNESS_URLS.filter((u) => !u.startsWith('https://')))
    problems.push(
      `AUDIT_WITNESS_URLS must be https:// URLs in production: ${url} (on plain HTTP anyone on the path can refuse or drop the checkpoints for the witness)`,
    );
  if (c.WEBAUTHN_AAGUID_ALLOWLIST.includes(VIRTUAL_AUTHENTICATOR_AAGUID))
    problems.push(
      `WEBAUTHN_AAGUID_ALLOWLIST contains ${VIRTUAL_AUTHENTICATOR_AAGUID}, Chromium's virtual test authenticator`,
    );
  return problems;
}

let cached: Config | undefined;

export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}
