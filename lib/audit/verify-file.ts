import type crypto from 'node:crypto';
import fs from 'node:fs';
import readline from 'node:readline';
import { type ChainEntry, GENESIS_HMAC, nextKeyId } from './chain';
import { checkSignature } from './checkpoint-format';
import { CHECKPOINT_LINE_TYPE, CheckpointLine, type CheckpointRecord, ExportHeader } from './export-format';
import type { HmacKeyRing } from './keys';
import { checkInclusionProof, EXPORT_PROOF_LINE_TYPE, ExportProofLine, verifiersFor } from './proof-format';
import {
  type BreakLookup,
  type ChainBreak,
  classifyBreak,
  combine,
  entryVerifies,
  evaluateCheckpoints,
  type VerifyResult,
} from './verify-core';

export interface FileVerifyOptions {
  keys: HmacKeyRing;
  /** Checkpoint public keys by key id. */
  publicKeys: ReadonlyMap<string, crypto.KeyObject>;
  /** The chain the checkpoints must name; default: the one the first checkpoint names. */
  chainId?: string;
  /**
   * Checkpoints kept outside the database (the /audit/checkpoints download): a contiguous export is held to
   * each, also beyond its last entry, so a restored older backup shows as truncated or rolled back even
   * when the export's own checkpoint lines came from the restored database.
   */
  kept?: readonly CheckpointRecord[];
  onProgress?: (checked: number, bytesRead: number) => void;
}

export type FileVerifyResult = VerifyResult & {
  header: ExportHeader | null;
  /**
   * How far key continuity (each entry MAC'd with the key in force at its seq) could be checked: `full` in
   * a contiguous export (from its second entry on; the first one's predecessor is not in the file),
   * `consecutive_only` in a filtered one, where it holds only between entries whose seqs meet.
   */
  keyContinuity: 'full' | 'consecutive_only';
  /** Entries in the file (all of them, also after a break). */
  entries: number;
  checkpoints: number;
  /**
   * The last line's Merkle proof of the last entry: `checked` against its signed note checkpoint (then
   * `proofTreeSize` is that checkpoint's tree size), or `absent` (an export older than the Merkle tree).
   */
  proof: 'checked' | 'absent';
  proofTreeSize?: number;
};

class FormatError extends Error {}

/** Every line of the file, with its 1-based number. */
async function* lines(file: string, onBytes?: (n: number) => void): AsyncGenerator<[number, string]> {
  const stream = fs.createReadStream(file);
  let bytes = 0;
  stream.on('data', (chunk) => {
    bytes += chunk.length;
    onBytes?.(bytes);
  });
  const reader = readline.createInterface({ input: stream, crlfDelay: Infinity });
  let n = 0;
  for await (const line of reader) {
    n++;
    if (line.trim() !== '') yield [n, line];
  }
}

type Line =
  | { kind: 'entry'; entry: ChainEntry }
  | { kind: 'checkpoint'; checkpoint: CheckpointLine }
  | { kind: 'proof'; proof: ExportProofLine };

function parseLine(n: number, text: string): Line {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FormatError(`line ${n} is not JSON`);
  }
  const object = value as { type?: unknown; unmapped?: { audit?: unknown } } | null;
  if (object?.type === CHECKPOINT_LINE_TYPE) {
    const parsed = CheckpointLine.safeParse(value);
    if (!parsed.success)
      throw new FormatError(`line ${n} is not a valid checkpoint: ${parsed.error.issues[0]?.message}`);
    return { kind: 'checkpoint', checkpoint: parsed.data };
  }
  if (object?.type === EXPORT_PROOF_LINE_TYPE) {
    const parsed = ExportProofLine.safeParse(value);
    if (!parsed.success)
      throw new FormatError(
        `line ${n} is not a valid proof line: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}`,
      );
    return { kind: 'proof', proof: parsed.data };
  }
  const entry = object?.unmapped?.audit as Partial<ChainEntry> | undefined;
  if (
    !entry ||
    typeof entry.seq !== 'number' ||
    !Number.isSafeInteger(entry.seq) ||
    typeof entry.hmac !== 'string' ||
    typeof entry.prev_hmac !== 'string' ||
    typeof entry.hmac_key_id !== 'string'
  ) {
    throw new FormatError(`line ${n} carries no audit entry in unmapped.audit`);
  }
  return { kind: 'entry', entry: entry as ChainEntry };
}

/** Classification's look-ups, answered by reading the file again (it runs once, at the first break). */
function fileLookup(file: string): BreakLookup {
  async function find(match: (e: ChainEntry) => boolean): Promise<ChainEntry | null> {
    let first = true;
    for await (const [n, text] of lines(file)) {
      if (first) {
        first = false;
        continue;
      }
      const line = parseLine(n, text);
      if (line.kind === 'entry' && match(line.entry)) return line.entry;
    }
    return null;
  }
  return {
    seqWithHmac: async (hmac, notSeq) =>
      (await find((e) => e.hmac === hmac && e.seq !== notSeq))?.seq ?? null,
    entryAfter: (seq) => find((e) => e.seq > seq),
  };
}

