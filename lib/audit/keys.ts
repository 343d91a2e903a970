import { z } from 'zod';
import { readSecret } from '@/lib/secrets';

const KeyId = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'key ids are 1-64 characters of A-Z a-z 0-9 _ . -');

const KeyRingFile = z.object({
  active: z.string().min(1),
  keys: z.record(
    KeyId,
    z.base64().refine((b) => Buffer.from(b, 'base64').length >= 32, 'an HMAC key has at least 32 bytes'),
  ),
});

/** The HMAC keys of the audit chain, indexed by `hmac_key_id`. Old keys stay for verification. */
export interface HmacKeyRing {
  activeId: string;
  keys: ReadonlyMap<string, Buffer>;
}

export function isKeyId(id: string): boolean {
  return KeyId.safeParse(id).success;
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

// On globalThis: Next may load this module once per bundle, and every copy must see the same ring (the
// background ticker in instrumentation.ts updates it for the route handlers).
const state = globalThis as { __auditHmacRing?: HmacKeyRing; __auditHmacActive?: string };

/**
 * The key ring as this process knows it. The file's `active` is only the first key: once the chain holds
 * a rotation, the chain decides (lib/audit/key-state.ts calls activateHmacKey on every replica).
 */
export function hmacKeyRing(): HmacKeyRing {
  if (!state.__auditHmacRing) {
    const file = parseKeyRing(readSecret('audit-hmac-keys'));
    const active = state.__auditHmacActive;
    state.__auditHmacRing = active && file.keys.has(active) ? { activeId: active, keys: file.keys } : file;
  }
  return state.__auditHmacRing;
}

/** Reads the key file again: the operator may have added a key to the mounted secret. */
export function reloadHmacKeyRing(): HmacKeyRing {
  state.__auditHmacRing = undefined;
  return hmacKeyRing();
}

/**
 * Makes `id` the key this process appends with. Reads the file again when it does not hold `id` yet;
 * throws when it still does not, leaving the ring as it was.
 */
export function activateHmacKey(id: string): HmacKeyRing {
  let ring = hmacKeyRing();
  if (!ring.keys.has(id)) ring = reloadHmacKeyRing();
  if (!ring.keys.has(id)) throw new Error(`The HMAC key "${id}" is not in audit-hmac-keys`);
  state.__auditHmacActive = id;
  state.__auditHmacRing = ring.activeId === id ? ring : { activeId: id, keys: ring.keys };
  return state.__auditHmacRing;
}
