import { sql } from 'drizzle-orm';
import { bigint, check, customType, pgTable, primaryKey, smallint } from 'drizzle-orm/pg-core';

const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/**
 * The Merkle tree over audit_log as C2SP tlog-tiles (lib/audit/merkle.ts, docs/AUDIT.md "The Merkle tree"):
 * tile (level, idx) holds `width` hashes of tree level 8·level, concatenated. Written only through
 * audit_chain_append and audit_merkle_extend (migration 0020), in the chain's lock; a tile only grows (an
 * ENABLE ALWAYS trigger), so no stored hash can be changed or removed.
 */
export const auditMerkleTiles = pgTable(
  'audit_merkle_tiles',
  {
    level: smallint('level').notNull(),
    idx: bigint('idx', { mode: 'number' }).notNull(),
    width: smallint('width').notNull(),
    hashes: bytea('hashes').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.level, t.idx] }),
    check('audit_merkle_tiles_place', sql`${t.level} >= 0 and ${t.idx} >= 0`),
    check(
      'audit_merkle_tiles_width',
      sql`${t.width} between 1 and 256 and octet_length(${t.hashes}) = 32 * ${t.width}`,
    ),
  ],
);
