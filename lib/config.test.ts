import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, VIRTUAL_AUTHENTICATOR_AAGUID } from './config';

function problems(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('parseConfig', () => {
  it('defaults to a local profile on the embedded database with generated secrets', () => {
    expect(parseConfig({})).toMatchObject({
      PORTAL_ENV: 'local',
      PORT: 3000,
      dbKind: 'pglite',
      SECRETS_BACKEND: 'generated',
    });
    expect(parseConfig({ DATABASE_URL: 'postgres://u:p@db:5432/portal' }).dbKind).toBe('postgres');
  });

  it('bounds the invitation lifetime to 5 minutes .. 7 days', () => {
    expect(parseConfig({ INVITE_TTL_S: '900' }).INVITE_TTL_S).toBe(900);
    expect(problems({ INVITE_TTL_S: String(8 * 86_400) })).toEqual([
      expect.stringMatching(/^INVITE_TTL_S: /),
    ]);
    expect(problems({ INVITE_TTL_S: '60' })).toEqual([expect.stringMatching(/^INVITE_TTL_S: /)]);
  });

  it('names the field that is wrong', () => {
    expect(problems({ PORT: 'eighty' })).toEqual([expect.stringMatching(/^PORT: /)]);
    expect(problems({ DATABASE_URL: 'mysql://x' })).toEqual(['DATABASE_URL: must be a postgres:// URL']);
    expect(problems({ PORTAL_ENV: 'staging' })).toEqual([expect.stringMatching(/^PORTAL_ENV: /)]);
  });

  it('takes METRICS_PORT only as a port of its own', () => {
    expect(problems({ METRICS_PORT: '9464' })).toEqual([]);
    expect(problems({ METRICS_PORT: '3000', PORT: '3000' })).toEqual([
      expect.stringMatching(/^METRICS_PORT must differ from PORT/),
    ]);
    expect(problems({ METRICS_PORT: '0' })).toEqual([expect.stringMatching(/^METRICS_PORT: /)]);
  });

  const CF = {
    CF_ACCESS_JWKS_URL: 'https://team.cloudflareaccess.com/cdn-cgi/access/certs',
    CF_ACCESS_AUD: 'aud-tag',
    CF_ACCESS_ISSUER: 'https://team.cloudflareaccess.com',
  };

  /** A witness's verifier key as `npm run audit:witness -- keygen` prints it. */
  const WITNESS_VKEY = 'witness.example/w1+4e1eeec9+BLY4qllPuKJD+PMesUutHswhddF/cUVaHYySFxyEsamP';

  it('takes witnesses as URLs and verifier keys paired by position, each once', () => {
    expect(
      parseConfig({ AUDIT_WITNESS_URLS: 'http://127.0.0.1:7380/', AUDIT_WITNESS_KEYS: WITNESS_VKEY }),
    ).toMatchObject({ AUDIT_WITNESS_URLS: ['http://127.0.0.1:7380'], AUDIT_WITNESS_KEYS: [WITNESS_VKEY] });
    expect(
      problems({ ...SECURE, AUDIT_WITNESS_URLS: 'https://w1.example', AUDIT_WITNESS_KEYS: WITNESS_VKEY }),
    ).toEqual([]);
    expect(
      problems({
        AUDIT_WITNESS_URLS: 'https://w1.example,https://w2.example',
        AUDIT_WITNESS_KEYS: WITNESS_VKEY,
      }),
    ).toEqual([
      'AUDIT_WITNESS_URLS has 2 entries and AUDIT_WITNESS_KEYS 1: they pair by position, one key per witness',
    ]);
    expect(
      problems({
        AUDIT_WITNESS_URLS: 'https://w1.example,https://w1.example',
        AUDIT_WITNESS_KEYS: `${WITNESS_VKEY},${WITNESS_VKEY}`,
      }),
    ).toEqual([
      'AUDIT_WITNESS_URLS names https://w1.example twice: each witness once',
      'AUDIT_WITNESS_KEYS names witness.example/w1 twice: each witness once',
    ]);
    // A note signer's key (type 0x01) is not a witness key; nor is a URL with credentials.
    expect(
      problems({
        AUDIT_WITNESS_URLS: 'https://w1.example',
        AUDIT_WITNESS_KEYS: WITNESS_VKEY.replace('+BLY', '+ALY'),
      }),
    ).toEqual([expect.stringMatching(/^AUDIT_WITNESS_KEYS\.0: each entry must be a witness verifier key/)]);
    expect(
      problems({ AUDIT_WITNESS_URLS: 'https://u:p@w1.example', AUDIT_WITNESS_KEYS: WITNESS_VKEY }),
    ).toEqual([expect.stringMatching(/^AUDIT_WITNESS_URLS\.0: must not carry credentials/)]);
  });

  const SECURE = {
    PORTAL_ENV: 'production',
    DATABASE_URL: 'postgres://db/portal',
    SECRETS_DIR: '/mnt/secrets',
    PORTAL_URL: 'https://int.arbitex.ai',
    TRUSTED_CIDRS: '10.20.0.0/16',
    TRUSTED_PROXY_COUNT: '1',
    WEBAUTHN_MDS_FILE: '/etc/portal/mds.jwt',
    WEBAUTHN_AAGUID_ALLOWLIST: 'ee882879-721c-4913-9775-3dfcce97072a',
  };

  it('refuses a production build (NODE_ENV=production, as next start sets it) without PORTAL_ENV', () => {
    expect(problems({ NODE_ENV: 'production' })).toEqual([expect.stringMatching(/^PORTAL_ENV is not set/)]);
    expect(problems({ NODE_ENV: 'production', PORTAL_ENV: 'local' })).toEqual([]);
    // `next build` evaluates modules with NODE_ENV=production too; it is not a start-up.
    expect(problems({ NODE_ENV: 'production', NEXT_PHASE: 'phase-production-build' })).toEqual([]);
  });

  it('accepts a secure production configuration', () => {
    expect(problems(SECURE)).toEqual([]);
    expect(parseConfig(SECURE)).toMatchObject({
      WEBAUTHN_RP_ID: 'int.arbitex.ai',
      WEBAUTHN_ATTESTATION_TRUST: 'mds',
    });
    const { TRUSTED_CIDRS: _cidrs, ...cloudflare } = SECURE;
    expect(
      problems({
        ...cloudflare,
        ...CF,
      }),
    ).toEqual([]);
    expect(problems({ ...SECURE, ...CF, STEP_UP_MAX_AGE_S: '120', SESSION_IDLE_TIMEOUT_S: '600' })).toEqual(
      [],
    );
  });

  it.each([
    [{ DATABASE_URL: undefined }, /^DATABASE_URL is not set/],
    [{ SECRETS_DIR: undefined }, /^SECRETS_DIR is not set/],
    [{ SECRETS_BACKEND: 'env' }, /^SECRETS_BACKEND=env/],
    [{ SECRETS_BACKEND: 'generated' }, /^SECRETS_BACKEND=generated/],
    [{ PORTAL_URL: 'https://localhost' }, /^WEBAUTHN_RP_ID is localhost/],
    [{ PORTAL_URL: 'http://int.arbitex.ai' }, /^PORTAL_URL must be an https/],
    [{ TRUSTED_CIDRS: undefined }, /^no network gate/],
    [{ WEBAUTHN_ATTESTATION_TRUST: 'relaxed' }, /attestation trust is off/],
    [{ WEBAUTHN_MDS_FILE: undefined }, /^WEBAUTHN_MDS_FILE is not set/],
    [{ WEBAUTHN_AAGUID_ALLOWLIST: undefined }, /the AAGUID policy is off/],
    [{ TRUSTED_CIDRS: '10.20.0.0/16,0.0.0.0/0' }, /^TRUSTED_CIDRS contains 0\.0\.0\.0\/0/],
    [{ TRUSTED_CIDRS: '::/0' }, /^TRUSTED_CIDRS contains ::\/0/],
    [
      { ...CF, CF_ACCESS_JWKS_URL: 'http://team.cloudflareaccess.com/cdn-cgi/access/certs' },
      /^CF_ACCESS_JWKS_URL must be an https/,
    ],
    [{ ...CF, CF_ACCESS_ISSUER: undefined }, /^CF_ACCESS_ISSUER is not set/],
    [{ STEP_UP_MAX_AGE_S: '301' }, /^STEP_UP_MAX_AGE_S is above 300/],
    [{ SESSION_IDLE_TIMEOUT_S: '901' }, /^SESSION_IDLE_TIMEOUT_S is above 900/],
    [{ SESSION_ABSOLUTE_TIMEOUT_S: '28801' }, /^SESSION_ABSOLUTE_TIMEOUT_S is above 28800/],
    [{ ACTING_TICKET_PATTERN: '.*' }, /^ACTING_TICKET_PATTERN is weaker/],
    [{ ACTING_TICKET_PATTERN: '[A-Z]+-\\d+' }, /^ACTING_TICKET_PATTERN is weaker/],
    [
      { AUDIT_WITNESS_URLS: 'http://w1.example', AUDIT_WITNESS_KEYS: WITNESS_VKEY },
      /^AUDIT_WITNESS_URLS must be https:\/\/ URLs in production: http:\/\/w1\.example/,
    ],
  ] as const)('refuses production with %o, in one line naming it', (change, message) => {
    const env = Object.fromEntries(
      Object.entries({ ...SECURE, ...change }).filter(([, v]) => v !== undefined),
    ) as Record<string, string>;
    expect(problems(env)).toEqual([expect.stringMatching(message)]);
  });

  it('refuses production settings that leave the client address unknown, and takes Access alone', () => {
    const { TRUSTED_CIDRS: _cidrs, ...rest } = SECURE;
    expect(problems({ ...rest, TRUSTED_PROXY_COUNT: '0' })).toEqual([
      expect.stringMatching(/^no network gate, and the client address would be unknown/),
    ]);
    expect(problems({ ...SECURE, TRUSTED_PROXY_COUNT: '0' })).toEqual([
      expect.stringMatching(/^TRUSTED_CIDRS needs TRUSTED_PROXY_COUNT/),
    ]);
    // Access alone: CF-Connecting-IP, believed once the Access token verifies.
    expect(problems({ ...rest, ...CF, TRUSTED_PROXY_COUNT: '0' })).toEqual([]);
  });

  it("never lets production trust Chromium's virtual test authenticator, override or not", () => {
    const aaguids = `${SECURE.WEBAUTHN_AAGUID_ALLOWLIST},${VIRTUAL_AUTHENTICATOR_AAGUID}`;
    expect(problems({ ...SECURE, WEBAUTHN_AAGUID_ALLOWLIST: aaguids })).toEqual([
      expect.stringMatching(/virtual test authenticator/),
    ]);
    expect(
      problems({ ...SECURE, WEBAUTHN_AAGUID_ALLOWLIST: aaguids, WEBAUTHN_INSECURE_OVERRIDE: 'true' }),
    ).toHaveLength(1);
    expect(problems({ WEBAUTHN_AAGUID_ALLOWLIST: VIRTUAL_AUTHENTICATOR_AAGUID })).toEqual([]);
  });

  it('lets production start with relaxed attestation only when told explicitly', () => {
    const relaxed = { ...SECURE, WEBAUTHN_ATTESTATION_TRUST: 'relaxed', WEBAUTHN_AAGUID_ALLOWLIST: '' };
    expect(problems(relaxed)).toHaveLength(2);
    expect(problems({ ...relaxed, WEBAUTHN_INSECURE_OVERRIDE: 'true' })).toEqual([]);
  });

  it('lists every problem of an empty production configuration at once', () => {
    expect(problems({ PORTAL_ENV: 'production' }).length).toBeGreaterThanOrEqual(6);
  });

  it('parses lists and refuses a bad entry by name', () => {
    expect(problems({ TRUSTED_CIDRS: '10.0.0.0/8' })).toEqual([
      expect.stringMatching(/^TRUSTED_CIDRS needs TRUSTED_PROXY_COUNT/),
    ]);
    expect(
      parseConfig({ TRUSTED_CIDRS: '10.0.0.0/8, 192.168.1.0/24', TRUSTED_PROXY_COUNT: '1' }).TRUSTED_CIDRS,
    ).toEqual(['10.0.0.0/8', '192.168.1.0/24']);
    expect(problems({ TRUSTED_CIDRS: '10.0.0.0/8,nonsense', TRUSTED_PROXY_COUNT: '1' })).toEqual([
      expect.stringMatching(/^TRUSTED_CIDRS\.1: each entry must be a CIDR/),
    ]);
    expect(problems({ WEBAUTHN_AAGUID_ALLOWLIST: 'not-a-uuid' })).toEqual([
      expect.stringMatching(/^WEBAUTHN_AAGUID_ALLOWLIST\.0: /),
    ]);
  });

  it('takes an optional PROMETHEUS_URL without credentials, and the pool settings', () => {
    expect(parseConfig({}).PROMETHEUS_URL).toBeUndefined();
    expect(parseConfig({ PROMETHEUS_URL: 'http://prometheus.monitoring:9090/' })).toMatchObject({
      PROMETHEUS_URL: 'http://prometheus.monitoring:9090',
      PROMETHEUS_TIMEOUT_MS: 5000,
      POOL_P95_TARGET_MS: 250,
      POOL_REFRESH_S: 15,
      POOL_STALE_AFTER_S: 30,
      POOL_NODE_PATTERN: 'aks-gpupool-.*',
    });
    expect(problems({ PROMETHEUS_URL: 'ftp://prometheus' })).toEqual([
      'PROMETHEUS_URL: must be an http:// or https:// URL',
    ]);
    expect(problems({ PROMETHEUS_URL: 'https://reader:hunter2@prometheus' })).toEqual([
      'PROMETHEUS_URL: must not carry credentials: put a bearer token in the secret prometheus-bearer-token',
    ]);
    expect(problems({ POOL_NODE_PATTERN: 'aks-(' })).toEqual([
      'POOL_NODE_PATTERN: must be a valid regular expression',
    ]);
    expect(problems({ POOL_REFRESH_S: '0' })).toEqual([expect.stringMatching(/^POOL_REFRESH_S: /)]);
    expect(problems({ POOL_STALE_AFTER_S: '1' })).toEqual([expect.stringMatching(/^POOL_STALE_AFTER_S: /)]);
  });
});
