import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase, rows } from '@/db/client';
import { organizations } from '@/db/schema';
import { asAppRole, refused, testDatabase } from '@/test/db';
import { type AuditCtx, withAudit } from '.';
import { appendEntries, GENESIS, insertChained, lockChain, type NewEntry } from './append';
import { canonicalJson } from './canonical';
import { checkSignature, insertCheckpoint, readCheckpoints } from './checkpoint';
import { checkpointKeyRing, publicKeys } from './checkpoint-keys';
import { chainPending, enqueueEntries } from './inbox';
import { hmacKeyRing } from './keys';
import {
  EMPTY_EDGE,
  extendTree,
  inclusionProof,
  leafHash,
  MemoryTiles,
  rootAt,
  verifyInclusion,
} from './merkle';
import { noteVerifier, openCheckpoint, parseNote, verifierKey } from './note';
import { catchUpTree, dbTiles, entryLeafHash, readEdge, treeSize } from './tree';
import { readEntries, verifyChain } from './verify';

// The tree the drain keeps in the database, against one recomputed from scratch from the entries.
let database: Database & { url?: string };
beforeAll(async () => {
  database = await testDatabase({ max: 12 });
});
afterAll(() => database.close());

function ctxFor(db: Database['db'], n: number): AuditCtx {
  return {
    db,
    actor: { staffId: null, email: `writer-${n}@arbitex.ai`, actingOrgId: null, actingContextId: null },
    requestId: null,
    ip: null,
    userAgent: null,
  };
}

/** Every entry's leaf hash, recomputed from audit_log with the generic RFC 8785 serialiser. */
async function leavesFromChain(db: Database['db']): Promise<Buffer[]> {
  const entries = await readEntries(db, 0, Number.MAX_SAFE_INTEGER, 1_000_000);
  return entries.map((e) => leafHash(canonicalJson(e)));
}

/** The stored tiles equal, byte for byte, those of a tree built from scratch over the chain's leaves. */
async function expectTreeMatchesChain(db: Database['db']) {
  const leaves = await leavesFromChain(db);
  const scratch = new MemoryTiles();
  scratch.apply(extendTree(EMPTY_EDGE, leaves).writes);
  const stored = await rows<{ level: number; idx: string; hashes: Uint8Array }>(
    db,
    sql`select level, idx::text as idx, hashes from audit_merkle_tiles order by level, idx, start`,
  );
  expect(stored.length).toBeGreaterThan(0);
  // A tile is its rows' hashes in order (each row what one append added).
  const tiles = new Map<string, Buffer>();
  for (const t of stored) {
    const key = `${t.level}/${t.idx}`;
    tiles.set(key, Buffer.concat([tiles.get(key) ?? Buffer.alloc(0), Buffer.from(t.hashes)]));
  }
  for (const [key, hashes] of tiles) {
    const [level, idx] = key.split('/').map(Number) as [number, number];
    expect(hashes.toString('hex'), `tile ${key}`).toBe(scratch.get(level, idx)?.toString('hex'));
  }
  expect(await treeSize(db)).toBe(leaves.length);
  expect((await rootAt(leaves.length, dbTiles(db))).toString('hex')).toBe(
    (await rootAt(leaves.length, scratch)).toString('hex'),
  );
  return { leaves, scratch };
}

