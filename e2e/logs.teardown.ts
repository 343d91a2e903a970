/**
 * Runs after every other e2e project (the teardown of `setup`): reads what the replicas printed during
 * the whole run (e2e/serve.ts and e2e/serve-replica.ts copy it to .e2e/logs, with the witness's) and fails on any secret, token
 * or credential material in it, and on a portal log line without the fields operations rely on.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { LOCAL_QA_CREDENTIAL_FILE, SUPERADMIN_CREDENTIAL_FILE } from './files';
import { encodings, scanLog } from './log-scan';
import { LOG_DIR, MULTI_REPLICA, SECRETS_DIR, WITNESS } from './portal-env';

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
  const checkpoint = JSON.parse(fs.readFileSync(path.join(SECRETS_DIR, 'audit-checkpoint-keys'), 'utf8')) as {
    keys: Record<string, string>;
  };
  // PKCS#8 DER in base64: its tail is the private key itself.
  for (const [id, key] of Object.entries(checkpoint.keys)) add(`audit checkpoint key ${id}`, key.slice(-40));
  // The witness's PEM: its one base64 line holds the key.
  add('witness key', fs.readFileSync(WITNESS.keyFile, 'utf8').split('\n')[1]!);
  for (const file of [SUPERADMIN_CREDENTIAL_FILE, LOCAL_QA_CREDENTIAL_FILE]) {
    if (!fs.existsSync(file)) continue;
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { credential: { privateKey: string } };
    // The private key is PKCS#8 DER in base64: any long run of it would be a leak.
    add(`private key in ${file}`, saved.credential.privateKey.slice(40, 80));
  }
  return found;
}

test('the replicas logged no secret, token or credential, and every JSON line has its fields', () => {
  const files = fs.readdirSync(LOG_DIR).filter((f) => f.endsWith('.log'));
  // Plus fault-<port>.log of each replica e2e/faults.spec.ts started, when the faults project ran.
  expect(files.filter((f) => !/^fault-\d+\.log$/.test(f)).sort()).toEqual(
    MULTI_REPLICA ? ['replica-a.log', 'replica-b.log', 'witness.log'] : ['replica-a.log', 'witness.log'],
  );
  const secrets = knownSecrets();
  let requestLines = 0;
  for (const file of files) {
    const result = scanLog(file, fs.readFileSync(path.join(LOG_DIR, file), 'utf8'), secrets);
    expect(result.leaks).toEqual([]);
    expect(result.malformed).toEqual([]);
    requestLines += result.requestLines;
  }
  // The run answered API requests (the setup project's alone make several), so there was something to scan.
  // Replica B may have answered none when only some projects ran.
  expect(requestLines).toBeGreaterThan(5);
});
