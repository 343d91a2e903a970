import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, rows } from '@/db/client';
import { testDatabase } from '@/test/db';
import { appendEntries, type AuditCtx, type NewEntry, recordAudit, verifyChain } from '.';

let database: Database;
beforeAll(async () => {
  database = await testDatabase({ max: 12 });
});
afterAll(() => database.close());

const ctx = (): AuditCtx => ({
  db: database.db,
  actor: { staffId: null, email: 'ops@arbitex.ai', actingOrgId: null, actingContextId: null },
  requestId: null,
  ip: null,
  userAgent: null,
});

function entries(n: number): NewEntry[] {
  return Array.from({ length: n }, (_, i) => ({
    action: 'org.rate_limits.updated',
    occurred_at: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    actor_email: 'staff-01@arbitex.ai',
    diff: { before: { requests_per_minute: i }, after: { requests_per_minute: i + 1 }, token: 'secret' },
  }));
}

describe('appendEntries', () => {
  it('interleaves with concurrent withAudit writers into one dense, valid chain', async () => {
    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => recordAudit(ctx(), { action: 'audit.verified' }, { run: i })),
      database.db.transaction((tx) => appendEntries(tx, entries(6000))),
      database.db.transaction((tx) => appendEntries(tx, entries(10))),
    ]);
    const [stats] = await rows<{ n: string; max: string }>(
      database.db,
      sql`select count(*)::text as n, max(seq)::text as max from audit_log`,
    );
    expect(stats).toEqual({ n: '6020', max: '6020' });
    expect(await verifyChain(database.db)).toMatchObject({ ok: true, checked: 6020 });
    const [redacted] = await rows<{ n: string }>(
      database.db,
      sql`select count(*)::text as n from audit_log where diff->>'token' = '[redacted]'`,
    );
    expect(redacted!.n).toBe('6010');
  });

  it('refuses an unknown action before writing anything', async () => {
    await expect(
      database.db.transaction((tx) =>
        appendEntries(tx, [...entries(3), { action: 'org.deleted' as NewEntry['action'] }]),
      ),
    ).rejects.toThrow(/Unknown audit action "org.deleted"/);
    expect(await verifyChain(database.db)).toMatchObject({ ok: true, checked: 6020 });
  });
});