/**
 * Verifies an NDJSON export on its own (lib/audit/export-format.ts), with no database: every entry's
 * HMAC under the key ring; in a contiguous export also dense seqs and the links between entries, and that
 * the file reaches the header's `to_seq`; in a filtered export the links only where seqs are consecutive.
 * Then the checkpoints: each signature, and for those whose seq the file covers, the hmac they signed.
 */
export async function verifyExportFile(file: string, opts: FileVerifyOptions): Promise<FileVerifyResult> {
  let header: ExportHeader | null = null;
  let entries = 0;
  let checked = 0;
  let firstSeq: number | null = null;
  let prev: ChainEntry | null = null;
  let chainBreak: ChainBreak | null = null;
  const checkpoints: CheckpointLine[] = [];
  let proof: ExportProofLine | null = null;
  const fail = (detail: string, firstBadSeq = 0): FileVerifyResult => ({
    ok: false,
    checked,
    firstBadSeq,
    kind: 'modified',
    detail,
    header,
    keyContinuity: continuity(header),
    entries,
    checkpoints: checkpoints.length,
    proof: proof ? 'checked' : 'absent',
  });

  let bytesRead = 0;
  try {
    for await (const [n, text] of lines(file, (b) => (bytesRead = b))) {
      if (!header) {
        const parsed = ExportHeader.safeParse(JSON.parse(text));
        if (!parsed.success) throw new FormatError('the first line is not an arbitex.audit.export header');
        header = parsed.data;
        continue;
      }
      const line = parseLine(n, text);
      if (proof) throw new FormatError(`line ${n}: a line after the proof, which ends an export`);
      if (line.kind === 'proof') {
        proof = line.proof;
        continue;
      }
      if (line.kind === 'checkpoint') {
        checkpoints.push(line.checkpoint);
        continue;
      }
      if (checkpoints.length > 0) throw new FormatError(`line ${n}: an entry after the checkpoints`);
      const entry = line.entry;
      entries++;
      firstSeq ??= entry.seq;
      if (!chainBreak) {
        const { expected, prevHmac, expectedKey } = expectations(header, prev, entry);
        if (prev && !header.contiguous && entry.seq <= prev.seq) {
          chainBreak = {
            firstBadSeq: entry.seq,
            kind: 'reordered',
            detail: `entry ${entry.seq} comes after entry ${prev.seq}`,
          };
        } else if (!entryVerifies(opts.keys, entry, expected, prevHmac, expectedKey)) {
          chainBreak = await classifyBreak(
            fileLookup(file),
            opts.keys,
            entry,
            expected,
            prevHmac,
            expectedKey,
          );
        } else {
          checked++;
        }
        if (checked % 10_000 === 0) opts.onProgress?.(checked, bytesRead);
      }
      prev = entry;
    }
  } catch (err) {
    if (err instanceof FormatError || err instanceof SyntaxError)
      return fail(`the export is not readable: ${err.message}`);
    throw err;
  }
  opts.onProgress?.(checked, bytesRead);
  if (!header) return fail('the file is empty');

  const lastSeq = prev?.seq ?? (header.from_seq ?? 1) - 1;
  if (!chainBreak && header.contiguous && header.to_seq !== null && lastSeq < header.to_seq) {
    chainBreak = {
      firstBadSeq: lastSeq + 1,
      kind: 'truncated',
      detail: `the export ends at seq ${lastSeq}, but its header says it covers seq ${header.to_seq}`,
    };
  }
  const chain: VerifyResult = chainBreak
    ? { ok: false, checked, ...chainBreak }
    : { ok: true, checked, headSeq: lastSeq, headHmac: prev?.hmac ?? GENESIS_HMAC };
  let result = combine(
    chain,
    await judgeCheckpoints(file, header, checkpoints, opts, firstSeq ?? lastSeq + 1, lastSeq),
  );
  if (proof && result.ok) {
    const problem = judgeProof(proof, prev, opts, checkpoints[0]?.chain_id);
    if (problem) result = { ok: false, checked, firstBadSeq: proof.seq, kind: 'bad_proof', detail: problem };
  }
  return {
    ...result,
    header,
    keyContinuity: continuity(header),
    entries,
    checkpoints: checkpoints.length,
    proof: proof ? 'checked' : 'absent',
    ...(proof ? { proofTreeSize: proof.tree_size } : {}),
  };
}

/**
 * The proof line: of the file's last entry (its leaf hash recomputed from it), against a note checkpoint
 * signed by one of the checkpoint keys for this chain. A problem as text, or null.
 */
