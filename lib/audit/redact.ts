const SECRET_WORDS = new Set([
  'secret',
  'password',
  'passphrase',
  'token',
  'private',
  'authorization',
  'cookie',
  'challenge',
  'signature',
  'jwt',
  'credential',
]);
export const REDACTED = '[redacted]';

/** True when a field name says it holds secret or credential material (`token_hash`, `publicKey`, …). */
export function isSecretField(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/);
  return words.some((w) => SECRET_WORDS.has(w)) || (words.includes('public') && words.includes('key'));
}

/** A deep copy with every secret field's value replaced, safe for audit diffs and logs. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value instanceof Date) return value.toISOString();
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, isSecretField(k) && v != null ? REDACTED : redact(v)]),
    );
  }
  return value;
}
