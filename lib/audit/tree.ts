import { sql } from 'drizzle-orm';
import { type Db, rows, type Tx } from '@/db/client';
import { log } from '@/lib/log';
import { entryLeafHash } from './chain';
import { ENTRY_COLUMNS, type RawRow, toEntry } from './entry-columns';
import {
  EMPTY_EDGE,
  edgeFromTiles,
  extendTree,
  HASH_SIZE,
  type Tile,
  type TileNeed,
  type TileReader,
  type TileWrite,
  type TreeEdge,
} from './merkle';

/**
 * The Merkle tree over audit_log in the database (migration 0020, table audit_merkle_tiles). The drain
 * extends it in its own transaction (lib/audit/append.ts, insertChained); catchUpTree builds it over
 * entries that were chained without it (a chain older than the tree, or an older replica during a deploy).
 */

export { entryLeafHash };

/** bytea as either driver hands it back (postgres.js: Buffer; PGlite: Uint8Array). */
function bytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new Error('audit_merkle_tiles: hashes is not bytea');
}

/**
 * Tiles from their rows (each the hashes one append added at `start`), concatenated in order. Throws when a
 * tile's rows do not follow on from each other.
 */
function assemble(
  got: ReadonlyArray<{ level: number; idx: string | number; start: number; hashes: unknown }>,
): Map<string, Buffer> {
  const parts = new Map<string, Buffer[]>();
  for (const r of got) {
    const key = `${Number(r.level)}/${Number(r.idx)}`;
    const list = parts.get(key) ?? [];
    const held = list.reduce((n, b) => n + b.length, 0) / HASH_SIZE;
    if (Number(r.start) !== held) throw new Error(`tile ${key}: a row starts at ${r.start}, not ${held}`);
    list.push(bytes(r.hashes));
    parts.set(key, list);
  }
  return new Map([...parts].map(([key, list]) => [key, Buffer.concat(list)]));
}

/** The tiles table as a TileReader: one query for every tile a proof or root needs. */
export function dbTiles(db: Db | Tx): TileReader {
  return {
    async readTiles(needs: readonly TileNeed[]): Promise<Buffer[]> {
      if (needs.length === 0) return [];
      const got = await rows<{ level: number; idx: string | number; start: number; hashes: unknown }>(
        db,
        sql`select t.level, t.idx, t.start, t.hashes from audit_merkle_tiles t
            join unnest(${`{${needs.map((n) => n.level).join(',')}}`}::smallint[],
                        ${`{${needs.map((n) => n.index).join(',')}}`}::bigint[]) as w(level, idx)
              on t.level = w.level and t.idx = w.idx
            order by t.level, t.idx, t.start`,
      );
      const tiles = assemble(got);
      return needs.map((n) => {
        const tile = tiles.get(`${n.level}/${n.index}`);
        if (!tile || tile.length < n.width * HASH_SIZE)
          throw new Error(`the Merkle tree lacks tile ${n.level}/${n.index} of width ${n.width}`);
        return tile;
      });
    },
  };
}

/** How many leaves the stored tree holds. */
export async function treeSize(db: Db | Tx): Promise<number> {
  const [r] = await rows<{ n: string | number }>(db, sql`select audit_merkle_count(0) as n`);
  return Number(r?.n ?? 0);
}

/** The stored tree's right edge (the last tile of each level), in one query. */
export async function readEdge(db: Db | Tx): Promise<TreeEdge> {
  const got = await rows<{ level: number; idx: string | number; start: number; hashes: unknown }>(
    db,
    sql`select t.level, t.idx, t.start, t.hashes from generate_series(0, 7) as l(level),
          lateral (select x.idx from audit_merkle_tiles x where x.level = l.level order by x.idx desc limit 1) m,
          lateral (select * from audit_merkle_tiles y where y.level = l.level and y.idx = m.idx) t
        order by t.level, t.start`,
  );
  const tiles: Tile[] = [...assemble(got)].map(([key, hashes]) => {
    const [level, index] = key.split('/').map(Number) as [number, number];
    return { level, index, width: hashes.length / HASH_SIZE, hashes };
  });
  const zero = tiles.find((t) => t.level === 0);
  if (!zero) return EMPTY_EDGE;
  return edgeFromTiles(zero.index * 256 + zero.width, tiles);
}

/** The argument audit_chain_append and audit_merkle_extend take: the hashes to append to each tile. */
export function tilesParam(writes: readonly TileWrite[]): string {
  return JSON.stringify(
    writes.map((w) => ({ level: w.level, idx: w.index, start: w.start, hashes: w.hashes.toString('hex') })),
  );
}

const TREE_LOCK = 0x4155_444d; // "AUDM": one process at a time builds the tree over older entries
const CATCH_UP_BATCH = 10_000;

/**
 * Builds the tree over the entries that are on the chain but not in it yet, CATCH_UP_BATCH entries a
 * transaction, until it reaches the head. One process at a time (an advisory try-lock: another process
 * already at it means nothing to do here). Returns how many leaves it added.
 */
export async function catchUpTree(db: Db, opts: { batch?: number; maxMs?: number } = {}): Promise<number> {
  const started = performance.now();
  let added = 0;
  for (;;) {
    const step = await db.transaction(async (tx) => {
      const [lock] = await rows<{ got: boolean; head: string | number }>(
        tx,
        sql`select pg_try_advisory_xact_lock(${TREE_LOCK}) as got,
                   (select coalesce(max(seq), 0) from audit_log) as head`,
      );
      if (!lock?.got) return 0;
      const edge = await readEdge(tx);
      const head = Number(lock.head);
      if (edge.size >= head) {
        if (edge.size > head)
          log.error(
            { tree_size: edge.size, head_seq: head },
            'audit: the Merkle tree holds more leaves than the chain has entries (the chain was cut back?)',
          );
        return 0;
      }
      const to = Math.min(head, edge.size + (opts.batch ?? CATCH_UP_BATCH));
      const entries = (
        await rows<RawRow>(
          tx,
          sql`select ${ENTRY_COLUMNS} from audit_log where seq > ${edge.size} and seq <= ${to} order by audit_log.seq`,
        )
      ).map(toEntry);
      if (entries.length !== to - edge.size || entries[0]?.seq !== edge.size + 1)
        throw new Error(
          `audit: seqs ${edge.size + 1}-${to} are not all on the chain; the tree stays at ${edge.size}`,
        );
      const { writes } = extendTree(edge, entries.map(entryLeafHash));
      await tx.execute(sql`select audit_merkle_extend(${edge.size}, ${to}, ${tilesParam(writes)}::jsonb)`);
      return to - edge.size;
    });
    added += step;
    if (step === 0 || performance.now() - started > (opts.maxMs ?? Infinity)) return added;
  }
}
