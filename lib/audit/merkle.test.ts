import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  EMPTY_EDGE,
  EMPTY_ROOT,
  edgeFromTiles,
  edgeRoot,
  extendTree,
  inclusionProof,
  leafAt,
  leafHash,
  MemoryTiles,
  nodeHash,
  rootAt,
  type Tile,
  tilePath,
  type TreeEdge,
  verifyConsistency,
  verifyInclusion,
} from './merkle';

// An independent reference: RFC 6962 §2.1 written as the RFC states it, recursively, over leaf hashes. Only
// complete aligned subtrees are memoised (so that a tree of a million leaves is hashed once), in a
// structure of its own; nothing here uses lib/audit/merkle.ts.
class Reference {
  private readonly memo = new Map<string, Buffer>();
  constructor(readonly leaves: readonly Buffer[]) {}

  private sha(...parts: Uint8Array[]) {
    const h = crypto.createHash('sha256');
    for (const p of parts) h.update(p);
    return h.digest();
  }

  private k(n: number) {
    let k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

  /** MTH(D[lo:hi]) */
  mth(lo: number, hi: number): Buffer {
    const n = hi - lo;
    if (n === 0) return this.sha();
    if (n === 1) return this.leaves[lo]!;
    const complete = (n & (n - 1)) === 0 && lo % n === 0;
    const key = `${lo}:${hi}`;
    if (complete && this.memo.has(key)) return this.memo.get(key)!;
    const k = this.k(n);
    const h = this.sha(Buffer.of(1), this.mth(lo, lo + k), this.mth(lo + k, hi));
    if (complete) this.memo.set(key, h);
    return h;
  }

  /** PATH(m, D[lo:hi]) */
  path(m: number, lo: number, hi: number): Buffer[] {
    const n = hi - lo;
    if (n === 1) return [];
    const k = this.k(n);
    return m < k
      ? [...this.path(m, lo, lo + k), this.mth(lo + k, hi)]
      : [...this.path(m - k, lo + k, hi), this.mth(lo, lo + k)];
  }

  /** PROOF(m, D[n]) = SUBPROOF(m, D[n], true) */
  proof(m: number, n: number): Buffer[] {
    const sub = (m: number, lo: number, hi: number, b: boolean): Buffer[] => {
      const n = hi - lo;
      if (m === n) return b ? [] : [this.mth(lo, hi)];
      const k = this.k(n);
      return m <= k
        ? [...sub(m, lo, lo + k, b), this.mth(lo + k, hi)]
        : [...sub(m - k, lo + k, hi, false), this.mth(lo, lo + k)];
    };
    return sub(m, 0, n, true);
  }
}

function leavesOf(n: number, seed = 'leaf'): Buffer[] {
  return Array.from({ length: n }, (_, i) => leafHash(`${seed}-${i}`));
}

/** Tiles built the way the drain builds them: leaves appended in batches of varying size. */
function buildTiles(leaves: readonly Buffer[], batch: (i: number) => number) {
  const tiles = new MemoryTiles();
  let edge: TreeEdge = EMPTY_EDGE;
  const roots: Buffer[] = [EMPTY_ROOT];
  for (let at = 0, i = 0; at < leaves.length; i++) {
    const next = leaves.slice(at, at + Math.max(1, batch(i)));
    const { edge: after, writes } = extendTree(edge, next);
    tiles.apply(writes);
    edge = after;
    at += next.length;
    roots[at] = edgeRoot(edge);
  }
  return { tiles, edge, roots };
}

const hex = (list: readonly Buffer[]) => list.map((b) => b.toString('hex'));

describe('leaf and node hashes', () => {
  it('are RFC 6962’s, with 0x00 and 0x01 prefixes', () => {
    expect(leafHash('').toString('hex')).toBe(
      '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
    );
    const a = leafHash('a');
    const b = leafHash('b');
    expect(a).toEqual(crypto.createHash('sha256').update('\x00a').digest());
    expect(nodeHash(a, b)).toEqual(
      crypto
        .createHash('sha256')
        .update(Buffer.concat([Buffer.of(1), a, b]))
        .digest(),
    );
    expect(EMPTY_ROOT.toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });
});

describe('tile paths (C2SP tlog-tiles)', () => {
  it('group the index in threes and mark partial tiles', () => {
    expect(tilePath({ level: 0, index: 0, width: 256 })).toBe('tile/0/000');
    expect(tilePath({ level: 0, index: 1234067, width: 256 })).toBe('tile/0/x001/x234/067');
    expect(tilePath({ level: 2, index: 5, width: 17 })).toBe('tile/2/005.p/17');
  });
});

// 45,150 proofs each, rebuilding the nodes between stored tile levels every time: about 40 s alone on the
// shared 2-core machine, and more beside other test files.
const EXHAUSTIVE_MS = 300_000;

describe('every size from 1 to 300', () => {
  const leaves = leavesOf(300);
  const ref = new Reference(leaves);
  // Batches of 1 to 7 leaves, as drains chain them.
  const { tiles, roots } = buildTiles(leaves, (i) => (i % 7) + 1);
  const built = new MemoryTiles();
  built.apply(extendTree(EMPTY_EDGE, leaves).writes);

  it('roots: the tiles, the edge and one batch of 300 agree with MTH at every size', async () => {
    for (let n = 1; n <= 300; n++) {
      const expected = ref.mth(0, n).toString('hex');
      expect((await rootAt(n, tiles)).toString('hex'), `size ${n}`).toBe(expected);
      expect((await rootAt(n, built)).toString('hex'), `size ${n}, one batch`).toBe(expected);
      if (roots[n]) expect(roots[n]!.toString('hex'), `edge root at ${n}`).toBe(expected);
    }
    expect(await rootAt(0, tiles)).toEqual(EMPTY_ROOT);
  });

  it(
    'inclusion proofs of every leaf in every size match PATH and verify',
    async () => {
      // One expect at the end: 45,150 of them would take longer than the proofs.
      const wrong: string[] = [];
      for (let n = 1; n <= 300; n++) {
        const root = ref.mth(0, n);
        for (let m = 0; m < n; m++) {
          const proof = await inclusionProof(m, n, tiles);
          if (hex(proof).join() !== hex(ref.path(m, 0, n)).join()) wrong.push(`leaf ${m} of ${n}: not PATH`);
          else if (!verifyInclusion(m, n, leaves[m]!, proof, root)) wrong.push(`leaf ${m} of ${n}: refused`);
        }
      }
      expect(wrong).toEqual([]);
    },
    EXHAUSTIVE_MS,
  );

  it(
    'consistency proofs between every pair of sizes match PROOF and verify',
    async () => {
      const wrong: string[] = [];
      for (let n = 1; n <= 300; n++) {
        const root = ref.mth(0, n);
        for (let m = 1; m <= n; m++) {
          const proof = await consistencyProof(m, n, tiles);
          if (hex(proof).join() !== hex(ref.proof(m, n)).join()) wrong.push(`${m} to ${n}: not PROOF`);
          else if (!verifyConsistency(m, n, proof, ref.mth(0, m), root)) wrong.push(`${m} to ${n}: refused`);
        }
      }
      expect(wrong).toEqual([]);
    },
    EXHAUSTIVE_MS,
  );

  it('the stored leaf hashes are the leaves', async () => {
    for (const m of [0, 1, 255, 256, 299]) expect(await leafAt(m, tiles)).toEqual(leaves[m]);
  });
});

describe('random points up to 1,000,000 leaves', () => {
  const N = 1_000_000;
  const leaves = leavesOf(N, 'big');
  const ref = new Reference(leaves);
  // Big batches (the seeding path) and small ones, crossing level-1 and level-2 tile boundaries.
  const { tiles, edge } = buildTiles(leaves, (i) => (i % 2 ? 5000 : 1 + (i % 300)));
  const rng = (() => {
    let s = 0x2545f491;
    return (below: number) => {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      return (s >>> 0) % below;
    };
  })();
  const sizes = [
    N,
    65536,
    65537,
    65535,
    131072 + 256 * 3 + 1,
    16_777_216 % N,
    ...Array.from({ length: 40 }, () => 1 + rng(N)),
  ];

  it('the edge after a million leaves has the reference root', () => {
    expect(edge.size).toBe(N);
    expect(edgeRoot(edge)).toEqual(ref.mth(0, N));
  });

  it('inclusion proofs match PATH and verify', async () => {
    for (const n of sizes) {
      const root = ref.mth(0, n);
      for (const m of [0, n - 1, rng(n), rng(n), rng(n)]) {
        const proof = await inclusionProof(m, n, tiles);
        expect(hex(proof), `leaf ${m} of ${n}`).toEqual(hex(ref.path(m, 0, n)));
        expect(verifyInclusion(m, n, leaves[m]!, proof, root)).toBe(true);
      }
    }
  });

  it('consistency proofs match PROOF and verify', async () => {
    for (const n of sizes) {
      for (const m of [1, n, Math.max(1, n - 1), 1 + rng(n), 1 + rng(n), 65536].filter((m) => m <= n)) {
        const proof = await consistencyProof(m, n, tiles);
        expect(hex(proof), `${m} to ${n}`).toEqual(hex(ref.proof(m, n)));
        expect(verifyConsistency(m, n, proof, ref.mth(0, m), ref.mth(0, n))).toBe(true);
      }
    }
  });
});

describe('tampered proofs are refused', () => {
  const leaves = leavesOf(1001, 'tamper');
  const ref = new Reference(leaves);
  const { tiles } = buildTiles(leaves, () => 37);
  const flip = (b: Buffer, at = 0) => {
    const c = Buffer.from(b);
    c[at % c.length]! ^= 1;
    return c;
  };

  it('inclusion: every changed hash, index, size, root or length', async () => {
    for (const [m, n] of [
      [0, 1000],
      [517, 1000],
      [999, 1000],
      [255, 256],
      [12, 300],
    ] as const) {
      const proof = await inclusionProof(m, n, tiles);
      const root = ref.mth(0, n);
      const leaf = leaves[m]!;
      expect(verifyInclusion(m, n, leaf, proof, root)).toBe(true);
      for (let i = 0; i < proof.length; i++) {
        const bad = proof.map((p, j) => (j === i ? flip(p, i) : p));
        expect(verifyInclusion(m, n, leaf, bad, root), `hash ${i} changed`).toBe(false);
      }
      expect(verifyInclusion(m, n, flip(leaf), proof, root)).toBe(false);
      expect(verifyInclusion(m, n, leaf, proof, flip(root))).toBe(false);
      expect(verifyInclusion(m ^ 1, n, leaf, proof, root)).toBe(false);
      // Another size with its own root: the proof is not one for that tree.
      expect(verifyInclusion(m, n + 1, leaf, proof, ref.mth(0, n + 1))).toBe(false);
      expect(verifyInclusion(m, n, leaf, proof.slice(0, -1), root)).toBe(false);
      expect(verifyInclusion(m, n, leaf, [...proof, proof[0]!], root)).toBe(false);
      if (proof.length > 1)
        expect(verifyInclusion(m, n, leaf, [proof[1]!, proof[0]!, ...proof.slice(2)], root)).toBe(false);
      expect(verifyInclusion(n, n, leaf, proof, root)).toBe(false);
      expect(verifyInclusion(-1, n, leaf, proof, root)).toBe(false);
    }
  });

  it('inclusion of another leaf at the same place, or a short hash, fails', async () => {
    const proof = await inclusionProof(3, 10, tiles);
    expect(verifyInclusion(3, 10, leaves[4]!, proof, ref.mth(0, 10))).toBe(false);
    expect(verifyInclusion(3, 10, leaves[3]!.subarray(1), proof, ref.mth(0, 10))).toBe(false);
    // A tree of one leaf: the empty proof, and the root is the leaf itself.
    expect(verifyInclusion(0, 1, leaves[0]!, [], leaves[0]!)).toBe(true);
    expect(verifyInclusion(0, 1, leaves[0]!, [leaves[1]!], leaves[0]!)).toBe(false);
  });

  it('consistency: every changed hash, size, root or length', async () => {
    for (const [m, n] of [
      [1, 1000],
      [256, 1000],
      [300, 1000],
      [999, 1000],
      [7, 8],
      [6, 8],
    ] as const) {
      const proof = await consistencyProof(m, n, tiles);
      const a = ref.mth(0, m);
      const b = ref.mth(0, n);
      expect(verifyConsistency(m, n, proof, a, b)).toBe(true);
      for (let i = 0; i < proof.length; i++) {
        const bad = proof.map((p, j) => (j === i ? flip(p, i) : p));
        expect(verifyConsistency(m, n, bad, a, b), `${m}→${n} hash ${i} changed`).toBe(false);
      }
      expect(verifyConsistency(m, n, proof, flip(a), b)).toBe(false);
      expect(verifyConsistency(m, n, proof, a, flip(b))).toBe(false);
      expect(verifyConsistency(m + 1, n, proof, ref.mth(0, m + 1), b)).toBe(false);
      expect(verifyConsistency(m, n + 1, proof, a, ref.mth(0, n + 1))).toBe(false);
      expect(verifyConsistency(m, n, proof.slice(0, -1), a, b)).toBe(false);
      expect(verifyConsistency(m, n, [...proof, proof[0]!], a, b)).toBe(false);
      expect(verifyConsistency(n, m, proof, b, a)).toBe(false);
    }
  });

  it('consistency edge cases: equal sizes, the empty tree, an empty proof', async () => {
    const r = ref.mth(0, 10);
    expect(verifyConsistency(10, 10, [], r, r)).toBe(true);
    expect(verifyConsistency(10, 10, [], r, ref.mth(0, 11))).toBe(false);
    expect(verifyConsistency(10, 10, [leaves[0]!], r, r)).toBe(false);
    expect(verifyConsistency(0, 10, [], EMPTY_ROOT, r)).toBe(true);
    expect(verifyConsistency(0, 10, [], r, r)).toBe(false);
    expect(verifyConsistency(5, 10, [], ref.mth(0, 5), r)).toBe(false);
    expect(await consistencyProof(10, 10, tiles)).toEqual([]);
    await expect(consistencyProof(11, 10, tiles)).rejects.toThrow(RangeError);
    await expect(inclusionProof(10, 10, tiles)).rejects.toThrow(RangeError);
  });
});

describe('the tree edge', () => {
  it('is rebuilt from the last tile of each level, and extends exactly like the one it came from', () => {
    const leaves = leavesOf(70_000, 'edge');
    const { tiles, edge } = buildTiles(leaves.slice(0, 66_000), () => 999);
    const last: Tile[] = [0, 1, 2].flatMap((level) => {
      const count = Math.floor(66_000 / 256 ** level);
      const index = Math.floor(count / 256);
      const hashes = tiles.get(level, index);
      return hashes ? [{ level, index, width: hashes.length / 32, hashes }] : [];
    });
    const rebuilt = edgeFromTiles(66_000, last);
    expect(edgeRoot(rebuilt)).toEqual(edgeRoot(edge));
    const more = leaves.slice(66_000);
    const a = extendTree(edge, more);
    const b = extendTree(rebuilt, more);
    expect(edgeRoot(a.edge)).toEqual(new Reference(leaves).mth(0, 70_000));
    expect(a.writes.map((w) => [w.level, w.index, w.start, w.hashes.toString('hex')])).toEqual(
      b.writes.map((w) => [w.level, w.index, w.start, w.hashes.toString('hex')]),
    );
    expect(() => edgeFromTiles(66_001, last)).toThrow(/lacks tile 0\/257/);
  });
});
