import crypto from 'node:crypto';
import { HASH_SIZE } from './merkle';

/**
 * C2SP signed notes (https://c2sp.org/signed-note) carrying C2SP tlog checkpoints
 * (https://c2sp.org/tlog-checkpoint), signed with Ed25519 (docs/AUDIT.md, "Checkpoints as signed notes").
 *
 *   <origin>\n<tree size>\n<base64 root hash>\n[extension lines]\n — the checkpoint, the note's text
 *   \n                                                                  — a blank line
 *   — <key name> <base64(key ID (4 bytes) ‖ signature)>\n              — one line per signature
 *
 * The parser keeps every syntactically valid signature line, also of unknown keys and of other signature
 * types (a witness's cosignature, type 0x04), so that a note can carry several signatures.
 */

/** Signature type byte of an Ed25519 note signature (signed-note, "Signature types"). */
export const ED25519_SIGNATURE_TYPE = 0x01;
const SIGNATURE_PREFIX = '\u2014 ';
/** Verifiers must take at least 16 signatures; more is refused as a malformed note. */
export const MAX_SIGNATURES = 100;

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Buffer;
  /** Lines after the root hash, if any (tlog-checkpoint extension lines). */
  extensions: string[];
}

export interface NoteSignature {
  name: string;
  /** The key ID, 4 bytes. */
  keyId: Buffer;
  /** The signature proper, after the key ID. */
  signature: Buffer;
}

export interface Note {
  /** The signed text, ending in a newline. */
  text: string;
  signatures: NoteSignature[];
}

export class NoteFormatError extends Error {}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Standard base64 (RFC 4648 §4) with its padding, or null: Buffer.from alone skips what it cannot read. */
export function decodeBase64(text: string): Buffer | null {
  if (text.length % 4 !== 0 || !BASE64.test(text)) return null;
  return Buffer.from(text, 'base64');
}

/** Key names: non-empty, without Unicode spaces or plus signs. */
export function isKeyName(name: string): boolean {
  return name.length > 0 && !/[\s+]/u.test(name);
}

/** The checkpoint text: origin, size and root, each on its own line. */
export function checkpointText(c: {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  extensions?: string[];
}) {
  if (!c.origin || /[\n\s+]/u.test(c.origin) || /[\x00-\x1f]/.test(c.origin))
    throw new NoteFormatError(`"${c.origin}" cannot be a checkpoint origin`);
  if (!Number.isSafeInteger(c.size) || c.size < 0) throw new NoteFormatError('the tree size must be ≥ 0');
  if (c.rootHash.length !== HASH_SIZE) throw new NoteFormatError('the root hash must be 32 bytes');
  const extensions = c.extensions ?? [];
  if (extensions.some((e) => e === '' || /[\x00-\x1f]/.test(e)))
    throw new NoteFormatError('extension lines must be non-empty single lines');
  return [c.origin, String(c.size), Buffer.from(c.rootHash).toString('base64'), ...extensions]
    .map((l) => `${l}\n`)
    .join('');
}

/** Reads a checkpoint text (the note's text, or a note, whose signatures are then ignored). */
export function parseCheckpoint(text: string): Checkpoint {
  const body = text.includes('\n\n') ? parseNote(text).text : text;
  const lines = body.split('\n');
  if (lines.pop() !== '') throw new NoteFormatError('a checkpoint ends with a newline');
  const [origin, size, root, ...extensions] = lines;
  if (!origin) throw new NoteFormatError('the checkpoint has no origin line');
  if (!size || !/^(0|[1-9][0-9]*)$/.test(size) || !Number.isSafeInteger(Number(size)))
    throw new NoteFormatError('the checkpoint’s second line is not a tree size');
  const rootHash = root === undefined ? null : decodeBase64(root);
  if (!rootHash || rootHash.length !== HASH_SIZE)
    throw new NoteFormatError('the checkpoint’s third line is not a base64 SHA-256 root hash');
  if (extensions.some((e) => e === ''))
    throw new NoteFormatError('the checkpoint has an empty line among its extensions');
  return { origin, size: Number(size), rootHash, extensions };
}