function judgeProof(
  proof: ExportProofLine,
  last: ChainEntry | null,
  opts: FileVerifyOptions,
  checkpointChainId: string | undefined,
): string | null {
  if (!last || last.seq !== proof.seq)
    return `the proof line is for entry ${proof.seq}, but the export ends with entry ${last?.seq ?? 'none'}`;
  const chainId = opts.chainId ?? checkpointChainId ?? proof.chain_id;
  if (proof.chain_id !== chainId)
    return `the proof line is for the chain "${proof.chain_id}", not "${chainId}"`;
  const verdict = checkInclusionProof(
    proof,
    verifiersFor(chainId, { pems: new Set(opts.publicKeys.values()) }),
    last,
  );
  return verdict.ok ? null : `the proof of entry ${proof.seq}: ${verdict.reason}`;
}

function continuity(header: ExportHeader | null): FileVerifyResult['keyContinuity'] {
  return header && !header.contiguous ? 'consecutive_only' : 'full';
}

/**
 * What an entry must follow: in a contiguous export the previous seq, hmac and the key it hands on, else
 * only where seqs meet.
 */
function expectations(header: ExportHeader, prev: ChainEntry | null, entry: ChainEntry) {
  if (header.contiguous) {
    if (prev) return { expected: prev.seq + 1, prevHmac: prev.hmac, expectedKey: nextKeyId(prev) };
    const from = header.from_seq ?? 1;
    return { expected: from, prevHmac: from <= 1 ? GENESIS_HMAC : null, expectedKey: null };
  }
  const meets = prev && entry.seq === prev.seq + 1;
  return {
    expected: null,
    prevHmac: meets ? prev.hmac : null,
    expectedKey: meets ? nextKeyId(prev) : null,
  };
}

async function judgeCheckpoints(
  file: string,
  header: ExportHeader,
  checkpoints: CheckpointLine[],
  opts: FileVerifyOptions,
  firstSeq: number,
  lastSeq: number,
) {
  type Held = CheckpointLine & { kept?: true };
  const kept = (opts.kept ?? []).map((c): Held => ({ ...c, type: CHECKPOINT_LINE_TYPE, kept: true }));
  // In seq order, so that a rollback is dated from the newest checkpoint that still matches.
  const all: Held[] = [...checkpoints, ...kept].sort((a, b) => a.seq - b.seq);
  if (all.length === 0) return { problems: [], latest: null };
  const chainId = opts.chainId ?? all[0]!.chain_id;
  // Which checkpoints the file can be held to: in a contiguous export, all up to its to_seq (one beyond
  // the entries means the tail is missing) and every kept one; in a filtered one, those at a seq it holds.
  const end = (c: Held) =>
    header.contiguous
      ? c.kept
        ? Number.MAX_SAFE_INTEGER
        : (header.to_seq ?? Number.MAX_SAFE_INTEGER)
      : lastSeq;
  const wanted = new Set(all.filter((c) => c.seq >= firstSeq - 1 && c.seq <= end(c)).map((c) => c.seq));
  const hmacAt = new Map<number, string>();
  if (wanted.size > 0) {
    let first = true;
    for await (const [n, text] of lines(file)) {
      if (first) {
        first = false;
        continue;
      }
      const line = parseLine(n, text);
      if (line.kind !== 'entry') continue;
      if (wanted.has(line.entry.seq)) hmacAt.set(line.entry.seq, line.entry.hmac);
      // A range that starts mid-chain: the entry before it is known by the hmac the first entry links to.
      if (header.contiguous && line.entry.seq === firstSeq) hmacAt.set(firstSeq - 1, line.entry.prev_hmac);
    }
  }
  const held = all.filter(
    (c) =>
      c.seq >= firstSeq - 1 &&
      c.seq <= end(c) &&
      (header.contiguous || hmacAt.has(c.seq) || c.seq === firstSeq - 1),
  );
  const verdict = evaluateCheckpoints(
    held.map((c) => ({ ...c, chainHmac: hmacAt.get(c.seq) ?? null })),
    {
      chainId,
      publicKeys: opts.publicKeys,
      headSeq: header.contiguous ? lastSeq : Number.MAX_SAFE_INTEGER,
      fromSeq: firstSeq,
    },
  );
  // The others cannot be compared with the entries, but their signatures must still hold.
  for (const c of all.filter((x) => !held.includes(x))) {
    const check = c.chain_id === chainId ? checkSignature(c, opts.publicKeys) : 'bad_chain';
    if (check !== 'ok') {
      verdict.problems.push({
        evidenceSeq: c.seq,
        firstBadSeq: c.seq,
        kind: 'bad_checkpoint',
        detail: `the checkpoint of seq ${c.seq} signed at ${c.signed_at} ${check === 'unknown_key' ? `names the unknown key "${c.key_id}"` : check === 'bad_chain' ? `is for the chain "${c.chain_id}"` : 'has a signature that does not verify'}`,
      });
    }
  }
  return verdict;
}
