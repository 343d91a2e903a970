import crypto from 'node:crypto';
import { z } from 'zod';
import { type ChainEntry, entryLeafHash } from './chain';
import { verifyConsistency, verifyInclusion } from './merkle';
import {
  type Note,
  type NoteVerifier,
  noteVerifier,
  openCheckpoint,
  parseNote,
  parseVerifierKey,
} from './note';
import { type CosignerKey, verifyCosignature } from './witness-protocol';

/**
 * The proof documents a third party checks with the checkpoint public key alone (no database, no HMAC key;
 * docs/AUDIT.md, "Proofs"). Hashes are base64, as in the checkpoint notes. `seq` is the entry's place in
 * the chain (1-based); its leaf index in the tree is seq - 1.
 */
export const INCLUSION_PROOF_TYPE = 'arbitex.audit.inclusion_proof';
export const CONSISTENCY_PROOF_TYPE = 'arbitex.audit.consistency_proof';
/** The last line of an export: the inclusion proof of its last entry (the line before the checkpoints). */
export const EXPORT_PROOF_LINE_TYPE = 'arbitex.audit.proof';

const Hash = z
  .string()
  .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be a base64 SHA-256 hash (44 characters)')
  .transform((s) => Buffer.from(s, 'base64'));
const Count = z.number().int().nonnegative();

export const InclusionProof = z.object({
  type: z.literal(INCLUSION_PROOF_TYPE),
  version: z.literal(1),
  chain_id: z.string().min(1),
  seq: z.number().int().positive(),
  leaf_index: Count,
  tree_size: z.number().int().positive(),
  leaf_hash: Hash,
  root_hash: Hash,
  proof: z.array(Hash),
  /** A signed note of this tree size and root, when one was signed: what the proof is checked against. */
  checkpoint: z.string().nullable(),
  /** The chained entry (every column of audit_log), in the download: its leaf hash is recomputed from it. */
  entry: z.record(z.string(), z.unknown()).optional(),
  /** In the download: the checkpoint keys, as signed-note verifier keys and as PEM, by key id. */
  verifier_keys: z.record(z.string(), z.string()).optional(),
  public_keys: z.record(z.string(), z.string()).optional(),
  /** In the download: the configured witnesses' verifier keys, by name (the checkpoint carries their cosignatures). */
  witness_keys: z.record(z.string(), z.string()).optional(),
});
export type InclusionProof = z.infer<typeof InclusionProof>;

export const ConsistencyProof = z.object({
  type: z.literal(CONSISTENCY_PROOF_TYPE),
  version: z.literal(1),
  chain_id: z.string().min(1),
  from: z.number().int().positive(),
  to: z.number().int().positive(),
  from_root: Hash,
  to_root: Hash,
  proof: z.array(Hash),
  from_checkpoint: z.string().nullable(),
  to_checkpoint: z.string().nullable(),
});
export type ConsistencyProof = z.infer<typeof ConsistencyProof>;

export const ExportProofLine = InclusionProof.omit({ type: true, entry: true }).extend({
  type: z.literal(EXPORT_PROOF_LINE_TYPE),
  checkpoint: z.string(),
});
export type ExportProofLine = z.infer<typeof ExportProofLine>;
/** The line as written (hashes as base64 text). */
export type ExportProofLineJson = z.input<typeof ExportProofLine>;

/** Hashes as the documents carry them. */
export const b64 = (hash: Uint8Array) => Buffer.from(hash).toString('base64');

export type ProofVerdict = { ok: true; detail: string } | { ok: false; reason: string };

/**
 * Verifiers for a chain's notes from what a checker holds: PEM public keys (their key name is the chain
 * id) and signed-note verifier keys (which carry their own name).
 */
export function verifiersFor(
  chainId: string,
  keys: { pems?: Iterable<crypto.KeyObject>; verifierKeys?: Iterable<string> },
): NoteVerifier[] {
  const out: NoteVerifier[] = [];
  for (const key of keys.pems ?? [])
    if (key.asymmetricKeyType === 'ed25519') out.push(noteVerifier(chainId, key));
  for (const vkey of keys.verifierKeys ?? []) out.push(parseVerifierKey(vkey));
  return out;
}

/**
 * Checks an inclusion proof on its own: the note checkpoint is signed by a known key, is of this chain,
 * this tree size and this root; the proof leads from the leaf hash to that root; and, when the document
 * carries the entry, the leaf hash is the entry's.
 */