/** The raw 32-byte Ed25519 public key (RFC 8032 encoding). */
export function ed25519PublicBytes(key: crypto.KeyObject): Buffer {
  const publicKey = key.type === 'private' ? crypto.createPublicKey(key) : key;
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 key');
  return Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
}

/** key ID = SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key)[:4] */
export function noteKeyId(name: string, type: number, publicBytes: Uint8Array): Buffer {
  return crypto
    .createHash('sha256')
    .update(name, 'utf8')
    .update(Buffer.of(0x0a, type))
    .update(publicBytes)
    .digest()
    .subarray(0, 4);
}

/** key ID = SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte Ed25519 public key)[:4] */
export function ed25519KeyId(name: string, key: crypto.KeyObject): Buffer {
  return noteKeyId(name, ED25519_SIGNATURE_TYPE, ed25519PublicBytes(key));
}

/**
 * The verifier key a third party configures: `<name>+<hex key ID>+<base64(0x01 ‖ public key)>` (the
 * format of Go's golang.org/x/mod/sumdb/note and of witnesses).
 */
export function verifierKey(name: string, key: crypto.KeyObject): string {
  if (!isKeyName(name)) throw new NoteFormatError(`"${name}" cannot be a key name`);
  const raw = Buffer.concat([Buffer.of(ED25519_SIGNATURE_TYPE), ed25519PublicBytes(key)]);
  return `${name}+${ed25519KeyId(name, key).toString('hex')}+${raw.toString('base64')}`;
}

export interface NoteVerifier {
  name: string;
  keyId: Buffer;
  publicKey: crypto.KeyObject;
}

/** Reads a verifier key (Ed25519 only); throws NoteFormatError when malformed or its ID does not match. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  return readEd25519VerifierKey(vkey, ED25519_SIGNATURE_TYPE);
}

/**
 * A verifier key `<name>+<hex key ID>+<base64(type ‖ 32-byte Ed25519 key)>` of signature type `type` (0x01
 * for note signatures, 0x04 for tlog-cosignature/v1), its key ID checked.
 */
export function readEd25519VerifierKey(vkey: string, type: number): NoteVerifier {
  // Names and key IDs have no plus sign; the base64 key may have several.
  const [, name, hexId, encoded] = /^([^+]*)\+([^+]*)\+(.*)$/s.exec(vkey.trim()) ?? [];
  if (name === undefined || hexId === undefined || encoded === undefined)
    throw new NoteFormatError('a verifier key is <name>+<key ID>+<key>');
  const raw = decodeBase64(encoded);
  if (!isKeyName(name) || !/^[0-9a-f]{8}$/.test(hexId) || !raw)
    throw new NoteFormatError('a verifier key is <name>+<8 hex digits>+<base64 key>');
  if (raw.length !== 33 || raw[0] !== type)
    throw new NoteFormatError(
      `only Ed25519 verifier keys of type 0x${type.toString(16).padStart(2, '0')} (32 bytes) are supported here`,
    );
  const publicKey = crypto.createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: raw.subarray(1).toString('base64url') },
    format: 'jwk',
  });
  const keyId = noteKeyId(name, type, raw.subarray(1));
  if (keyId.toString('hex') !== hexId)
    throw new NoteFormatError('the verifier key’s ID does not match its name and key');
  return { name, keyId, publicKey };
}

/** A verifier from a name and an Ed25519 public key (e.g. a PEM the portal publishes). */
export function noteVerifier(name: string, key: crypto.KeyObject): NoteVerifier {
  const publicKey = key.type === 'private' ? crypto.createPublicKey(key) : key;
  return { name, keyId: ed25519KeyId(name, publicKey), publicKey };
}

function checkText(text: string) {
  if (!text.endsWith('\n')) throw new NoteFormatError('a note’s text ends with a newline');
  if (/[\x00-\x09\x0b-\x1f]/.test(text)) throw new NoteFormatError('a note contains a control character');
}

