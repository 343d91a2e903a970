import { z } from 'zod';
import { readSecret } from '@/lib/secrets';

const KeyRingFile = z.object({
  active: z.string().min(1),
  keys: z.record(
    z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'key ids are 1-64 characters of A-Z a-z 0-9 _ . -'),
    z.base64().refine((b) => Buffer.from(b, 'base64').length >= 32, 'an HMAC key has at least 32 bytes'),
  ),
});

/** The HMAC keys of the audit chain, indexed by `hmac_key_id`. Old keys stay for verification. */
export interface HmacKeyRing {
  activeId: string;
  keys: ReadonlyMap<string, Buffer>;
}

export function parseKeyRing(json: string): HmacKeyRing {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error('audit-hmac-keys is not valid JSON');
  }
  const parsed = KeyRingFile.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `audit-hmac-keys: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const keys = new Map(Object.entries(parsed.data.keys).map(([id, b64]) => [id, Buffer.from(b64, 'base64')]));
  if (!keys.has(parsed.data.active))
    throw new Error(`audit-hmac-keys: the active key "${parsed.data.active}" is not in keys`);
  return { activeId: parsed.data.active, keys };
}

let cached: HmacKeyRing | undefined;

export function hmacKeyRing(): HmacKeyRing {
  cached ??= parseKeyRing(readSecret('audit-hmac-keys'));
  return cached;
}
