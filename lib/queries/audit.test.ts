import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, rows } from '@/db/client';
import { organizations } from '@/db/schema';
import { appendFakeAudit } from '@/db/seed';
import { appendEntries } from '@/lib/audit';
import type { StaffCtx } from '@/lib/auth/session';
import { NotFoundError, ValidationError } from '@/lib/errors';
import { startActing } from '@/lib/services/acting/acting';
import { testDatabase } from '@/test/db';
import { staffWithSession } from '@/test/staff';
import { AUDIT_PAGE_SIZE, type AuditPage, auditEntryDetail, listAudit } from './audit';

let database: Database;
let auditor: StaffCtx;
let admin: StaffCtx;
let orgIds: string[];

/** Every seq matching `where`, newest first, straight from SQL. */
async function expected(where = sql`true`, order = sql`a.seq desc`): Promise<number[]> {
  const r = await rows<{ s: string }>(
    database.db,
    sql`select a.seq::text as s from audit_log a where ${where} order by ${order}`,
  );
  return r.map((x) => Number(x.s));
}

const seqs = (p: AuditPage) => p.rows.map((r) => r.seq);

/** Pages through the whole result, older then newer again; returns the seqs of both walks. */
async function walk(search: Record<string, string>) {
  const pages: number[][] = [];
  let page = await listAudit(auditor, search);
  pages.push(seqs(page));
  expect(page.newer).toBeNull();
  while (page.older !== null) {
    page = await listAudit(auditor, { ...search, before: String(page.older) });
    pages.push(seqs(page));
  }
  const back: number[][] = [seqs(page)];
  while (page.newer !== null) {
    page = await listAudit(auditor, { ...search, after: String(page.newer) });
    back.unshift(seqs(page));
  }
  return { forward: pages, back };
}

async function refusal(raw: Record<string, string>): Promise<Record<string, string>> {
  const err: unknown = await listAudit(auditor, raw).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ValidationError);
  return (err as ValidationError).fields;
}

beforeAll(async () => {
  database = await testDatabase();
  auditor = await staffWithSession(database.db, 'auditor');
  admin = await staffWithSession(database.db, 'admin');
  orgIds = (
    await database.db
      .insert(organizations)
      .values(
        Array.from({ length: 3 }, (_, i) => ({
          slug: `audit-q-${i}`,
          name: `Audit Q ${i}`,
          planTier: 'team_saas' as const,
        })),
      )
      .returning({ id: organizations.id })
  ).map((o) => o.id);
  await appendFakeAudit(database.db, 600, { orgIds, now: new Date('2026-06-01T00:00:00Z') });
  // Real entries by a real staff member, acting for an organisation.
  await startActing(admin, { orgId: orgIds[0], reason: 'Customer asked for it', ticketRef: 'SUP-42' });
  await database.db.transaction((tx) =>
    appendEntries(tx, [
      {
        action: 'org.rate_limits.updated',
        actor_staff_id: admin.staffId,
        actor_email: admin.email,
        org_id: orgIds[0],
        acting_org_id: orgIds[0],
        diff: {
          before: { requests_per_minute: 60 },
          after: { requests_per_minute: 120, api_token: 'leaked' },
        },
      },
    ]),
  );
});
afterAll(() => database.close());