/** Parses a signed note; checks its form, not its signatures. */
export function parseNote(note: string): Note {
  checkText(note);
  // The text is separated from the signatures by the last blank line.
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteFormatError('a signed note has a blank line before its signatures');
  const text = note.slice(0, split + 1);
  if (text.length === 0) throw new NoteFormatError('a note’s text is empty');
  const lines = note.slice(split + 2).split('\n');
  lines.pop(); // after the last newline
  if (lines.length === 0) throw new NoteFormatError('a signed note has at least one signature');
  if (lines.length > MAX_SIGNATURES) throw new NoteFormatError(`more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line) => {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw new NoteFormatError(`not a signature line: "${line}"`);
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.lastIndexOf(' ');
    const name = rest.slice(0, space);
    const bytes = space > 0 ? decodeBase64(rest.slice(space + 1)) : null;
    if (!isKeyName(name) || !bytes || bytes.length < 5)
      throw new NoteFormatError(`a malformed signature line: "${line}"`);
    return { name, keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) };
  });
  return { text, signatures };
}

/** `— <name> base64(key ID ‖ signature)` and a newline. */
export function signatureLine(name: string, keyId: Uint8Array, signature: Uint8Array): string {
  return `${SIGNATURE_PREFIX}${name} ${Buffer.concat([keyId, signature]).toString('base64')}\n`;
}

/** The note of `text` with its signatures, in order. */
export function formatNote(note: Note): string {
  checkText(note.text);
  return `${note.text}\n${note.signatures.map((s) => signatureLine(s.name, s.keyId, s.signature)).join('')}`;
}

/** Signs `text` with an Ed25519 private key under `name`: a note with that one signature. */
export function signNote(text: string, name: string, privateKey: crypto.KeyObject): string {
  return formatNote({ text, signatures: [ed25519Signature(text, name, privateKey)] });
}

/** Adds an Ed25519 signature to a signed note (e.g. a second key), keeping those it has. */
export function addNoteSignature(note: string, name: string, privateKey: crypto.KeyObject): string {
  const parsed = parseNote(note);
  return formatNote({
    ...parsed,
    signatures: [...parsed.signatures, ed25519Signature(parsed.text, name, privateKey)],
  });
}

function ed25519Signature(text: string, name: string, privateKey: crypto.KeyObject): NoteSignature {
  if (!isKeyName(name)) throw new NoteFormatError(`"${name}" cannot be a key name`);
  checkText(text);
  return {
    name,
    keyId: ed25519KeyId(name, privateKey),
    signature: crypto.sign(null, Buffer.from(text, 'utf8'), privateKey),
  };
}

export type NoteVerdict =
  { ok: true; text: string; verifiedBy: string[]; note: Note } | { ok: false; reason: string };

/**
 * Verifies a signed note against known keys, as the signed-note spec asks: signatures of unknown keys (name
 * and key ID not both matching) are ignored; a known key's signature that fails rejects the note; at least
 * one known key must have signed.
 */
export function verifyNote(note: string, verifiers: readonly NoteVerifier[]): NoteVerdict {
  let parsed: Note;
  try {
    parsed = parseNote(note);
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
  const verifiedBy: string[] = [];
  for (const s of parsed.signatures) {
    const known = verifiers.find((v) => v.name === s.name && v.keyId.equals(s.keyId));
    if (!known) continue;
    if (!crypto.verify(null, Buffer.from(parsed.text, 'utf8'), known.publicKey, s.signature))
      return { ok: false, reason: `the signature of "${s.name}" does not verify` };
    verifiedBy.push(s.name);
  }
  if (verifiedBy.length === 0) return { ok: false, reason: 'no signature by a known key' };
  return { ok: true, text: parsed.text, verifiedBy, note: parsed };
}

/** A signed checkpoint: the note verified against `verifiers`, then its text read as a checkpoint. */
export function openCheckpoint(
  note: string,
  verifiers: readonly NoteVerifier[],
): { ok: true; checkpoint: Checkpoint; verifiedBy: string[] } | { ok: false; reason: string } {
  const verdict = verifyNote(note, verifiers);
  if (!verdict.ok) return verdict;
  try {
    return { ok: true, checkpoint: parseCheckpoint(verdict.text), verifiedBy: verdict.verifiedBy };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}
