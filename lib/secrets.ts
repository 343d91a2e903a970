import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Config, config } from '@/lib/config';

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
  /**
   * JSON `{"active": id, "keys": {id: base64 PKCS#8 DER, or PEM}}`: the Ed25519 keys that sign the audit
   * chain's checkpoints. Kept apart from the HMAC keys: a separate secret, with its own access.
   */
  'audit-checkpoint-keys': () => JSON.stringify({ active: 'cp1', keys: { cp1: newEd25519PrivateKey() } }),
} satisfies Record<string, () => string>;

/**
 * Secrets issued elsewhere, which only some deployments have: nothing is generated for them.
 * `prometheus-bearer-token` is sent as `Authorization: Bearer …` to PROMETHEUS_URL, when Prometheus needs
 * one; `splunk-hec-token` is Splunk's HEC token, required when SPLUNK_HEC_URL is set.
 */
export const OPTIONAL_SECRETS = ['prometheus-bearer-token', 'splunk-hec-token'] as const;

/** A new Ed25519 private key: base64 of its PKCS#8 DER. */
export function newEd25519PrivateKey(): string {
  return crypto
    .generateKeyPairSync('ed25519')
    .privateKey.export({ format: 'der', type: 'pkcs8' })
    .toString('base64');
}

export type SecretName = keyof typeof GENERATORS;
export type OptionalSecretName = (typeof OPTIONAL_SECRETS)[number];

export class MissingSecretError extends Error {
  constructor(name: SecretName | OptionalSecretName, where: string) {
    super(`The secret "${name}" is missing: expected ${where}`);
    this.name = 'MissingSecretError';
  }
}

/** Every secret the portal needs; start-up checks each one (lib/startup.ts). */
export const SECRET_NAMES = Object.keys(GENERATORS) as SecretName[];

export function readSecret(name: SecretName): string {
  return readSecretFrom(config(), process.env, name);
}

/** readSecret with the configuration and environment given, for start-up checks before config() is set. */
export function readSecretFrom(
  c: Pick<Config, 'SECRETS_BACKEND' | 'SECRETS_DIR' | 'DATA_DIR'>,
  env: Record<string, string | undefined>,
  name: SecretName,
): string {
  switch (c.SECRETS_BACKEND) {
    case 'env': {
      const variable = envName(name);
      const value = env[variable];
      if (!value) throw new MissingSecretError(name, `in the environment variable ${variable}`);
      return value;
    }
    case 'files': {
      if (!c.SECRETS_DIR) throw new MissingSecretError(name, 'under SECRETS_DIR, which is not set');
      const file = path.join(c.SECRETS_DIR, name);
      if (!fs.existsSync(file)) throw new MissingSecretError(name, `in the file ${file}`);
      const value = fs.readFileSync(file, 'utf8').trim();
      if (!value) throw new MissingSecretError(name, `in the file ${file}, which is empty`);
      return value;
    }
    case 'generated': {
      const file = path.resolve(c.DATA_DIR, 'secrets', name);
      if (!fs.existsSync(file)) {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        try {
          fs.writeFileSync(file, GENERATORS[name](), { flag: 'wx', mode: 0o600 });
        } catch (err) {
          // Another process generated it first; use theirs.
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        }
      }
      return fs.readFileSync(file, 'utf8').trim();
    }
  }
}

/** An optional secret, or undefined when it is not there (never generated, in any backend). */
export function readOptionalSecret(
  name: OptionalSecretName,
  c: Pick<Config, 'SECRETS_BACKEND' | 'SECRETS_DIR' | 'DATA_DIR'> = config(),
  env: Record<string, string | undefined> = process.env,
): string | undefined {
  const where = optionalSecretWhere(name, c);
  // The ignore comments keep Turbopack from tracing the whole project into the image for a path it cannot
  // see: a secret file under SECRETS_DIR is mounted at run time, never part of the build.
  const value = where.file
    ? fs.existsSync(/*turbopackIgnore: true*/ where.file)
      ? fs.readFileSync(/*turbopackIgnore: true*/ where.file, 'utf8')
      : undefined
    : env[where.variable!];
  return value?.trim() || undefined;
}

/** An optional secret that the configuration requires; missing, it throws MissingSecretError. */
export function requireOptionalSecret(
  name: OptionalSecretName,
  c: Pick<Config, 'SECRETS_BACKEND' | 'SECRETS_DIR' | 'DATA_DIR'> = config(),
  env: Record<string, string | undefined> = process.env,
): string {
  const value = readOptionalSecret(name, c, env);
  if (value) return value;
  const where = optionalSecretWhere(name, c);
  throw new MissingSecretError(
    name,
    where.file ? `in the file ${where.file}` : `in the environment variable ${where.variable}`,
  );
}

function optionalSecretWhere(
  name: OptionalSecretName,
  c: Pick<Config, 'SECRETS_BACKEND' | 'SECRETS_DIR' | 'DATA_DIR'>,
): { file?: string; variable?: string } {
  if (c.SECRETS_BACKEND === 'env') return { variable: envName(name) };
  const dir = c.SECRETS_BACKEND === 'files' ? c.SECRETS_DIR : path.resolve(c.DATA_DIR, 'secrets');
  return dir ? { file: path.join(dir, name) } : { variable: envName(name) };
}

/**
 * Only in embedded mode (`generated`) may the portal write a secret itself, e.g. a new key on rotation;
 * files under SECRETS_DIR are the operator's (a read-only mount), and variables are fixed at start.
 */
export function secretsWritable(): boolean {
  return config().SECRETS_BACKEND === 'generated';
}

/** Replaces a generated secret, atomically (a new file renamed over the old one). */
export function writeGeneratedSecret(name: SecretName, value: string): void {
  if (!secretsWritable()) throw new Error(`The secret "${name}" is not the portal's to write`);
  const file = path.resolve(config().DATA_DIR, 'secrets', name);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
  fs.writeFileSync(temp, value, { flag: 'wx', mode: 0o600 });
  fs.renameSync(temp, file);
}

/** `audit-hmac-keys` is read from SECRET_AUDIT_HMAC_KEYS when SECRETS_BACKEND=env. */
export function envName(name: SecretName | OptionalSecretName): string {
  return `SECRET_${name.toUpperCase().replaceAll('-', '_')}`;
}
