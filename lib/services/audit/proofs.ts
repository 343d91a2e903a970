import { z } from 'zod';
import { readEntries } from '@/lib/audit/verify';
import { newestNote, proveConsistency, proveInclusion } from '@/lib/audit/proofs';
import { configuredWitnesses } from '@/lib/audit/witnesses';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { config } from '@/lib/config';
import { NotFoundError, parseInput } from '@/lib/errors';
import { text } from '@/lib/text';
import { checkpointPublicKeys, checkpointVerifierKeys } from './checkpoints';

const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const Count = (message: string) =>
  z.preprocess(
    blank,
    text({ error: (i) => (i.input === undefined ? 'is required.' : message) })
      .regex(/^[0-9]{1,15}$/, message)
      .transform(Number)
      .refine((n) => n > 0, message),
  );
const WHOLE = 'must be a whole number of 1 or more.';

const InclusionQuery = z.object({ seq: Count(WHOLE), size: Count(WHOLE).optional() });
const ConsistencyQuery = z.object({ from: Count(WHOLE), to: Count(WHOLE) });

/**
 * GET /api/audit/proof/inclusion?seq=N&size=S: entry N's inclusion proof in the tree of S entries, with
 * the signed note of that size when there is one. Without `size`, the newest note checkpoint's tree.
 */
export async function inclusionProofFor(ctx: StaffCtx, raw: Record<string, unknown>) {
  requirePermission(ctx, 'audit.read');
  const q = parseInput(InclusionQuery, raw);
  const chainId = config().AUDIT_CHAIN_ID;
  let size = q.size;
  if (size === undefined) {
    const newest = await newestNote(ctx.db, chainId, q.seq);
    if (!newest)
      throw new NotFoundError(
        `No signed checkpoint covers entry ${q.seq} yet (one is signed every ${config().AUDIT_CHECKPOINT_EVERY_S} s); give a size, or try again shortly.`,
      );
    size = newest.size;
  }
  return proveInclusion(ctx.db, chainId, q.seq, size);
}

/** GET /api/audit/proof/consistency?from=A&to=B: the tree of A entries is a prefix of the tree of B. */
export async function consistencyProofFor(ctx: StaffCtx, raw: Record<string, unknown>) {
  requirePermission(ctx, 'audit.read');
  const q = parseInput(ConsistencyQuery, raw);
  return proveConsistency(ctx.db, config().AUDIT_CHAIN_ID, q.from, q.to);
}

/**
 * The "Inclusion proof" download of /audit/<seq>: the entry, its proof against the newest signed note
 * checkpoint that covers it (the newest one a witness has cosigned, when witnesses are configured and one
 * has), that note with the witnesses' cosignature lines, and the keys to check it with. `npm run audit:verify
 * -- --proof [--witness-key]` checks it, and so does scripts/check-proof-by-hand.mjs.
 */
export async function inclusionProofDownload(ctx: StaffCtx, rawSeq: string) {
  requirePermission(ctx, 'audit.read');
  const { seq } = parseInput(InclusionQuery, { seq: rawSeq });
  const chainId = config().AUDIT_CHAIN_ID;
  const witnesses = configuredWitnesses();
  const newest =
    (witnesses.length > 0 ? await newestNote(ctx.db, chainId, seq, { cosigned: true }) : null) ??
    (await newestNote(ctx.db, chainId, seq));
  if (!newest)
    throw new NotFoundError(
      `No signed checkpoint covers entry ${seq} yet: checkpoints are signed every ${config().AUDIT_CHECKPOINT_EVERY_S} s. Try again shortly.`,
    );
  const [entry] = await readEntries(ctx.db, seq - 1, seq, 1);
  if (!entry) throw new NotFoundError(`There is no audit entry ${seq}.`);
  const proof = await proveInclusion(ctx.db, chainId, seq, newest.size);
  return {
    ...proof,
    checkpoint: proof.checkpoint ?? newest.note,
    entry,
    verifier_keys: checkpointVerifierKeys(),
    public_keys: checkpointPublicKeys(),
    witness_keys: Object.fromEntries(witnesses.map((w) => [w.name, w.vkey])),
  };
}
