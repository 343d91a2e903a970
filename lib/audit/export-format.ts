import { z } from 'zod';

/**
 * The NDJSON audit export, line by line, so that an export can be verified on its own
 * (`npm run audit:verify -- --file`):
 * 1. one header line (`arbitex.audit.export`): the filters, and whether the entries are a contiguous seq range;
 * 2. one OCSF event per entry, in seq order, each carrying the chained entry itself in `unmapped.audit`;
 * 3. the signed checkpoints (`arbitex.audit.checkpoint`) whose seq falls in the exported range, and the first
 *    one after it, so that a verifier can check the exported head against a signature.
 * A SIEM sink sends only the events (2).
 */
export const EXPORT_HEADER_TYPE = 'arbitex.audit.export';
export const CHECKPOINT_LINE_TYPE = 'arbitex.audit.checkpoint';

export const ExportHeader = z.object({
  type: z.literal(EXPORT_HEADER_TYPE),
  version: z.literal(1),
  exported_at: z.iso.datetime(),
  /** True when no filter other than a seq range was applied: then every seq in [from_seq, to_seq] is present. */
  contiguous: z.boolean(),
  /** The requested range; null `from_seq` is 1. */
  from_seq: z.number().int().nonnegative().nullable(),
  /**
   * The requested end; null when the export runs to the chain's head. Then an offline verifier holds the
   * export to every checkpoint in it: one beyond the last entry means the tail was cut off (`truncated`).
   * So an open-ended export must read its entries and checkpoints in one snapshot (REPEATABLE READ).
   */
  to_seq: z.number().int().nonnegative().nullable(),
  filters: z.record(z.string(), z.unknown()),
});
export type ExportHeader = z.infer<typeof ExportHeader>;

/**
 * A signed checkpoint as stored in audit_checkpoints. The signature (base64) is Ed25519 over the RFC 8785
 * JSON of `{chain_id, head_hmac, key_id, seq, signed_at, type: "arbitex.audit.checkpoint.v1"}`
 * (lib/audit/checkpoint.ts; docs/AUDIT.md shows how to check one with openssl).
 */
export const CheckpointRecord = z.object({
  chain_id: z.string(),
  seq: z.number().int().nonnegative(),
  head_hmac: z.string().regex(/^[0-9a-f]{64}$/),
  signed_at: z.iso.datetime(),
  key_id: z.string(),
  signature: z.string(),
  /**
   * The same head as a C2SP signed note (lib/audit/note.ts): `<chain_id>\n<seq>\n<base64 Merkle root>\n`,
   * signed with the same key under the name chain_id. Absent on checkpoints older than the Merkle tree.
   */
  note: z.string().optional(),
});
export type CheckpointRecord = z.infer<typeof CheckpointRecord>;

export const CheckpointLine = CheckpointRecord.extend({ type: z.literal(CHECKPOINT_LINE_TYPE) });
export type CheckpointLine = z.infer<typeof CheckpointLine>;

/**
 * The download of /audit/checkpoints (lib/services/audit/checkpoints.ts), which operators keep outside the
 * database: every checkpoint and the public keys. `npm run audit:verify -- --checkpoint-pubkey` and
 * AUDIT_TRUSTED_CHECKPOINT_FILE read it; a chain or export is then held to each of its checkpoints.
 */
export const CheckpointsDocument = z.object({
  type: z.literal('arbitex.audit.checkpoints'),
  version: z.literal(1),
  chain_id: z.string(),
  exported_at: z.iso.datetime(),
  public_keys: z.record(z.string(), z.string()),
  /** The same keys as signed-note verifier keys (`<name>+<key ID>+<base64 key>`), by key id. */
  verifier_keys: z.record(z.string(), z.string()).optional(),
  /** The witnesses' verifier keys (`<name>+<key ID>+<base64 key>`), by witness name. */
  witness_keys: z.record(z.string(), z.string()).optional(),
  /** Each checkpoint with the witnesses' cosignature lines of its note (`— <name> <base64>`), if any. */
  checkpoints: z.array(CheckpointRecord.extend({ cosignatures: z.array(z.string()).optional() })),
});
export type CheckpointsDocument = z.infer<typeof CheckpointsDocument>;