describe('the Merkle tree kept by the drain', () => {
  it('an entry’s leaf is SHA-256(0x00 ‖ RFC 8785 of the entry with its hmac)', async () => {
    await database.db.transaction((tx) =>
      appendEntries(tx, [{ action: 'system.seed', diff: { a: 1e21, b: '\u{1F600}' } }]),
    );
    const [entry] = await readEntries(database.db, 0, 1, 1);
    expect(canonicalJson(entry)).toContain(`"hmac":"${entry!.hmac}"`);
    expect(entryLeafHash(entry!)).toEqual(leafHash(canonicalJson(entry)));
  });

  it('matches a tree recomputed from scratch after concurrent writers (two processes’ drains on PostgreSQL)', async () => {
    // A second pool stands for a second replica: its drains find the head moved by the other's.
    const second = database.url ? await openDatabase({ url: database.url, max: 6 }) : null;
    try {
      const [org] = await database.db
        .insert(organizations)
        .values({ slug: 'tree', name: 'Tree', planTier: 'team_saas' })
        .returning();
      const writers = 24;
      await Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          const db = second && w % 2 ? second.db : database.db;
          for (let i = 0; i < 12; i++) {
            await withAudit(ctxFor(db, w), { action: 'org.updated', orgId: org!.id }, async (tx, audit) => {
              await tx
                .update(organizations)
                .set({ name: `Tree ${w}-${i}` })
                .where(eq(organizations.id, org!.id));
              audit.diff({}, { name: `Tree ${w}-${i}` });
            });
          }
        }),
      );
      // A seeding append of more than one statement (5,000 entries each) and many tiles, then a write.
      await database.db.transaction((tx) =>
        appendEntries(
          tx,
          Array.from({ length: 6000 }, (): NewEntry => ({ action: 'system.seed' })),
        ),
      );
      await withAudit(ctxFor(database.db, 0), { action: 'org.updated', orgId: org!.id }, async () => {});
      const { leaves, scratch } = await expectTreeMatchesChain(database.db);
      expect(leaves.length).toBe(1 + writers * 12 + 6000 + 1);
      expect(await verifyChain(database.db, { checkpoints: false })).toMatchObject({ ok: true });
      // Proofs from the stored tiles verify against the root recomputed from scratch.
      const root = await rootAt(leaves.length, scratch);
      for (const i of [0, 255, 256, 3000, leaves.length - 1]) {
        const proof = await inclusionProof(i, leaves.length, dbTiles(database.db));
        expect(verifyInclusion(i, leaves.length, leaves[i]!, proof, root)).toBe(true);
      }
    } finally {
      await second?.close();
    }
  });
});

describe('a chain older than the tree', () => {
  it('is caught up by catchUpTree while drains keep chaining; then the drain extends the tree again', async () => {
    const other = await testDatabase();
    try {
      const db = other.db;
      // Entries chained without the tree, as before migration 0020 (or by a replica of the old version).
      await db.transaction(async (tx) => {
        await lockChain(tx);
        await insertChained(
          tx,
          Array.from({ length: 700 }, (): NewEntry => ({ action: 'system.seed' })),
          hmacKeyRing(),
          GENESIS,
        );
      });
      expect(await treeSize(db)).toBe(0);
      // A drain then chains without extending the tree, which would not cover the chain.
      await db.transaction((tx) => enqueueEntries(tx, [{ action: 'org.updated' }]));
      expect(await chainPending(db)).toBe(1);
      expect(await treeSize(db)).toBe(0);

      expect(await catchUpTree(db, { batch: 300 })).toBe(701);
      expect(await catchUpTree(db)).toBe(0);
      await expectTreeMatchesChain(db);

      // In step again: the drain's own transaction extends it.
      await db.transaction((tx) =>
        enqueueEntries(tx, [{ action: 'org.updated' }, { action: 'org.suspended' }]),
      );
      await chainPending(db);
      expect(await treeSize(db)).toBe(703);
      expect((await readEdge(db)).size).toBe(703);
      await expectTreeMatchesChain(db);
    } finally {
      await other.close();
    }
  });
});

describe('checkpoints as signed notes', () => {
  const chainId = 'staff-portal@localhost';
  const verifiers = () =>
    [...checkpointKeyRing().keys.values()].map((k) => noteVerifier(chainId, k.publicKey));

  it('sign the tree’s size and root with the checkpoint key, beside the JSON checkpoint', async () => {
    const other = await testDatabase();
    try {
      const db = other.db;
      await db.transaction((tx) =>
        appendEntries(
          tx,
          Array.from({ length: 300 }, (): NewEntry => ({ action: 'system.seed' })),
        ),
      );
      const signed = await db.transaction((tx) => insertCheckpoint(tx));
      expect(signed.chain_id).toBe(chainId);
      const opened = openCheckpoint(signed.note!, verifiers());
      const { scratch } = await expectTreeMatchesChain(db);
      expect(opened).toMatchObject({ ok: true, checkpoint: { origin: chainId, size: 300 } });
      expect(opened.ok && opened.checkpoint.rootHash).toEqual(await rootAt(300, scratch));
      // One signature line, by the chain id's name, whose key ID is the verifier key's.
      const [line] = parseNote(signed.note!).signatures;
      const active = checkpointKeyRing().keys.get(checkpointKeyRing().activeId)!;
      expect(verifierKey(chainId, active.publicKey)).toContain(`${chainId}+${line!.keyId.toString('hex')}+`);
      // The JSON checkpoint is unchanged and still verifies on its own; the note is read back with it.
      const [stored] = await readCheckpoints(db);
      expect(stored).toMatchObject({ seq: 300, note: signed.note });
      expect(checkSignature(stored!, publicKeys(checkpointKeyRing()))).toBe('ok');
      // An altered note does not verify.
      expect(openCheckpoint(signed.note!.replace('\n300\n', '\n301\n'), verifiers()).ok).toBe(false);
    } finally {
      await other.close();
    }
  });

  it('are left out while the tree does not cover the chain; the JSON checkpoint is still signed', async () => {
    const other = await testDatabase();
    try {
      const db = other.db;
      await db.transaction(async (tx) => {
        await lockChain(tx);
        await insertChained(tx, [{ action: 'system.seed' }], hmacKeyRing(), GENESIS);
      });
      const signed = await db.transaction((tx) => insertCheckpoint(tx));
      expect(signed.note).toBeUndefined();
      expect((await readCheckpoints(db))[0]).not.toHaveProperty('note');
      await catchUpTree(db);
      const after = await db.transaction((tx) => insertCheckpoint(tx));
      expect(openCheckpoint(after.note!, verifiers())).toMatchObject({ ok: true, checkpoint: { size: 1 } });
    } finally {
      await other.close();
    }
  });
});

