import crypto from 'node:crypto';

/**
 * The Merkle tree over the audit chain (docs/AUDIT.md, "The Merkle tree"): RFC 6962 / RFC 9162 hashing,
 * stored as C2SP tlog-tiles. Pure functions; the database and memory both serve hashes through TileReader.
 *
 * Leaf i (0-based) is the entry of seq i + 1. Sizes and indexes are plain numbers (safe up to 2^53), and
 * the arithmetic avoids JavaScript's 32-bit bit operators for that reason.
 */

export const HASH_SIZE = 32;
/** A tile holds 2^8 hashes of one tree level; level-L tiles hold the hashes at tree level 8·L. */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;

/** The root of the empty tree: SHA-256 of nothing (RFC 6962 §2.1). */
export const EMPTY_ROOT = crypto.createHash('sha256').digest();

/** RFC 6962 leaf hash: SHA-256(0x00 ‖ bytes). */
export function leafHash(bytes: Uint8Array | string): Buffer {
  return crypto
    .createHash('sha256')
    .update(Buffer.of(0))
    .update(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes)
    .digest();
}

/** RFC 6962 interior node: SHA-256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return crypto.createHash('sha256').update(Buffer.of(1)).update(left).update(right).digest();
}

/** One tile: `hashes` holds `width` (1-256) hashes of 32 bytes, concatenated. */
export interface Tile {
  level: number;
  index: number;
  width: number;
  hashes: Buffer;
}

/** Hashes appended to tile (level, index), which held `start` hashes before. */
export interface TileWrite {
  level: number;
  index: number;
  start: number;
  hashes: Buffer;
}

/** A tile and how many of its hashes a computation needs. */
export interface TileNeed {
  level: number;
  index: number;
  width: number;
}

/** Where proofs and roots read hashes: the tile table, or memory. */
export interface TileReader {
  /** The tiles asked for, in the same order, each with at least the width asked (wider is fine). */
  readTiles(needs: readonly TileNeed[]): Promise<Buffer[]>;
}

/** C2SP tlog-tiles path of a tile: `tile/<L>/<N>` or, for a partial tile, `tile/<L>/<N>.p/<W>`. */
export function tilePath(t: { level: number; index: number; width: number }): string {
  const groups: string[] = [];
  let n = t.index;
  do {
    groups.unshift(String(n % 1000).padStart(3, '0'));
    n = Math.floor(n / 1000);
  } while (n > 0);
  const index = groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
  return `tile/${t.level}/${index}${t.width < TILE_WIDTH ? `.p/${t.width}` : ''}`;
}

/** How many hashes tile level `level` holds for a tree of `size` leaves: ⌊size / 256^level⌋. */
export function storedCount(level: number, size: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/** The root of 2^r consecutive hashes of one level (a complete subtree), r ≤ 8. */
function completeRoot(hashes: Buffer[]): Buffer {
  let row = hashes;
  while (row.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < row.length; i += 2) next.push(nodeHash(row[i]!, row[i + 1]!));
    row = next;
  }
  return row[0]!;
}

/**
 * The right edge of the stored tree: for each tile level, the hashes of its last, incomplete tile (full
 * tiles never change again). Enough to extend the tree; see `extendTree`.
 */
export interface TreeEdge {
  size: number;
  /** partial[L]: the hashes of the incomplete tile at level L (storedCount(L, size) mod 256 of them). */
  partial: Buffer[][];
}

export const EMPTY_EDGE: TreeEdge = { size: 0, partial: [] };

