import crypto from 'node:crypto';
import { HASH_SIZE } from './merkle';
import {
  type Checkpoint,
  decodeBase64,
  ed25519PublicBytes,
  isKeyName,
  NoteFormatError,
  noteKeyId,
  type NoteSignature,
  type NoteVerifier,
  parseCheckpoint,
  parseNote,
  readEd25519VerifierKey,
  signatureLine,
} from './note';

/**
 * The witness protocol, as pure functions (docs/AUDIT.md, "Witnesses"):
 *
 * - C2SP tlog-witness (https://c2sp.org/tlog-witness) `POST <prefix>/add-checkpoint`: the request body is
 *   `old <size>\n`, at most 63 consistency proof hashes (base64, one a line), an empty line, then the signed
 *   checkpoint note. A 200 answer is one or more note signature lines (the cosignatures); a 409 whose old
 *   size does not match is `<size>\n` with `Content-Type: text/x.tlog.size`.
 * - C2SP tlog-cosignature (https://c2sp.org/tlog-cosignature), the Ed25519 cosignature/v1: signature type
 *   0x04, key ID SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4], signature bytes key ID ‖ u64 big-endian
 *   timestamp ‖ Ed25519 signature over `cosignature/v1\ntime <timestamp>\n` and the checkpoint text.
 */

/** Signature type of an Ed25519 cosignature/v1 (tlog-cosignature). */
export const COSIGNATURE_V1_TYPE = 0x04;
/** A client must not send more (tlog-witness); a witness refuses more as a malformed request. */
export const MAX_PROOF_LINES = 63;
export const SIZE_CONTENT_TYPE = 'text/x.tlog.size';
/** timestamp ≤ 2^63 - 1 says the spec; JavaScript numbers are exact to 2^53 - 1, far beyond any clock. */
const MAX_TIMESTAMP = Number.MAX_SAFE_INTEGER;

export class WitnessProtocolError extends Error {}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