describe('the audit explorer', () => {
  it('pages through everything, newest first, and back again, in pages of 50', async () => {
    const all = await expected();
    const { forward, back } = await walk({});
    expect(forward.flat()).toEqual(all);
    expect(back).toEqual(forward);
    expect(forward.slice(0, -1).every((p) => p.length === AUDIT_PAGE_SIZE)).toBe(true);
  });

  it('filters by organisation (id or slug), staff member (id or e-mail), context, action, outcome and time', async () => {
    const org = orgIds[1]!;
    const bySlug = await walk({ org: 'audit-q-1' });
    expect(bySlug.forward.flat()).toEqual(await expected(sql`org_id = ${org}::uuid`));
    expect((await walk({ org })).forward).toEqual(bySlug.forward);

    const [fake] = await rows<{ id: string }>(
      database.db,
      sql`select actor_staff_id::text as id from audit_log where seq = 10`,
    );
    const byActor = await walk({ actor: fake!.id, action: 'org.rate_limits.updated' });
    expect(byActor.forward.flat()).toEqual(
      await expected(sql`actor_staff_id = ${fake!.id}::uuid and action = 'org.rate_limits.updated'`),
    );
    const mine = await listAudit(auditor, { actor: admin.email.toUpperCase() });
    expect(mine.rows.map((r) => r.action)).toEqual(['org.rate_limits.updated', 'acting.started']);

    const [withContext] = await rows<{ id: string }>(
      database.db,
      sql`select acting_context_id::text as id from audit_log where acting_context_id is not null limit 1`,
    );
    const byContext = await walk({ context: withContext!.id });
    expect(byContext.forward.flat()).toEqual(
      await expected(sql`acting_context_id = ${withContext!.id}::uuid`),
    );
    expect(byContext.forward.flat().length).toBeGreaterThan(0);

    const failures = await walk({ outcome: 'failure' });
    expect(failures.forward.flat()).toEqual(await expected(sql`outcome = 'failure'`));
    expect(failures.forward.flat().length).toBeGreaterThan(0);

    // A time range (UTC when no zone is given): ordered by time, then seq, and complete.
    const timed = await walk({ from: '2026-04-01T00:00', to: '2026-05-01T12:30:00Z', outcome: 'success' });
    const inRange = await expected(
      sql`occurred_at >= '2026-04-01T00:00Z' and occurred_at < '2026-05-01T12:30Z' and outcome = 'success'`,
      sql`a.occurred_at desc, a.seq desc`,
    );
    expect(timed.forward.flat()).toEqual(inRange);
    expect(timed.back).toEqual(timed.forward);
    expect(inRange.length).toBeGreaterThan(AUDIT_PAGE_SIZE);
  });

  it('names both identities where their rows remain, and redacts secrets', async () => {
    const [latest] = (await listAudit(auditor, { action: 'org.rate_limits.updated', actor: admin.staffId }))
      .rows;
    expect(latest).toMatchObject({
      actorEmail: admin.email,
      actorName: admin.displayName,
      actingOrgId: orgIds[0],
      actingOrgName: 'Audit Q 0',
      orgName: 'Audit Q 0',
      diff: { after: { requests_per_minute: 120, api_token: '[redacted]' } },
    });
    // The bench's made-up staff have no staff row: the entry's e-mail stays, with no name.
    const [fake] = (await listAudit(auditor, { action: 'staff.signin.success' })).rows;
    expect(fake!.actorEmail).toMatch(/^staff-\d\d@arbitex.ai$/);
    expect(fake!.actorName).toBeNull();
  });

  it('shows one entry with its neighbours, identities and chain fields', async () => {
    const [head] = await expected();
    const d = await auditEntryDetail(auditor, String(head));
    expect(d.entry).toMatchObject({ seq: head, action: 'org.rate_limits.updated', hmacKeyId: 'test-k1' });
    expect(d.entry.prevHmac).toMatch(/^[0-9a-f]{64}$/);
    expect(d).toMatchObject({
      prevSeq: head! - 1,
      nextSeq: null,
      staff: { email: admin.email, role: 'admin' },
    });
    const before = await auditEntryDetail(auditor, String(head! - 1));
    expect(before.entry.hmac).toBe(d.entry.prevHmac);
    // acting.started was written before its context existed: the context it started is shown.
    expect(before).toMatchObject({
      entry: { action: 'acting.started', actingContextId: null },
      nextSeq: head,
      actingContext: { ticketRef: 'SUP-42', reason: 'Customer asked for it' },
    });
    expect((await auditEntryDetail(auditor, '1')).prevSeq).toBeNull();
    await expect(auditEntryDetail(auditor, '999999')).rejects.toBeInstanceOf(NotFoundError);
    await expect(auditEntryDetail(auditor, 'abc')).rejects.toBeInstanceOf(ValidationError);
  });

  it('names each bad field, and lets every role read', async () => {
    expect(await refusal({ org: 'no-such-slug' })).toEqual({
      org: 'No organisation has the slug “no-such-slug”.',
    });
    expect(await refusal({ actor: 'nobody@arbitex.ai' })).toEqual({
      actor: 'No staff member has the e-mail address “nobody@arbitex.ai”.',
    });
    expect(
      Object.keys(await refusal({ action: 'org.explode', outcome: 'maybe', context: 'x' })).sort(),
    ).toEqual(['action', 'context', 'outcome']);
    expect(await refusal({ from: 'yesterday' })).toEqual({
      from: 'Enter a date and time in UTC, such as 2026-11-23 15:20.',
    });
    expect(await refusal({ from: '2026-05-01T00:00', to: '2026-04-01T00:00' })).toEqual({
      to: 'To must be after From.',
    });
    expect(await refusal({ before: '1; drop table audit_log' })).toHaveProperty('before');
    for (const role of ['superadmin', 'admin', 'support', 'billing', 'auditor'] as const) {
      const ctx = await staffWithSession(database.db, role);
      expect((await listAudit(ctx, {})).rows.length).toBe(AUDIT_PAGE_SIZE);
    }
  });
});
