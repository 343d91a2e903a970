import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Database, rows } from '@/db/client';
import { actingContexts, organizations, rateLimitOverrides, rateLimits } from '@/db/schema';
import type { StaffCtx } from '@/lib/auth/session';
import { startActing } from '@/lib/services/acting/acting';
import { testDatabase } from '@/test/db';
import { staffWithSession } from '@/test/staff';
import { OVERVIEW_AUDIT, overview } from './overview';

// Prometheus configured but not answering (nothing listens on port 9): the overview must say it cannot tell.
vi.hoisted(() => {
  process.env.PROMETHEUS_URL = 'http://127.0.0.1:9';
  process.env.PROMETHEUS_TIMEOUT_MS = '500';
});

let database: Database;
let superadmin: StaffCtx;
const DAY_MS = 86_400_000;

async function addOrg(name: string, opts: { suspended?: boolean } = {}) {
  const [org] = await database.db
    .insert(organizations)
    .values({
      name,
      slug: `o-${crypto.randomUUID().slice(0, 12)}`,
      planTier: 'team_saas',
      status: opts.suspended ? 'suspended' : 'active',
      suspendedReason: opts.suspended ? 'Test hold' : null,
    })
    .returning();
  return org!;
}

const ids: Record<string, string> = {};

beforeAll(async () => {
  database = await testDatabase();
  superadmin = await staffWithSession(database.db, 'superadmin');
  for (const name of ['Active One', 'Active Two']) ids[name] = (await addOrg(name)).id;
  for (const name of ['Suspended B', 'Suspended A']) ids[name] = (await addOrg(name, { suspended: true })).id;
  // Blocked by its own quota of 0; by a live override of 0 requests a minute; not by an expired override.
  ids['Own zero'] = (await addOrg('Own zero')).id;
  await database.db.insert(rateLimits).values({ orgId: ids['Own zero']!, monthlyRequestQuota: 0 });
  ids['Override zero'] = (await addOrg('Override zero')).id;
  ids['Expired zero'] = (await addOrg('Expired zero')).id;
  // A non-zero own limit does not block.
  await database.db.insert(rateLimits).values({ orgId: ids['Active Two']!, requestsPerMinute: 5 });
  for (const [name, expiresInDays] of [
    ['Override zero', 3],
    ['Expired zero', -1],
  ] as const) {
    await database.db.insert(rateLimitOverrides).values({
      orgId: ids[name]!,
      requestsPerMinute: 0,
      startsAt: new Date(Date.now() - 5 * DAY_MS),
      expiresAt: new Date(Date.now() + expiresInDays * DAY_MS),
      reason: 'Abuse report',
      createdBy: superadmin.staffId,
    });
  }
  // One open acting context (through the service: audited), one ended, one past its expiry.
  await startActing(superadmin, { orgId: ids['Active One']!, reason: 'Customer call', ticketRef: 'SUP-1' });
  const ended = await staffWithSession(database.db, 'support');
  const started = await startActing(ended, {
    orgId: ids['Active Two']!,
    reason: 'Checking a billing question',
    ticketRef: 'SUP-2',
  });
  await database.db
    .update(actingContexts)
    .set({ endedAt: new Date(), endReason: 'stopped' })
    .where(sql`${actingContexts.id} = ${started.id}`);
  const lapsed = await staffWithSession(database.db, 'support');
  await database.db.insert(actingContexts).values({
    staffId: lapsed.staffId,
    orgId: ids['Active Two']!,
    reason: 'Old context, lapsed',
    ticketRef: 'SUP-3',
    startedAt: new Date(Date.now() - 2 * 3600_000),
    expiresAt: new Date(Date.now() - 3600_000),
  });
});
afterAll(() => database.close());

describe('overview', () => {
  it('counts open acting contexts, suspended and blocked organisations as the tables say', async () => {
    const o = await overview(superadmin);
    expect(o.acting!.map((a) => [a.staffEmail, a.orgName, a.ticketRef])).toEqual([
      [superadmin.email, 'Active One', 'SUP-1'],
    ]);
    expect(o.orgs).toEqual({
      suspended: 2,
      suspendedList: [
        { id: ids['Suspended A'], name: 'Suspended A', slug: expect.any(String) },
        { id: ids['Suspended B'], name: 'Suspended B', slug: expect.any(String) },
      ],
      blocked: 2,
      blockedList: [
        {
          id: ids['Override zero'],
          name: 'Override zero',
          slug: expect.any(String),
          zero: ['requestsPerMinute'],
        },
        { id: ids['Own zero'], name: 'Own zero', slug: expect.any(String), zero: ['monthlyRequestQuota'] },
      ],
    });
  });

  it('says it cannot tell about the pool when Prometheus does not answer, never that all is well', async () => {
    const { pool } = await overview(superadmin);
    expect(pool).toEqual({ state: 'unknown', reason: expect.stringContaining('127.0.0.1:9') });
  });

  it("shows the chain's head, no checkpoint or verification yet, SIEM lag and the newest entries", async () => {
    const o = await overview(superadmin);
    const [head] = await rows<{ n: number }>(database.db, sql`select max(seq)::int as n from audit_log`);
    expect(head!.n).toBeGreaterThan(0);
    expect(o.chain).toMatchObject({ headSeq: head!.n, broken: null, lastCheckpoint: null, lastRun: null });
    expect(o.siem).toMatchObject({
      destination: null,
      headSeq: head!.n,
      lagEntries: head!.n,
      deliveredSeq: 0,
    });
    const newest = await rows<{ seq: number; action: string }>(
      database.db,
      sql`select seq::int as seq, action from audit_log order by seq desc limit ${OVERVIEW_AUDIT}`,
    );
    expect(o.audit!.map((e) => [e.seq, e.action])).toEqual(newest.map((e) => [e.seq, e.action]));
    const started = o.audit!.find((e) => e.action === 'acting.started' && e.orgId === ids['Active One']);
    expect(started).toMatchObject({
      orgName: 'Active One',
      actorEmail: superadmin.email,
      outcome: 'success',
    });
  });

  it('leaves out what the role may not read', async () => {
    const support = await overview(await staffWithSession(database.db, 'support'));
    expect(support.acting).toBeNull(); // acting.list
    expect(support.chain!.lastRun).toBeUndefined(); // audit.verify
    expect(support.orgs).not.toBeNull();
    expect(support.audit).not.toBeNull();
    const auditor = await overview(await staffWithSession(database.db, 'auditor'));
    expect(auditor.acting).toHaveLength(1);
    expect(auditor.chain!.lastRun).toBeNull();
  });
});
