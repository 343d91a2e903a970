import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { refusalLines, startupProblems, startupWarnings } from './startup';

let dir: string;

const GOOD = {
  'audit-hmac-keys': JSON.stringify({
    active: 'k1',
    keys: { k1: crypto.randomBytes(32).toString('base64') },
  }),
  'auth-secret': crypto.randomBytes(32).toString('base64url'),
  'token-signing-kek': crypto.randomBytes(32).toString('base64'),
  'audit-checkpoint-keys': JSON.stringify({
    active: 'cp1',
    keys: {
      cp1: crypto
        .generateKeyPairSync('ed25519')
        .privateKey.export({ format: 'der', type: 'pkcs8' })
        .toString('base64'),
    },
  }),
};

function writeSecrets(secrets: Partial<Record<keyof typeof GOOD, string>>) {
  for (const [name, value] of Object.entries(secrets))
    if (value !== undefined) fs.writeFileSync(path.join(dir, name), value);
}

/** A production configuration that passes every check, with secret files under `dir`. */
function production(change: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    PORTAL_ENV: 'production',
    DATABASE_URL: 'postgres://db/portal',
    SECRETS_DIR: dir,
    PORTAL_URL: 'https://int.arbitex.ai',
    CF_ACCESS_JWKS_URL: 'https://team.cloudflareaccess.com/cdn-cgi/access/certs',
    CF_ACCESS_AUD: 'aud-tag',
    CF_ACCESS_ISSUER: 'https://team.cloudflareaccess.com',
    WEBAUTHN_MDS_FILE: 'e2e/fixtures/mds/blob.jwt',
    WEBAUTHN_AAGUID_ALLOWLIST: 'ee882879-721c-4913-9775-3dfcce97072a',
    ...change,
  };
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-secrets-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('startupProblems (PORTAL_ENV=production)', () => {
  it('passes a secure production configuration with every secret file present', () => {
    writeSecrets(GOOD);
    expect(startupProblems(production())).toEqual([]);
  });

  it('refuses a missing required secret, naming the file', () => {
    writeSecrets({ ...GOOD, 'audit-hmac-keys': undefined });
    expect(startupProblems(production())).toEqual([
      `The secret "audit-hmac-keys" is missing: expected in the file ${path.join(dir, 'audit-hmac-keys')}`,
    ]);
    writeSecrets({ ...GOOD, 'auth-secret': '\n' });
    expect(startupProblems(production())).toEqual([expect.stringMatching(/"auth-secret" is missing.*empty/)]);
  });

  it('needs the Splunk HEC token only when SIEM delivery is configured', () => {
    writeSecrets(GOOD);
    const siem = { SPLUNK_HEC_URL: 'https://splunk.example:8088/services/collector/event' };
    expect(startupProblems(production(siem))).toEqual([
      `The secret "splunk-hec-token" is missing: expected in the file ${path.join(dir, 'splunk-hec-token')} (SPLUNK_HEC_URL is set)`,
    ]);
    fs.writeFileSync(path.join(dir, 'splunk-hec-token'), 'b6b5a7c2-hec-token');
    expect(startupProblems(production(siem))).toEqual([]);
  });

  it('refuses a malformed secret without quoting it', () => {
    const shortKek = crypto.randomBytes(16).toString('base64');
    writeSecrets({ ...GOOD, 'token-signing-kek': shortKek, 'audit-hmac-keys': '{"active":"k9","keys":{}}' });
    const problems = startupProblems(production());
    expect(problems).toEqual([
      'The secret "token-signing-kek" is not valid: must be 32 random bytes, base64',
      'The secret "audit-hmac-keys" is not valid: the active key "k9" is not in keys',
    ]);
    expect(problems.join('\n')).not.toContain(shortKek);
  });

  it.each([
    ['secrets from the environment', { SECRETS_BACKEND: 'env' }, /^SECRETS_BACKEND=env/],
    ['localhost as the relying party', { PORTAL_URL: 'https://localhost' }, /^WEBAUTHN_RP_ID is localhost/],
    ['no network gate', { CF_ACCESS_JWKS_URL: undefined, CF_ACCESS_AUD: undefined }, /^no network gate/],
    [
      'attestation trust off without the override',
      { WEBAUTHN_ATTESTATION_TRUST: 'relaxed' },
      /attestation trust is off/,
    ],
    ['the embedded PGlite database', { DATABASE_URL: undefined }, /^DATABASE_URL is not set.*PostgreSQL/],
  ])('refuses %s, in one line', (_name, change, message) => {
    writeSecrets(GOOD);
    expect(startupProblems(production(change))).toEqual([expect.stringMatching(message)]);
  });

  it('refuses an attestation metadata file it cannot read', () => {
    writeSecrets(GOOD);
    expect(startupProblems(production({ WEBAUTHN_MDS_FILE: path.join(dir, 'no-blob.jwt') }))).toEqual([
      `WEBAUTHN_MDS_FILE: the file ${path.join(dir, 'no-blob.jwt')} cannot be read`,
    ]);
  });

  it('lets relaxed attestation through only with the explicit override', () => {
    writeSecrets(GOOD);
    const relaxed = production({ WEBAUTHN_ATTESTATION_TRUST: 'relaxed', WEBAUTHN_INSECURE_OVERRIDE: 'true' });
    expect(startupProblems(relaxed)).toEqual([]);
  });

  it('names every problem at once: the configuration and the secret files together', () => {
    writeSecrets({ 'auth-secret': GOOD['auth-secret'] });
    const problems = startupProblems({ PORTAL_ENV: 'production', SECRETS_DIR: dir });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^DATABASE_URL is not set/),
        expect.stringMatching(/^WEBAUTHN_RP_ID is localhost/),
        expect.stringMatching(/^no network gate/),
        expect.stringMatching(/^WEBAUTHN_MDS_FILE is not set/),
        expect.stringMatching(/^The secret "audit-hmac-keys" is missing/),
        expect.stringMatching(/^The secret "token-signing-kek" is missing/),
      ]),
    );
    expect(problems.some((p) => p.includes('"auth-secret"'))).toBe(false);
  });

  it('never generates a secret for a refused configuration', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-data-'));
    startupProblems({ PORTAL_ENV: 'production', SECRETS_BACKEND: 'generated', DATA_DIR: dataDir });
    expect(fs.readdirSync(dataDir)).toEqual([]);
    fs.rmSync(dataDir, { recursive: true });
  });

  it('prints one JSON line per problem', () => {
    const lines = refusalLines(['first problem', 'second problem'], new Date('2026-01-02T03:04:05Z'));
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual([
      { time: '2026-01-02T03:04:05.000Z', level: 'fatal', msg: 'Refusing to start: first problem' },
      { time: '2026-01-02T03:04:05.000Z', level: 'fatal', msg: 'Refusing to start: second problem' },
    ]);
  });
});

