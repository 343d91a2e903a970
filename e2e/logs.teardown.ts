/**
 * Runs after every other e2e project (the teardown of `setup`): reads what the replicas printed during
 * the whole run (e2e/serve.ts and e2e/serve-replica.ts copy it to .e2e/logs) and fails on any secret, token
 * or credential material in it, and on a portal log line without the fields operations rely on.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { LOCAL_QA_CREDENTIAL_FILE, SUPERADMIN_CREDENTIAL_FILE } from './files';
import { LOG_DIR, MULTI_REPLICA, SECRETS_DIR } from './portal-env';

/** The forms a secret's bytes could be printed in. */
function encodings(bytes: Buffer): string[] {
  return [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('hex')].map((s) =>
    s.replace(/=+$/, ''),
  );
}

/** Every secret value of this run, raw and encoded, with the name to report. */
function knownSecrets(): [string, string][] {
  const found: [string, string][] = [];
  const add = (name: string, value: string) => {
    if (value.length >= 16) found.push([name, value]);
  };
  const auth = fs.readFileSync(path.join(SECRETS_DIR, 'auth-secret'), 'utf8').trim();
  add('auth-secret', auth);
  const kek = fs.readFileSync(path.join(SECRETS_DIR, 'token-signing-kek'), 'utf8').trim();
  for (const e of encodings(Buffer.from(kek, 'base64'))) add('token-signing-kek', e);
  const ring = JSON.parse(fs.readFileSync(path.join(SECRETS_DIR, 'audit-hmac-keys'), 'utf8')) as {
    keys: Record<string, string>;
  };
  for (const [id, key] of Object.entries(ring.keys))
    for (const e of encodings(Buffer.from(key, 'base64'))) add(`audit HMAC key ${id}`, e);
  for (const file of [SUPERADMIN_CREDENTIAL_FILE, LOCAL_QA_CREDENTIAL_FILE]) {
    if (!fs.existsSync(file)) continue;
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { credential: { privateKey: string } };
    // The private key is PKCS#8 DER in base64: any long run of it would be a leak.
    add(`private key in ${file}`, saved.credential.privateKey.slice(40, 80));
  }
  return found;
}

/** Shapes of credential material, whoever it belongs to. */
const PATTERNS: [string, RegExp][] = [
  ['a JWT, JWS or JWE (session cookie, platform token, Cloudflare Access token)', /eyJ[\w-]{8,}\.[\w-]*\./],
  ['a PEM block', /-----BEGIN [A-Z ]+-----/],
  ['a session or CSRF cookie', /(portal\.session|next-auth\.[a-z-]+|CF_Authorization)=[^;\s"]/i],
  ['an Authorization header', /\b(Bearer|Basic) [A-Za-z0-9+/._-]{16,}/],
  ['an enrolment link with its token', /\/enroll\/[A-Za-z0-9_-]{20,}/],
];

// `npm start` prints the first superadmin's one-time enrolment link on an empty local database, by
// design (README: it is how the first key is enrolled; production never prints it, and the setup project
// spends it). That one launcher line is the only exception.
const BOOTSTRAP_LINE = /^Enrol: http:\/\/localhost:\d+\/enroll\/[A-Za-z0-9_-]+$/;

test('the replicas logged no secret, token or credential, and every JSON line has its fields', () => {
  const files = fs.readdirSync(LOG_DIR).filter((f) => f.endsWith('.log'));
  expect(files.sort()).toEqual(MULTI_REPLICA ? ['replica-a.log', 'replica-b.log'] : ['replica-a.log']);
  const secrets = knownSecrets();
  const leaks: string[] = [];
  for (const file of files) {
    const lines = fs.readFileSync(path.join(LOG_DIR, file), 'utf8').split('\n');
    let requestLines = 0;
    lines.forEach((line, i) => {
      const where = `${file}:${i + 1}`;
      if (BOOTSTRAP_LINE.test(line)) return;
      for (const [name, value] of secrets) if (line.includes(value)) leaks.push(`${where}: ${name}`);
      for (const [name, pattern] of PATTERNS) if (pattern.test(line)) leaks.push(`${where}: ${name}`);
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry, where).toMatchObject({
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        level: expect.any(String),
        msg: expect.any(String),
      });
      if (entry.msg === 'request') {
        requestLines++;
        expect(Object.keys(entry), where).toEqual(
          expect.arrayContaining(['request_id', 'staff_id', 'org_id', 'status', 'path']),
        );
        expect(entry.request_id, where).toEqual(expect.any(String));
      }
    });
    // Each replica answered API requests during the run, so there was something to scan.
    expect(requestLines, file).toBeGreaterThan(5);
  }
  expect(leaks).toEqual([]);
});
