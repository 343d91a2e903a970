import { sql } from 'drizzle-orm';
import { type Db, rows } from '@/db/client';
import { NotFoundError, ValidationError } from '@/lib/errors';
import { cosignatureLines } from './cosignatures';
import { consistencyProof, inclusionProof, leafAt, rootAt } from './merkle';
import { b64, CONSISTENCY_PROOF_TYPE, INCLUSION_PROOF_TYPE } from './proof-format';
import { dbTiles, treeSize } from './tree';

/**
 * Proofs from the stored tree (docs/AUDIT.md, "Proofs"), in the JSON of lib/audit/proof-format.ts. A proof
 * is computed for any size the tree holds; it carries the signed note checkpoint of that size when one was
 * signed, which is what a third party checks it against.
 */

/**
 * The signed note of exactly `size` leaves, if any, with the witnesses' cosignature lines after the portal's
 * own signature (the cosigned note; a checker that trusts only the checkpoint key ignores them).
 */
export async function noteOfSize(db: Db, chainId: string, size: number): Promise<string | null> {
  const [row] = await rows<{ note: string }>(
    db,
    sql`select note from audit_checkpoints where chain_id = ${chainId} and tree_size = ${size}
        order by signed_at desc limit 1`,
  );
  if (!row) return null;
  const lines = await cosignatureLines(db, chainId, size);
  return row.note + lines.map((l) => `${l.trimEnd()}\n`).join('');
}

/** The newest note checkpoint (largest tree), if any; with `atLeast`, only one whose tree holds that many. */
export async function newestNote(
  db: Db,
  chainId: string,
  atLeast = 0,
  opts: { cosigned?: boolean } = {},
): Promise<{ size: number; note: string } | null> {
  // A note's text is its size and root, so every checkpoint row of one size has the same note: a witness's
  // cosignature of any of them is a cosignature of it.
  const cosigned = opts.cosigned
    ? sql`and exists (select 1 from audit_checkpoint_cosignatures s where s.checkpoint_id = c.id and s.outcome = 'cosigned')`
    : sql``;
  const [row] = await rows<{ size: string; note: string }>(
    db,
    sql`select tree_size::text as size, note from audit_checkpoints c
        where chain_id = ${chainId} and tree_size is not null and tree_size >= ${atLeast} ${cosigned}
        order by tree_size desc, signed_at desc limit 1`,
  );
  return row ? { size: Number(row.size), note: row.note } : null;
}

async function withinTree(db: Db, size: number, field: string) {
  const held = await treeSize(db);
  if (size > held)
    throw new NotFoundError(
      `${field} ${size} is beyond the Merkle tree, which holds ${held} entries${held === 0 ? '' : ` (seq 1-${held})`}.`,
    );
}

/** The inclusion proof of entry `seq` in the tree of `size` entries (1 ≤ seq ≤ size ≤ the tree's size). */
export async function proveInclusion(db: Db, chainId: string, seq: number, size: number) {
  if (seq > size) throw new ValidationError({ seq: `must be at most the tree size (${size})` });
  await withinTree(db, size, 'Size');
  const tiles = dbTiles(db);
  const [leaf, root, proof, checkpoint] = await Promise.all([
    leafAt(seq - 1, tiles),
    rootAt(size, tiles),
    inclusionProof(seq - 1, size, tiles),
    noteOfSize(db, chainId, size),
  ]);
  return {
    type: INCLUSION_PROOF_TYPE,
    version: 1 as const,
    chain_id: chainId,
    seq,
    leaf_index: seq - 1,
    tree_size: size,
    leaf_hash: b64(leaf),
    root_hash: b64(root),
    proof: proof.map(b64),
    checkpoint,
  };
}

/** The consistency proof from the tree of `from` entries to the tree of `to` (1 ≤ from ≤ to ≤ the tree's size). */
export async function proveConsistency(db: Db, chainId: string, from: number, to: number) {
  if (from > to) throw new ValidationError({ from: `must be at most To (${to})` });
  await withinTree(db, to, 'To');
  const tiles = dbTiles(db);
  const [fromRoot, toRoot, proof, fromNote, toNote] = await Promise.all([
    rootAt(from, tiles),
    rootAt(to, tiles),
    consistencyProof(from, to, tiles),
    noteOfSize(db, chainId, from),
    noteOfSize(db, chainId, to),
  ]);
  return {
    type: CONSISTENCY_PROOF_TYPE,
    version: 1 as const,
    chain_id: chainId,
    from,
    to,
    from_root: b64(fromRoot),
    to_root: b64(toRoot),
    proof: proof.map(b64),
    from_checkpoint: fromNote,
    to_checkpoint: toNote,
  };
}
