import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, rows } from '@/db/client';
import { testDatabase } from '@/test/db';
import { appendEntries, type NewEntry } from './append';
import { chainPending, enqueueEntries } from './inbox';
import { activeKeysFromChain } from './key-state';
import { hmacKeyRing } from './keys';
import { verifyChain } from './verify';

let database: Database;
beforeAll(async () => {
  database = await testDatabase();
});
afterAll(() => database.close());

/** The test ring (vitest.config.ts) with one key or the other in use, as two replicas might hold it. */
const ring = (activeId: 'test-k1' | 'test-k2') => ({ activeId, keys: hmacKeyRing().keys });

async function keyIds(db = database.db): Promise<{ action: string; key: string }[]> {
  return rows(db, sql`select action, hmac_key_id as key from audit_log order by seq`);
}

describe('an HMAC key rotation waiting in the inbox', () => {
  it('counts from its commit, and the drain switches keys right after it, whatever the draining replica holds', async () => {
    const db = database.db;
    await db.transaction((tx) => appendEntries(tx, [{ action: 'system.seed' }], ring('test-k1')));
    // The rotation commits, MAC'd with the key it retires (as rotateHmacKey does); replica A already
    // appends with the new key, and the drain has not run.
    await db.transaction((tx) =>
      enqueueEntries(
        tx,
        [{ action: 'audit.hmac_key.rotated', target_type: 'audit_hmac_key', target_id: 'test-k2' }],
        ring('test-k1'),
      ),
    );
    await db.transaction((tx) => enqueueEntries(tx, [{ action: 'org.updated' }], ring('test-k2')));
    expect(await activeKeysFromChain(db)).toMatchObject({ hmac: 'test-k2' });

    // Replica B, which has not heard of the rotation, drains: it must not MAC what follows with test-k1.
    expect(await chainPending(db, ring('test-k1'))).toBe(2);
    await db.transaction((tx) => enqueueEntries(tx, [{ action: 'org.suspended' }], ring('test-k1')));
    await chainPending(db, ring('test-k1'));
    expect(await keyIds()).toEqual([
      { action: 'system.seed', key: 'test-k1' },
      { action: 'audit.hmac_key.rotated', key: 'test-k1' },
      { action: 'org.updated', key: 'test-k2' },
      { action: 'org.suspended', key: 'test-k2' },
    ]);
    expect(await activeKeysFromChain(db)).toMatchObject({ hmac: 'test-k2' });
    expect(await verifyChain(db, { keys: ring('test-k1'), checkpoints: false })).toMatchObject({
      ok: true,
      checked: 4,
    });
  });

  it('when a drain ends on the rotation, the next drain starts with the new key', async () => {
    const other = await testDatabase();
    try {
      const db = other.db;
      await db.transaction((tx) =>
        enqueueEntries(
          tx,
          [{ action: 'audit.hmac_key.rotated', target_type: 'audit_hmac_key', target_id: 'test-k2' }],
          ring('test-k1'),
        ),
      );
      await chainPending(db, ring('test-k1'));
      await db.transaction((tx) => enqueueEntries(tx, [{ action: 'org.updated' }], ring('test-k1')));
      await chainPending(db, ring('test-k1'));
      expect(await rows(db, sql`select hmac_key_id as key from audit_log order by seq`)).toEqual([
        { key: 'test-k1' },
        { key: 'test-k2' },
      ]);
    } finally {
      await other.close();
    }
  });

  it('a rotation entry that records a failure names no key, on the chain or in the inbox', async () => {
    const other = await testDatabase();
    try {
      const db = other.db;
      const failed: NewEntry = {
        action: 'audit.hmac_key.rotated',
        outcome: 'failure',
        target_type: 'audit_hmac_key',
        target_id: 'test-k2',
      };
      await db.transaction((tx) => appendEntries(tx, [{ action: 'system.seed' }, failed], ring('test-k1')));
      expect(await activeKeysFromChain(db)).toMatchObject({ hmac: 'test-k1' });
      await db.transaction((tx) => enqueueEntries(tx, [failed], ring('test-k1')));
      expect(await activeKeysFromChain(db)).toMatchObject({ hmac: 'test-k1' });
      await chainPending(db, ring('test-k1'));
      await db.transaction((tx) => enqueueEntries(tx, [{ action: 'org.updated' }], ring('test-k1')));
      await chainPending(db, ring('test-k1'));
      expect(await keyIds(db)).toEqual([
        { action: 'system.seed', key: 'test-k1' },
        { action: 'audit.hmac_key.rotated', key: 'test-k1' },
        { action: 'audit.hmac_key.rotated', key: 'test-k1' },
        { action: 'org.updated', key: 'test-k1' },
      ]);
    } finally {
      await other.close();
    }
  });
});
