import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '@/db/client';
import { testDatabase } from '@/test/db';
import { staffWithSession } from '@/test/staff';
import { listStaff } from './staff';

let database: Database;
beforeAll(async () => {
  database = await testDatabase();
});
afterAll(() => database.close());

describe('listStaff', () => {
  it("counts each staff member's own keys and finds their last sign-in", async () => {
    const admin = await staffWithSession(database.db, 'superadmin', { keys: 2 });
    const other = await staffWithSession(database.db, 'support', { keys: 1 });
    const rows = await listStaff(admin);
    expect(rows.find((r) => r.id === admin.staffId)).toMatchObject({ keys: 2, lastSignIn: expect.any(Date) });
    expect(rows.find((r) => r.id === other.staffId)).toMatchObject({ keys: 1, lastSignIn: expect.any(Date) });
  });
});