export function checkInclusionProof(
  doc: Omit<InclusionProof, 'type'> & { checkpoint: string | null },
  verifiers: readonly NoteVerifier[],
  entry: ChainEntry | null = (doc.entry as ChainEntry | undefined) ?? null,
): ProofVerdict {
  if (doc.leaf_index !== doc.seq - 1)
    return { ok: false, reason: `leaf_index ${doc.leaf_index} is not seq ${doc.seq} - 1` };
  if (entry) {
    if (entry.seq !== doc.seq) return { ok: false, reason: `the entry is seq ${entry.seq}, not ${doc.seq}` };
    if (!entryLeafHash(entry).equals(doc.leaf_hash))
      return {
        ok: false,
        reason: `the leaf hash is not the hash of entry ${doc.seq} (the entry was changed?)`,
      };
  }
  if (!doc.checkpoint) return { ok: false, reason: 'no signed checkpoint to check the proof against' };
  const opened = openCheckpoint(doc.checkpoint, verifiers);
  if (!opened.ok) return { ok: false, reason: `the checkpoint: ${opened.reason}` };
  const cp = opened.checkpoint;
  if (cp.origin !== doc.chain_id)
    return { ok: false, reason: `the checkpoint is for "${cp.origin}", not "${doc.chain_id}"` };
  if (cp.size !== doc.tree_size)
    return { ok: false, reason: `the checkpoint is of tree size ${cp.size}, the proof of ${doc.tree_size}` };
  if (!cp.rootHash.equals(doc.root_hash))
    return { ok: false, reason: 'root_hash is not the root the checkpoint signed' };
  if (!verifyInclusion(doc.leaf_index, doc.tree_size, doc.leaf_hash, doc.proof, cp.rootHash))
    return { ok: false, reason: `the proof does not lead from entry ${doc.seq} to the signed root` };
  return {
    ok: true,
    detail: `entry ${doc.seq} is in the tree of ${doc.tree_size} entries that ${opened.verifiedBy.join(', ')} signed${entry ? ', and its leaf hash is its own' : ''}`,
  };
}

/** Checks a consistency proof between two signed note checkpoints of the same chain. */
export function checkConsistencyProof(
  doc: ConsistencyProof,
  verifiers: readonly NoteVerifier[],
): ProofVerdict {
  if (!doc.from_checkpoint || !doc.to_checkpoint)
    return { ok: false, reason: 'both checkpoints are needed, signed, to check a consistency proof' };
  const ends = [
    [doc.from_checkpoint, doc.from, doc.from_root],
    [doc.to_checkpoint, doc.to, doc.to_root],
  ] as const;
  for (const [note, size, root] of ends) {
    const opened = openCheckpoint(note, verifiers);
    if (!opened.ok) return { ok: false, reason: `the checkpoint of size ${size}: ${opened.reason}` };
    const cp = opened.checkpoint;
    if (cp.origin !== doc.chain_id || cp.size !== size || !cp.rootHash.equals(root))
      return { ok: false, reason: `the checkpoint of size ${size} is not of this chain, size and root` };
  }
  if (!verifyConsistency(doc.from, doc.to, doc.proof, doc.from_root, doc.to_root))
    return {
      ok: false,
      reason: `the proof does not show the tree of ${doc.from} entries inside the tree of ${doc.to}`,
    };
  return { ok: true, detail: `the tree of ${doc.to} entries extends the tree of ${doc.from}, both signed` };
}

/**
 * Whether a signed note carries a valid cosignature/v1 line of every one of `keys` (witnesses the checker
 * trusts, not keys taken from the file it checks), and when each cosigned it.
 */
export function checkCosignatures(
  note: string,
  keys: readonly CosignerKey[],
): { ok: true; cosigned: { name: string; timestamp: number }[] } | { ok: false; reason: string } {
  let parsed: Note;
  try {
    parsed = parseNote(note);
  } catch (err) {
    return { ok: false, reason: `the checkpoint: ${err instanceof Error ? err.message : String(err)}` };
  }
  const cosigned: { name: string; timestamp: number }[] = [];
  for (const key of keys) {
    const verdicts = parsed.signatures.map((s) => verifyCosignature(parsed.text, s, key));
    const bad = verdicts.find((v) => !v.ok && v.reason !== 'unknown_key');
    if (bad && !bad.ok) return { ok: false, reason: bad.detail };
    const good = verdicts.find((v) => v.ok);
    if (!good?.ok)
      return { ok: false, reason: `the checkpoint carries no cosignature by the witness ${key.name}` };
    cosigned.push({ name: key.name, timestamp: good.timestamp });
  }
  return { ok: true, cosigned };
}
