import crypto from 'node:crypto';
import { canonicalJson } from './canonical';
import type { CheckpointKeyRing } from './checkpoint-keys';
import type { CheckpointRecord } from './export-format';

/** The `type` inside every signed payload: names the format, so a signature means nothing elsewhere. */
export const CHECKPOINT_PAYLOAD_TYPE = 'arbitex.audit.checkpoint.v1';

/**
 * The bytes an Ed25519 checkpoint signature covers (docs/AUDIT.md): UTF-8 of the RFC 8785 JSON of
 * `{chain_id, head_hmac, key_id, seq, signed_at, type}`. With these plain values it is also what
 * `jq -cS` prints.
 */
export function checkpointPayload(c: Omit<CheckpointRecord, 'signature'>): string {
  return canonicalJson({
    type: CHECKPOINT_PAYLOAD_TYPE,
    chain_id: c.chain_id,
    seq: c.seq,
    head_hmac: c.head_hmac,
    signed_at: c.signed_at,
    key_id: c.key_id,
  });
}

export function signCheckpoint(
  fields: Omit<CheckpointRecord, 'signature' | 'key_id'>,
  ring: CheckpointKeyRing,
): CheckpointRecord {
  const key = ring.keys.get(ring.activeId)?.privateKey;
  if (!key) throw new Error(`The checkpoint key "${ring.activeId}" has no private key`);
  const unsigned = { ...fields, key_id: ring.activeId };
  const signature = crypto.sign(null, Buffer.from(checkpointPayload(unsigned), 'utf8'), key);
  return { ...unsigned, signature: signature.toString('base64') };
}

export type SignatureCheck = 'ok' | 'unknown_key' | 'bad_signature';

export function checkSignature(
  c: CheckpointRecord,
  publicKeys: ReadonlyMap<string, crypto.KeyObject>,
): SignatureCheck {
  const key = publicKeys.get(c.key_id);
  if (!key) return 'unknown_key';
  let signature: Buffer;
  try {
    signature = Buffer.from(c.signature, 'base64');
  } catch {
    return 'bad_signature';
  }
  return crypto.verify(null, Buffer.from(checkpointPayload(c), 'utf8'), key, signature)
    ? 'ok'
    : 'bad_signature';
}
