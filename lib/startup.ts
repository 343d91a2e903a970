import fs from 'node:fs';
import { parseCheckpointKeyRing, publicKeys } from '@/lib/audit/checkpoint-keys';
import { readTrustedCheckpoint } from '@/lib/audit/trusted';
import { parseKeyRing } from '@/lib/audit/keys';
import { type Config, ConfigError, parseConfig } from '@/lib/config';
import { readSecretFrom, requireOptionalSecret, SECRET_NAMES, type SecretName } from '@/lib/secrets';

/** What makes each secret usable; undefined when it is. Never quotes the value. */
const SECRET_SHAPE: Record<SecretName, (value: string) => string | undefined> = {
  'audit-hmac-keys': (v) => {
    try {
      parseKeyRing(v);
      return undefined;
    } catch (err) {
      return (err as Error).message.replace(/^audit-hmac-keys:?\s*/, '');
    }
  },
  'audit-checkpoint-keys': (v) => {
    try {
      parseCheckpointKeyRing(v);
      return undefined;
    } catch (err) {
      return (err as Error).message.replace(/^audit-checkpoint-keys:?\s*/, '');
    }
  },
  'auth-secret': (v) => (v.length >= 32 ? undefined : 'must be at least 32 characters of random data'),
  'token-signing-kek': (v) =>
    /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32
      ? undefined
      : 'must be 32 random bytes, base64',
};

/**
 * Everything that stops the portal from starting, one line each, all at once: the configuration
 * (lib/config.ts, including production's refusals) and every secret, present and well formed.
 * Runs in instrumentation.ts before the server takes a request.
 */
export function startupProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  let source: Pick<Config, 'SECRETS_BACKEND' | 'SECRETS_DIR' | 'DATA_DIR'> | undefined;
  let config: Config | undefined;
  try {
    const c = parseConfig(env);
    source = c;
    config = c;
    for (const [name, file] of [
      ['WEBAUTHN_MDS_FILE', c.WEBAUTHN_MDS_FILE],
      ['WEBAUTHN_MDS_ROOT_FILE', c.WEBAUTHN_MDS_ROOT_FILE],
    ] as const) {
      if (file && !readable(file)) problems.push(`${name}: the file ${file} cannot be read`);
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    problems.push(...err.problems);
    // The secret files can still be checked, so that one start names every problem; nothing is
    // generated or read from the environment while the configuration is refused.
    if (env.SECRETS_DIR && (env.SECRETS_BACKEND ?? 'files') === 'files')
      source = { SECRETS_BACKEND: 'files', SECRETS_DIR: env.SECRETS_DIR, DATA_DIR: '' };
  }
  if (source) problems.push(...secretProblems(source, env));
  if (config && problems.length === 0 && config.AUDIT_TRUSTED_CHECKPOINT_FILE) {
    try {
      const ring = parseCheckpointKeyRing(readSecretFrom(config, env, 'audit-checkpoint-keys'));
      readTrustedCheckpoint(config, publicKeys(ring));
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (source && env.SPLUNK_HEC_URL) {
    try {
      requireOptionalSecret('splunk-hec-token', source, env);
    } catch (err) {
      problems.push(`${(err as Error).message} (SPLUNK_HEC_URL is set)`);
    }
  }
  return problems;
}

function readable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.R_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Each secret that is missing or malformed, one line each; the values are never quoted. */
export function secretProblems(
  source: Pick<Config, 'SECRETS_BACKEND' | 'SECRETS_DIR' | 'DATA_DIR'>,
  env: Record<string, string | undefined>,
): string[] {
  const problems: string[] = [];
  for (const name of SECRET_NAMES) {
    let value: string;
    try {
      value = readSecretFrom(source, env, name);
    } catch (err) {
      problems.push((err as Error).message);
      continue;
    }
    const wrong = SECRET_SHAPE[name](value);
    if (wrong) problems.push(`The secret "${name}" is not valid: ${wrong}`);
  }
  return problems;
}

/**
 * Settings the portal accepts but that weaken it, one line each: instrumentation.ts logs them as warnings at
 * every start of every process, so that they are never on quietly.
 */
export function startupWarnings(c: Pick<Config, 'WEBAUTHN_INSECURE_OVERRIDE' | 'PORTAL_ENV'>): string[] {
  const warnings: string[] = [];
  if (c.WEBAUTHN_INSECURE_OVERRIDE)
    warnings.push(
      `INSECURE: WEBAUTHN_INSECURE_OVERRIDE is on${c.PORTAL_ENV === 'production' ? ' in production' : ''}: security keys may enrol without attestation trust or outside the AAGUID allow-list. Switch it off as soon as the reason for it is gone.`,
    );
  return warnings;
}

/** One JSON log line per problem, as the rest of the portal's logs are. */
export function refusalLines(problems: string[], now = new Date()): string[] {
  return problems.map((problem) =>
    JSON.stringify({ time: now.toISOString(), level: 'fatal', msg: `Refusing to start: ${problem}` }),
  );
}

/** Prints every problem and exits with status 1; returns when there is none. */
export function exitOnStartupProblems(env: Record<string, string | undefined>): void {
  const problems = startupProblems(env);
  if (problems.length === 0) return;
  for (const line of refusalLines(problems)) console.error(line);
  process.exit(1);
}
