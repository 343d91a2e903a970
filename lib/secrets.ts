import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { config } from '@/lib/config';

/**
 * Every secret the portal reads, with how a local machine makes one the first time.
 * Production reads them as files under SECRETS_DIR (the Key Vault CSI mount) and never generates them.
 */
const GENERATORS = {
  /** Encrypts the platform-token signing keys stored in Postgres (AES-256-GCM). */
  'token-signing-kek': () => crypto.randomBytes(32).toString('base64'),
  /** Encrypts and signs the next-auth session cookie. */
  'auth-secret': () => crypto.randomBytes(32).toString('base64url'),
  /** JSON `{"active": id, "keys": {id: base64}}`: the audit chain's HMAC key ring. */
  'audit-hmac-keys': () =>
    JSON.stringify({ active: 'k1', keys: { k1: crypto.randomBytes(32).toString('base64') } }),
  /** The Splunk HEC token for SIEM delivery: issued by Splunk, so never generated here. */
  'splunk-hec-token': null,
} satisfies Record<string, (() => string) | null>;

export type SecretName = keyof typeof GENERATORS;

export class MissingSecretError extends Error {
  constructor(name: SecretName, where: string) {
    super(`The secret "${name}" is missing: expected ${where}`);
    this.name = 'MissingSecretError';
  }
}

export function readSecret(name: SecretName): string {
  const c = config();
  switch (c.SECRETS_BACKEND) {
    case 'env': {
      const variable = envName(name);
      const value = process.env[variable];
      if (!value) throw new MissingSecretError(name, `in the environment variable ${variable}`);
      return value;
    }
    case 'files': {
      if (!c.SECRETS_DIR) throw new MissingSecretError(name, 'under SECRETS_DIR, which is not set');
      const file = path.join(c.SECRETS_DIR, name);
      if (!fs.existsSync(file)) throw new MissingSecretError(name, `in the file ${file}`);
      return fs.readFileSync(file, 'utf8').trim();
    }
    case 'generated': {
      const file = path.resolve(c.DATA_DIR, 'secrets', name);
      const generate = GENERATORS[name];
      if (!generate && !fs.existsSync(file)) throw new MissingSecretError(name, `in the file ${file}`);
      if (generate && !fs.existsSync(file)) {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        try {
          fs.writeFileSync(file, generate(), { flag: 'wx', mode: 0o600 });
        } catch (err) {
          // Another process generated it first; use theirs.
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
      }
      return fs.readFileSync(file, 'utf8').trim();
    }
  }
}

/** `audit-hmac-keys` is read from SECRET_AUDIT_HMAC_KEYS when SECRETS_BACKEND=env. */
export function envName(name: SecretName): string {
  return `SECRET_${name.toUpperCase().replaceAll('-', '_')}`;
}
