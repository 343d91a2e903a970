import fs from 'node:fs';
import type crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { type Db, rows, type Tx } from '@/db/client';
import { type Config, config } from '@/lib/config';
import { GENESIS_HMAC } from './chain';
import { checkSignature } from './checkpoint-format';
import { checkpointKeyRing, publicKeys } from './checkpoint-keys';
import { type CheckpointRecord, CheckpointsDocument } from './export-format';

export type TrustedCheck =
  | { ok: true; checkpoint: CheckpointRecord | null; acknowledged: boolean }
  | { ok: false; seq: number; problem: string };

type Settings = Pick<
  Config,
  'AUDIT_TRUSTED_CHECKPOINT_FILE' | 'AUDIT_TRUSTED_CHECKPOINT_ACK' | 'AUDIT_CHAIN_ID'
>;

// The download holds every checkpoint (one a minute), and readiness asks every few seconds: the parsed file is
// kept until the file changes.
let parsed: { key: string; checkpoints: CheckpointRecord[] } | undefined;

function keptCheckpoints(file: string): CheckpointRecord[] {
  let key: string;
  try {
    const stat = fs.statSync(/*turbopackIgnore: true*/ file);
    key = `${file}:${stat.mtimeMs}:${stat.size}`;
  } catch (err) {
    throw new Error(`AUDIT_TRUSTED_CHECKPOINT_FILE: ${file} cannot be read: ${(err as Error).message}`);
  }
  if (parsed?.key === key) return parsed.checkpoints;
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(/*turbopackIgnore: true*/ file, 'utf8'));
  } catch (err) {
    throw new Error(
      `AUDIT_TRUSTED_CHECKPOINT_FILE: ${file} cannot be read as JSON: ${(err as Error).message}`,
    );
  }
  const document = CheckpointsDocument.safeParse(raw);
  if (!document.success)
    throw new Error(`AUDIT_TRUSTED_CHECKPOINT_FILE: ${file} is not a download of /audit/checkpoints`);
  parsed = { key, checkpoints: document.data.checkpoints };
  return parsed.checkpoints;
}

/**
 * The newest checkpoint of AUDIT_TRUSTED_CHECKPOINT_FILE for this chain, which is all the check relies on; null
 * without the file. Throws, naming the file, when it is unreadable, not a /audit/checkpoints download, or when
 * that checkpoint is not signed by the portal's own checkpoint keys (a file that vouches for nothing is refused
 * rather than ignored).
 */
export function readTrustedCheckpoint(
  c: Settings = config(),
  keys: ReadonlyMap<string, crypto.KeyObject> = publicKeys(checkpointKeyRing()),
): CheckpointRecord | null {
  const file = c.AUDIT_TRUSTED_CHECKPOINT_FILE;
  if (!file) return null;
  const newest = keptCheckpoints(file)
    .filter((cp) => cp.chain_id === c.AUDIT_CHAIN_ID)
    .reduce<CheckpointRecord | null>((best, cp) => (!best || cp.seq > best.seq ? cp : best), null);
  if (newest && checkSignature(newest, keys) !== 'ok')
    throw new Error(
      `AUDIT_TRUSTED_CHECKPOINT_FILE: the checkpoint of seq ${newest.seq} in ${file} is not signed by a checkpoint key of this portal`,
    );
  return newest;
}

/**
 * Whether the chain still holds the newest trusted checkpoint: its entry at that seq has the hmac the
 * checkpoint signed. Behind it or different, a backup older than the checkpoint was restored (entries the
 * checkpoint vouched for are lost), and nothing may be signed over the head until an operator acknowledges
 * that checkpoint's seq (AUDIT_TRUSTED_CHECKPOINT_ACK).
 */
export async function checkTrustedCheckpoint(db: Db | Tx, c: Settings = config()): Promise<TrustedCheck> {
  let kept: CheckpointRecord | null;
  try {
    kept = readTrustedCheckpoint(c);
  } catch (err) {
    return { ok: false, seq: 0, problem: (err as Error).message };
  }
  if (!kept) return { ok: true, checkpoint: null, acknowledged: false };
  const [row] = await rows<{ hmac: string | null; head: string | null }>(
    db,
    sql`select (select hmac from audit_log where seq = ${kept.seq}) as hmac,
               (select max(seq)::text from audit_log) as head`,
  );
  const hmac = kept.seq === 0 ? GENESIS_HMAC : row?.hmac;
  if (hmac === kept.head_hmac) return { ok: true, checkpoint: kept, acknowledged: false };
  if (c.AUDIT_TRUSTED_CHECKPOINT_ACK === kept.seq) return { ok: true, checkpoint: kept, acknowledged: true };
  const where = `the kept checkpoint of seq ${kept.seq} signed at ${kept.signed_at}`;
  return {
    ok: false,
    seq: kept.seq,
    problem: hmac
      ? `entry ${kept.seq} is not the one ${where} covers: the chain was replaced by another history (a restored backup?)`
      : `the chain ends at seq ${row?.head ?? 0}, behind ${where}: entries up to ${kept.seq} are missing (a restored backup?)`,
  };
}

/** Raised instead of signing a checkpoint over a chain that lost what a kept checkpoint vouched for. */
export class TrustedCheckpointError extends Error {
  constructor(readonly check: Extract<TrustedCheck, { ok: false }>) {
    super(
      `audit chain: refusing to sign a checkpoint: ${check.problem}. After checking the restore, set AUDIT_TRUSTED_CHECKPOINT_ACK=${check.seq} to accept the loss (docs/OPERATIONS.md, restore).`,
    );
  }
}