describe('who can write the tree', () => {
  it('portal_app reads tiles but cannot write, change or delete one, nor extend the tree past the head', async () => {
    const other = await testDatabase();
    const app = await asAppRole(other);
    try {
      await app.db.transaction((tx) => enqueueEntries(tx, [{ action: 'org.updated' }]));
      await chainPending(app.db);
      expect(await treeSize(app.db)).toBe(1);
      const zero = '00'.repeat(32);
      await refused(
        app.db.execute(
          sql`insert into audit_merkle_tiles (level, idx, start, width, hashes) values (0, 5, 0, 1, decode(${zero}, 'hex'))`,
        ),
        '42501',
      );
      await refused(app.db.execute(sql`update audit_merkle_tiles set width = 1`), '42501');
      await refused(app.db.execute(sql`delete from audit_merkle_tiles`), '42501');
      await refused(app.db.execute(sql`select audit_merkle_put(1, 2, '[]'::jsonb)`), '42501');
      const tile = JSON.stringify([{ level: 0, idx: 0, start: 1, hashes: zero }]);
      await refused(
        app.db.execute(sql`select audit_merkle_extend(1, 2, ${tile}::jsonb)`),
        '23514',
        /the chain ends at seq 1/,
      );
    } finally {
      await app.close();
      await other.close();
    }
  });

  it('tile rows are append-only, also for the table’s owner; the functions refuse what does not continue the tree', async () => {
    const other = await testDatabase();
    try {
      const db = other.db;
      await db.transaction((tx) => appendEntries(tx, [{ action: 'system.seed' }, { action: 'system.seed' }]));
      expect(await treeSize(db)).toBe(2);
      await refused(db.execute(sql`update audit_merkle_tiles set hashes = hashes`), '42501', /append-only/);
      await refused(db.execute(sql`delete from audit_merkle_tiles`), '42501');
      await refused(db.execute(sql`truncate audit_merkle_tiles`), '42501');
      const row = (start: number) => JSON.stringify([{ level: 0, idx: 0, start, hashes: '22'.repeat(32) }]);
      // Not from the tree's size, not continuing the tile, or past the chain's head.
      await refused(
        db.execute(sql`select audit_merkle_extend(2, 3, ${row(2)}::jsonb)`),
        '23514',
        /ends at seq 2/,
      );
      await db.transaction((tx) =>
        appendEntries(tx, [{ action: 'system.seed' }], undefined, { tree: false }),
      );
      await refused(
        db.execute(sql`select audit_merkle_extend(1, 3, ${row(1)}::jsonb)`),
        '40001',
        /holds 2 leaves, not 1/,
      );
      await refused(
        db.execute(sql`select audit_merkle_extend(2, 3, ${row(1)}::jsonb)`),
        '23514',
        /tile 0\/0 holds 2 hashes, not 1/,
      );
      await refused(
        db.execute(sql`select audit_merkle_extend(2, 3, '[]'::jsonb)`),
        '23514',
        /level 0 holds 2 hashes, a tree of 3 leaves has 3/,
      );
      expect(await catchUpTree(db)).toBe(1);
      await expectTreeMatchesChain(db);
    } finally {
      await other.close();
    }
  });
});