function decimal(text: string): number | null {
  if (!DECIMAL.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

// ---- cosigner keys ----

/** A cosigner (witness) key: the same shape as a note verifier, with the cosignature's key ID. */
export type CosignerKey = NoteVerifier;

export function cosignerKeyId(name: string, key: crypto.KeyObject): Buffer {
  return noteKeyId(name, COSIGNATURE_V1_TYPE, ed25519PublicBytes(key));
}

export function cosignerKey(name: string, key: crypto.KeyObject): CosignerKey {
  if (!isKeyName(name)) throw new NoteFormatError(`"${name}" cannot be a key name`);
  const publicKey = key.type === 'private' ? crypto.createPublicKey(key) : key;
  return { name, keyId: cosignerKeyId(name, publicKey), publicKey };
}

/** The witness's verifier key: `<name>+<hex key ID>+<base64(0x04 ‖ public key)>`. */
export function cosignerVerifierKey(name: string, key: crypto.KeyObject): string {
  const { keyId, publicKey } = cosignerKey(name, key);
  const raw = Buffer.concat([Buffer.of(COSIGNATURE_V1_TYPE), ed25519PublicBytes(publicKey)]);
  return `${name}+${keyId.toString('hex')}+${raw.toString('base64')}`;
}

/** Reads a witness's verifier key (type 0x04); throws NoteFormatError when malformed or its ID does not match. */
export function parseCosignerKey(vkey: string): CosignerKey {
  return readEd25519VerifierKey(vkey, COSIGNATURE_V1_TYPE);
}

// ---- cosignatures ----

/** What a cosignature/v1 signs: the header, the time, and the checkpoint text (its note's text). */
export function cosignatureMessage(checkpointText: string, timestamp: number): Buffer {
  return Buffer.from(`cosignature/v1\ntime ${timestamp}\n${checkpointText}`, 'utf8');
}

function checkTimestamp(timestamp: number) {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0 || timestamp > MAX_TIMESTAMP)
    throw new WitnessProtocolError('a cosignature timestamp is whole seconds since the epoch');
}

/** A cosignature/v1 line over `checkpointText` by the witness `name` at `timestamp` (POSIX seconds). */
export function cosign(
  checkpointText: string,
  name: string,
  privateKey: crypto.KeyObject,
  timestamp: number,
): string {
  checkTimestamp(timestamp);
  if (checkpointText.includes('\n\n'))
    throw new WitnessProtocolError('cosign the checkpoint text, not a note with its signatures');
  parseCheckpoint(checkpointText);
  const time = Buffer.alloc(8);
  time.writeBigUInt64BE(BigInt(timestamp));
  const signature = crypto.sign(null, cosignatureMessage(checkpointText, timestamp), privateKey);
  return signatureLine(name, cosignerKeyId(name, privateKey), Buffer.concat([time, signature]));
}

export type CosignatureVerdict =
  | { ok: true; timestamp: number }
  | { ok: false; reason: 'unknown_key' | 'malformed' | 'bad_signature'; detail: string };

/**
 * Checks one signature line against a witness key: `unknown_key` when the name or the key ID is another's
 * (the caller ignores it), otherwise whether it is a valid cosignature/v1 of `checkpointText`.
 */
export function verifyCosignature(
  checkpointText: string,
  signature: NoteSignature,
  key: CosignerKey,
): CosignatureVerdict {
  if (signature.name !== key.name || !signature.keyId.equals(key.keyId))
    return { ok: false, reason: 'unknown_key', detail: `not a cosignature by ${key.name}` };
  if (signature.signature.length !== 8 + 64)
    return {
      ok: false,
      reason: 'malformed',
      detail: `a cosignature/v1 is 72 bytes after the key ID, not ${signature.signature.length}`,
    };
  const time = signature.signature.readBigUInt64BE(0);
  if (time > BigInt(MAX_TIMESTAMP))
    return { ok: false, reason: 'malformed', detail: `the timestamp ${time} is out of range` };
  const timestamp = Number(time);
  if (
    !crypto.verify(
      null,
      cosignatureMessage(checkpointText, timestamp),
      key.publicKey,
      signature.signature.subarray(8),
    )
  )
    return { ok: false, reason: 'bad_signature', detail: `the cosignature of ${key.name} does not verify` };
  return { ok: true, timestamp };
}

// ---- add-checkpoint ----

export interface AddCheckpointRequest {
  oldSize: number;
  proof: Buffer[];
  /** The signed checkpoint note, as sent. */
  note: string;
}

/** The body of `POST <prefix>/add-checkpoint`. */
export function formatAddCheckpoint(request: {
  oldSize: number;
  proof: readonly Uint8Array[];
  note: string;
}): string {
  if (!Number.isSafeInteger(request.oldSize) || request.oldSize < 0)
    throw new WitnessProtocolError('the old size must be a whole number ≥ 0');
  if (request.proof.length > MAX_PROOF_LINES)
    throw new WitnessProtocolError(`a consistency proof of more than ${MAX_PROOF_LINES} hashes`);
  if (request.proof.some((h) => h.length !== HASH_SIZE))
    throw new WitnessProtocolError('each proof hash is 32 bytes');
  parseNote(request.note);
  return [
    `old ${request.oldSize}\n`,
    ...request.proof.map((h) => `${Buffer.from(h).toString('base64')}\n`),
    '\n',
    request.note,
  ].join('');
}

/**
 * Reads an add-checkpoint body, the checkpoint included (its signatures are checked by the witness, against
 * its own keys). Throws WitnessProtocolError (a 400) when it is not one.
 */
export function parseAddCheckpoint(body: string): AddCheckpointRequest & { checkpoint: Checkpoint } {
  // The old size line and the proof lines are never empty, so the first empty line ends them.
  const end = body.indexOf('\n\n');
  if (end < 0) throw new WitnessProtocolError('the request has no empty line before the checkpoint');
  const [oldLine, ...proofLines] = body.slice(0, end).split('\n');
  const oldSize = oldLine?.startsWith('old ') ? decimal(oldLine.slice(4)) : null;
  if (oldSize === null) throw new WitnessProtocolError('the first line is not "old <size>"');
  if (proofLines.length > MAX_PROOF_LINES)
    throw new WitnessProtocolError(`more than ${MAX_PROOF_LINES} consistency proof lines`);
  const proof = proofLines.map((line, i) => {
    const hash = decodeBase64(line);
    if (!hash || hash.length !== HASH_SIZE)
      throw new WitnessProtocolError(`proof line ${i + 1} is not a base64 SHA-256 hash`);
    return hash;
  });
  const note = body.slice(end + 2);
  try {
    const parsed = parseNote(note);
    return { oldSize, proof, note, checkpoint: parseCheckpoint(parsed.text) };
  } catch (err) {
    if (err instanceof NoteFormatError)
      throw new WitnessProtocolError(`not a signed checkpoint: ${err.message}`);
    throw err;
  }
}

/** The body of a 409 answer: the witness's latest cosigned size. */
export function formatSize(size: number): string {
  return `${size}\n`;
}

/** Reads a `text/x.tlog.size` body; null when it is not one. */
export function parseSize(body: string): number | null {
  return body.endsWith('\n') ? decimal(body.slice(0, -1)) : null;
}

/**
 * The cosignatures of a 200 answer: its signature lines, read as the signatures of a note whose text is the
 * checkpoint (tlog-witness suggests exactly this). Throws WitnessProtocolError when the body is not
 * signature lines.
 */
export function parseCosignatureLines(checkpointText: string, body: string): NoteSignature[] {
  if (body.startsWith('\n') || body.includes('\n\n'))
    throw new WitnessProtocolError('the answer has an empty line among its signature lines');
  try {
    return parseNote(`${checkpointText}\n${body}`).signatures;
  } catch (err) {
    if (err instanceof NoteFormatError)
      throw new WitnessProtocolError(`the answer is not note signature lines: ${err.message}`);
    throw err;
  }
}

/** The line of one signature, as it would stand in the note. */
export function cosignatureLine(signature: NoteSignature): string {
  return signatureLine(signature.name, signature.keyId, signature.signature);
}
