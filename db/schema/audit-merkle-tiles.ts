import { sql } from 'drizzle-orm';
import { bigint, check, customType, pgTable, primaryKey, smallint } from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/**
 * The Merkle tree over audit_log as C2SP tlog-tiles (lib/audit/merkle.ts, docs/AUDIT.md "The Merkle tree"):
 * tile (level, idx) holds up to 256 hashes of tree level 8·level. A tile is stored as the rows that grew it,
 * each holding `width` hashes from position `start` (what one drain appended); its hashes are its rows'
 * concatenated in `start` order. Rows are only ever inserted, through audit_chain_append and
 * audit_merkle_extend (migration 0020), in the chain's lock; ENABLE ALWAYS triggers refuse UPDATE, DELETE
 * and TRUNCATE, as on audit_log.
 */
export const auditMerkleTiles = pgTable(
  'audit_merkle_tiles',
  {
    level: smallint('level').notNull(),
    idx: bigint('idx', { mode: 'number' }).notNull(),
    start: smallint('start').notNull(),
    width: smallint('width').notNull(),
    hashes: bytea('hashes').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.level, t.idx, t.start] }),
    check('audit_merkle_tiles_place', sql`${t.level} >= 0 and ${t.idx} >= 0 and ${t.start} >= 0`),
    check(
      'audit_merkle_tiles_width',
      sql`${t.width} >= 1 and ${t.start} + ${t.width} <= 256 and octet_length(${t.hashes}) = 32 * ${t.width}`,
    ),
  ],
);