/** Splits a tile's concatenated hashes. */
export function splitHashes(hashes: Buffer, width = hashes.length / HASH_SIZE): Buffer[] {
  return Array.from({ length: width }, (_, i) => hashes.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
}

/**
 * The edge of a tree of `size`, from the last tile of each level (as stored; a full last tile means an
 * empty incomplete one). Throws when the tiles do not describe a tree of that size.
 */
export function edgeFromTiles(size: number, lastTiles: readonly Tile[]): TreeEdge {
  const partial: Buffer[][] = [];
  for (let level = 0; storedCount(level, size) > 0; level++) {
    const count = storedCount(level, size);
    const width = count % TILE_WIDTH;
    if (width === 0) {
      partial.push([]);
      continue;
    }
    const index = Math.floor(count / TILE_WIDTH);
    const tile = lastTiles.find((t) => t.level === level && t.index === index);
    if (!tile || tile.width < width)
      throw new Error(`the Merkle tree lacks tile ${level}/${index} of width ${width} (tree size ${size})`);
    partial.push(splitHashes(tile.hashes, width));
  }
  return { size, partial };
}

/**
 * Appends leaf hashes to the tree whose right edge is `edge`: the new edge, and the hashes to append to
 * each tile (only the right edge's tiles change; a tile that fills up also adds its root one level up).
 */
export function extendTree(
  edge: TreeEdge,
  leaves: readonly Buffer[],
): { edge: TreeEdge; writes: TileWrite[] } {
  const partial = edge.partial.map((p) => [...p]);
  const writes = new Map<string, { level: number; index: number; start: number; hashes: Buffer[] }>();
  const add = (level: number, hash: Buffer, sizeBefore: number) => {
    const count = storedCount(level, sizeBefore);
    const index = Math.floor(count / TILE_WIDTH);
    const key = `${level}/${index}`;
    const write = writes.get(key);
    if (!write) writes.set(key, { level, index, start: count % TILE_WIDTH, hashes: [hash] });
    else write.hashes.push(hash);
    while (partial.length <= level) partial.push([]);
    const row = partial[level]!;
    row.push(hash);
    return row;
  };
  let size = edge.size;
  for (const leaf of leaves) {
    // The leaf goes into level 0; each tile it completes sends its root one level up.
    let hash = leaf;
    for (let level = 0; ; level++) {
      const row = add(level, hash, size);
      if (row.length < TILE_WIDTH) break;
      hash = completeRoot(row);
      partial[level] = [];
    }
    size++;
  }
  return {
    edge: { size, partial },
    writes: [...writes.values()]
      .map((w) => ({ ...w, hashes: Buffer.concat(w.hashes) }))
      .sort((a, b) => a.level - b.level || a.index - b.index),
  };
}

/** The root of the tree described by `edge`, from its incomplete tiles alone. */
export function edgeRoot(edge: TreeEdge): Buffer {
  // The tree's decomposition into complete subtrees, highest first: at each tile level, the bits of the
  // incomplete tile's width, each a complete subtree of 2^r of its hashes.
  const pieces: Buffer[] = [];
  for (let level = edge.partial.length - 1; level >= 0; level--) {
    const row = edge.partial[level]!;
    let at = 0;
    for (let r = TILE_HEIGHT - 1; r >= 0; r--) {
      const n = 2 ** r;
      if (row.length - at >= n) {
        pieces.push(completeRoot(row.slice(at, at + n)));
        at += n;
      }
    }
  }
  return foldRight(pieces) ?? EMPTY_ROOT;
}

/** MTH of a run split into complete subtrees left to right: each combined with all that follow it. */
function foldRight(pieces: readonly Buffer[]): Buffer | null {
  let hash: Buffer | null = null;
  for (let i = pieces.length - 1; i >= 0; i--) hash = hash ? nodeHash(pieces[i]!, hash) : pieces[i]!;
  return hash;
}

/** The largest power of two strictly below n (n ≥ 2): RFC 6962's split point k. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

type Range = readonly [lo: number, hi: number];

/** RFC 6962 §2.1.1 PATH(m, D[lo:hi]) as the ranges whose MTHs it lists, deepest first. */
function inclusionRanges(m: number, lo: number, hi: number): Range[] {
  const n = hi - lo;
  if (n <= 1) return [];
  const k = splitPoint(n);
  return m < k
    ? [...inclusionRanges(m, lo, lo + k), [lo + k, hi]]
    : [...inclusionRanges(m - k, lo + k, hi), [lo, lo + k]];
}

/** RFC 6962 §2.1.2 SUBPROOF(m, D[lo:hi], b) as the ranges whose MTHs it lists. */
function consistencyRanges(m: number, lo: number, hi: number, b: boolean): Range[] {
  const n = hi - lo;
  if (m === n) return b ? [] : [[lo, hi]];
  const k = splitPoint(n);
  return m <= k
    ? [...consistencyRanges(m, lo, lo + k, b), [lo + k, hi]]
    : [...consistencyRanges(m - k, lo + k, hi, false), [lo, lo + k]];
}

/**
 * A range of the RFC 6962 recursion as complete subtrees, left to right: each the largest aligned power of
 * two that fits. [height, index] covers leaves [index·2^height, (index+1)·2^height).
 */
function subtrees([lo, hi]: Range): Array<[height: number, index: number]> {
  const out: Array<[number, number]> = [];
  let at = lo;
  while (at < hi) {
    let width = 1;
    let height = 0;
    while (at % (width * 2) === 0 && at + width * 2 <= hi) {
      width *= 2;
      height++;
    }
    out.push([height, at / width]);
    at += width;
  }
  return out;
}

/** Where the stored hashes of a complete subtree are: 2^r hashes from `offset` of one tile. */
function subtreeTile(height: number, index: number) {
  const level = Math.floor(height / TILE_HEIGHT);
  const count = 2 ** (height % TILE_HEIGHT);
  const first = index * count;
  return { level, index: Math.floor(first / TILE_WIDTH), offset: first % TILE_WIDTH, count };
}

/** The MTHs of RFC 6962 ranges, reading every tile they need in one call. */
async function rangeHashes(ranges: readonly Range[], reader: TileReader): Promise<Buffer[]> {
  const pieces = ranges.map((r) => subtrees(r).map(([h, i]) => subtreeTile(h, i)));
  const needs = new Map<string, TileNeed>();
  for (const p of pieces.flat()) {
    const key = `${p.level}/${p.index}`;
    const width = p.offset + p.count;
    const need = needs.get(key);
    if (!need) needs.set(key, { level: p.level, index: p.index, width });
    else need.width = Math.max(need.width, width);
  }
  const asked = [...needs.values()];
  const got = await reader.readTiles(asked);
  const tiles = new Map(asked.map((n, i) => [`${n.level}/${n.index}`, got[i]!]));
  return pieces.map((list) => {
    const hashes = list.map((p) => {
      const tile = tiles.get(`${p.level}/${p.index}`)!;
      if (tile.length < (p.offset + p.count) * HASH_SIZE)
        throw new Error(`tile ${p.level}/${p.index} is narrower than the tree it should hold`);
      return completeRoot(splitHashes(tile.subarray(p.offset * HASH_SIZE, (p.offset + p.count) * HASH_SIZE)));
    });
    return foldRight(hashes)!;
  });
}

function checkSize(what: string, n: number) {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a whole number ≥ 0`);
}

/** The root (MTH) of the first `size` leaves. */
export async function rootAt(size: number, reader: TileReader): Promise<Buffer> {
  checkSize('size', size);
  if (size === 0) return EMPTY_ROOT;
  const [root] = await rangeHashes([[0, size]], reader);
  return root!;
}

/** The hash of leaf `index` (0-based), as stored. */
export async function leafAt(index: number, reader: TileReader): Promise<Buffer> {
  const [hash] = await rangeHashes([[index, index + 1]], reader);
  return hash!;
}

/** RFC 6962 §2.1.1 audit path of leaf `index` (0-based) in the tree of the first `size` leaves. */
export async function inclusionProof(index: number, size: number, reader: TileReader): Promise<Buffer[]> {
  checkSize('index', index);
  checkSize('size', size);
  if (index >= size) throw new RangeError(`leaf ${index} is not in a tree of size ${size}`);
  return rangeHashes(inclusionRanges(index, 0, size), reader);
}

/** RFC 6962 §2.1.2 consistency proof from the tree of `from` leaves to the tree of `to` leaves. */
export async function consistencyProof(from: number, to: number, reader: TileReader): Promise<Buffer[]> {
  checkSize('from', from);
  checkSize('to', to);
  if (from > to) throw new RangeError(`a tree of size ${from} cannot be a prefix of one of size ${to}`);
  if (from === 0) return [];
  return rangeHashes(consistencyRanges(from, 0, to, true), reader);
}

const isOdd = (n: number) => n % 2 === 1;
const half = (n: number) => Math.floor(n / 2);

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === HASH_SIZE && b.length === HASH_SIZE && Buffer.compare(a, b) === 0;
}

/**
 * The root an inclusion proof leads to (RFC 9162 §2.1.3.2), or null when the proof cannot be one for
 * leaf `index` of a tree of `size` (wrong length, index out of range).
 */
export function rootFromInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Buffer | null {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return null;
  if (leaf.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE)) return null;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return null;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : null;
}

/** RFC 9162 §2.1.3.2: does `proof` show leaf hash `leaf` at `index` in the tree of `size` with `root`? */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  const computed = rootFromInclusion(index, size, leaf, proof);
  return computed !== null && sameHash(computed, root);
}

/**
 * RFC 9162 §2.1.4.2: does `proof` show that the tree of `from` leaves with root `fromRoot` is a prefix of
 * the tree of `to` leaves with root `toRoot`? From the empty tree every tree is consistent (an empty
 * proof); between equal sizes only equal roots are, with an empty proof.
 */
export function verifyConsistency(
  from: number,
  to: number,
  proof: readonly Uint8Array[],
  fromRoot: Uint8Array,
  toRoot: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to) return false;
  if (proof.some((p) => p.length !== HASH_SIZE)) return false;
  if (from === 0) return proof.length === 0 && sameHash(fromRoot, EMPTY_ROOT) && toRoot.length === HASH_SIZE;
  if (from === to) return proof.length === 0 && sameHash(fromRoot, toRoot);
  if (proof.length === 0) return false;
  // Step 2: a first tree whose size is a power of two is itself a node of the second: its root starts the path.
  const path = isPowerOfTwo(from) ? [fromRoot, ...proof] : proof;
  let fn = from - 1;
  let sn = to - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && sameHash(fr, fromRoot) && sameHash(sr, toRoot);
}

function isPowerOfTwo(n: number): boolean {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
}

/** Tiles kept in memory, e.g. built with extendTree: a TileReader for tests and offline tools. */
export class MemoryTiles implements TileReader {
  private readonly tiles = new Map<string, Buffer>();

  apply(writes: readonly TileWrite[]): void {
    for (const w of writes) {
      const key = `${w.level}/${w.index}`;
      const before = this.tiles.get(key) ?? Buffer.alloc(0);
      if (before.length !== w.start * HASH_SIZE)
        throw new Error(`tile ${key} holds ${before.length / HASH_SIZE} hashes, not ${w.start}`);
      this.tiles.set(key, Buffer.concat([before, w.hashes]));
    }
  }

  get(level: number, index: number): Buffer | undefined {
    return this.tiles.get(`${level}/${index}`);
  }

  readTiles(needs: readonly TileNeed[]): Promise<Buffer[]> {
    return Promise.resolve(
      needs.map((n) => {
        const tile = this.tiles.get(`${n.level}/${n.index}`);
        if (!tile || tile.length < n.width * HASH_SIZE)
          throw new Error(`tile ${n.level}/${n.index} of width ${n.width} is not stored`);
        return tile;
      }),
    );
  }
}
