import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '@/db/client';
import { migrationsState } from '@/lib/health';
import { testDatabase } from './db';

let database: Database;
beforeAll(async () => {
  database = await testDatabase({ max: 1 });
});
afterAll(() => database.close());

describe('readiness: the migrations', () => {
  it('are ok on a migrated database, also for the application role portal_app', async () => {
    expect(await migrationsState(database.db)).toBe('ok');
    await database.db.transaction(async (tx) => {
      await tx.execute(sql`set local role portal_app`);
      expect(await migrationsState(tx as never)).toBe('ok');
    });
  });

  it('are pending when the database lacks the newest migration this build ships', async () => {
    await database.db
      .transaction(async (tx) => {
        await tx.execute(
          sql`delete from drizzle.__drizzle_migrations where created_at = (select max(created_at) from drizzle.__drizzle_migrations)`,
        );
        expect(await migrationsState(tx as never)).toBe('pending');
        tx.rollback();
      })
      .catch((err: unknown) => {
        if (!(err instanceof Error && err.message.includes('Rollback'))) throw err;
      });
    expect(await migrationsState(database.db)).toBe('ok');
  });
});
