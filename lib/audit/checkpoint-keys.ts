import crypto from 'node:crypto';
import { z } from 'zod';
import { readSecret } from '@/lib/secrets';
import { isKeyId } from './keys';

const RingFile = z.object({
  active: z.string().min(1),
  keys: z.record(z.string(), z.string().min(1)),
});

export interface CheckpointKey {
  /** Absent for a retired key kept only as its public half. */
  privateKey: crypto.KeyObject | null;
  publicKey: crypto.KeyObject;
}

/** The Ed25519 keys that sign checkpoints, indexed by key id. Retired keys stay for verification. */
export interface CheckpointKeyRing {
  activeId: string;
  keys: ReadonlyMap<string, CheckpointKey>;
}

/**
 * One key of the file: a private key (PKCS#8) or, for a retired key whose private half was destroyed,
 * a public key (SPKI); each as PEM or as base64 DER.
 */
function parseKey(id: string, text: string): CheckpointKey {
  const pem = text.trimStart().startsWith('-----BEGIN');
  const der = pem ? undefined : Buffer.from(text, 'base64');
  const key = (type: 'private' | 'public'): crypto.KeyObject | null => {
    try {
      if (type === 'private') {
        return pem
          ? crypto.createPrivateKey(text)
          : crypto.createPrivateKey({ key: der!, format: 'der', type: 'pkcs8' });
      }
      return pem
        ? crypto.createPublicKey(text)
        : crypto.createPublicKey({ key: der!, format: 'der', type: 'spki' });
    } catch {
      return null;
    }
  };
  const privateKey = key('private');
  const publicKey = privateKey ? crypto.createPublicKey(privateKey) : key('public');
  if (!publicKey || publicKey.asymmetricKeyType !== 'ed25519')
    throw new Error(`audit-checkpoint-keys: key "${id}" is not an Ed25519 private or public key`);
  return { privateKey, publicKey };
}

export function parseCheckpointKeyRing(json: string): CheckpointKeyRing {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error('audit-checkpoint-keys is not valid JSON');
  }
  const parsed = RingFile.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `audit-checkpoint-keys: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const keys = new Map<string, CheckpointKey>();
  for (const [id, text] of Object.entries(parsed.data.keys)) {
    if (!isKeyId(id)) throw new Error(`audit-checkpoint-keys: "${id}" is not a valid key id`);
    keys.set(id, parseKey(id, text));
  }
  const active = keys.get(parsed.data.active);
  if (!active)
    throw new Error(`audit-checkpoint-keys: the active key "${parsed.data.active}" is not in keys`);
  if (!active.privateKey)
    throw new Error(`audit-checkpoint-keys: the active key "${parsed.data.active}" has no private key`);
  return { activeId: parsed.data.active, keys };
}

/** The public key in PEM (SPKI), as `openssl pkeyutl -verify -pubin` reads it. */
export function publicKeyPem(key: CheckpointKey): string {
  return key.publicKey.export({ format: 'pem', type: 'spki' }).toString();
}

export function publicKeys(ring: CheckpointKeyRing): Map<string, crypto.KeyObject> {
  return new Map([...ring.keys].map(([id, k]) => [id, k.publicKey]));
}

// On globalThis for the same reason as the HMAC ring (lib/audit/keys.ts).
const state = globalThis as { __auditCheckpointRing?: CheckpointKeyRing; __auditCheckpointActive?: string };

export function checkpointKeyRing(): CheckpointKeyRing {
  if (!state.__auditCheckpointRing) {
    const file = parseCheckpointKeyRing(readSecret('audit-checkpoint-keys'));
    const active = state.__auditCheckpointActive;
    state.__auditCheckpointRing =
      active && file.keys.get(active)?.privateKey ? { activeId: active, keys: file.keys } : file;
  }
  return state.__auditCheckpointRing;
}

export function reloadCheckpointKeyRing(): CheckpointKeyRing {
  state.__auditCheckpointRing = undefined;
  return checkpointKeyRing();
}

/** Makes `id` the signing key of this process, re-reading the file when it does not hold it yet. */
export function activateCheckpointKey(id: string): CheckpointKeyRing {
  let ring = checkpointKeyRing();
  if (!ring.keys.get(id)?.privateKey) ring = reloadCheckpointKeyRing();
  if (!ring.keys.get(id)?.privateKey)
    throw new Error(`The checkpoint key "${id}" is not in audit-checkpoint-keys with its private key`);
  state.__auditCheckpointActive = id;
  state.__auditCheckpointRing = ring.activeId === id ? ring : { activeId: id, keys: ring.keys };
  return state.__auditCheckpointRing;
}
