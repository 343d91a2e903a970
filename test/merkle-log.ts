import type crypto from 'node:crypto';
import { consistencyProof, EMPTY_EDGE, extendTree, leafHash, MemoryTiles, rootAt } from '@/lib/audit/merkle';
import { checkpointText, signNote } from '@/lib/audit/note';
import { formatAddCheckpoint } from '@/lib/audit/witness-protocol';

export const LOG_ORIGIN = 'staff-portal@int.arbitex.ai';

/** A log for the witness tests: its leaves as a Merkle tree in memory, its checkpoints signed as the portal signs them. */
export class TestLog {
  readonly tiles = new MemoryTiles();
  protected edge = EMPTY_EDGE;
  constructor(
    private readonly history: string,
    private readonly key: crypto.KeyObject,
  ) {}

  /** Grows to `size` leaves; leaves below `sharedUpTo` are those of every history (a common prefix). */
  grow(size: number, sharedUpTo = 0) {
    const leaves = Array.from({ length: size - this.edge.size }, (_, i) => {
      const index = this.edge.size + i;
      return leafHash(index < sharedUpTo ? `entry ${index}` : `${this.history} entry ${index}`);
    });
    const { edge, writes } = extendTree(this.edge, leaves);
    this.tiles.apply(writes);
    this.edge = edge;
    return this;
  }

  async note(size = this.edge.size) {
    const text = checkpointText({ origin: LOG_ORIGIN, size, rootHash: await rootAt(size, this.tiles) });
    return { text, note: signNote(text, LOG_ORIGIN, this.key) };
  }

  /** The body of an add-checkpoint request from `oldSize` to `size`. */
  async body(oldSize: number, size: number) {
    const { note } = await this.note(size);
    return formatAddCheckpoint({ oldSize, proof: await consistencyProof(oldSize, size, this.tiles), note });
  }
}