describe('instrumentation register()', () => {
  it('exits before serving when there is a problem, and does nothing in the edge runtime', async () => {
    const { register } = await import('../instrumentation');
    const exit = vi.spyOn(process, 'exit').mockImplementation(() => {
      throw new Error('process.exit');
    });
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    vi.stubEnv('NEXT_RUNTIME', 'edge');
    vi.stubEnv('PORTAL_ENV', 'production');
    await register();
    expect(exit).not.toHaveBeenCalled();
    vi.stubEnv('NEXT_RUNTIME', 'nodejs');
    await expect(register()).rejects.toThrow('process.exit');
    expect(exit).toHaveBeenCalledWith(1);
    expect(error.mock.calls.map(([line]) => JSON.parse(String(line)) as { msg: string })).toContainEqual(
      expect.objectContaining({
        msg: expect.stringMatching(/^Refusing to start: WEBAUTHN_RP_ID is localhost/),
      }),
    );
    vi.unstubAllEnvs();
    exit.mockRestore();
    error.mockRestore();
  });
});

describe('startupWarnings', () => {
  it('says loudly that WEBAUTHN_INSECURE_OVERRIDE is on, and nothing when it is off', () => {
    expect(startupWarnings({ WEBAUTHN_INSECURE_OVERRIDE: true, PORTAL_ENV: 'production' })).toEqual([
      expect.stringMatching(/^INSECURE: WEBAUTHN_INSECURE_OVERRIDE is on in production: /),
    ]);
    expect(startupWarnings({ WEBAUTHN_INSECURE_OVERRIDE: false, PORTAL_ENV: 'production' })).toEqual([]);
  });
});
