import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, rows } from '@/db/client';
import {
  organizations,
  orgMfaPolicy,
  planTiers,
  rateLimitOverrides,
  rateLimits,
  usageMonthly,
} from '@/db/schema';
import type { StaffCtx } from '@/lib/auth/session';
import { ValidationError } from '@/lib/errors';
import type { PlanTier } from '@/lib/plans';
import { testDatabase } from '@/test/db';
import { staffWithSession } from '@/test/staff';
import { encodeOrgCursor, listOrgs, ORGS_PAGE_SIZE, type OrgListPage } from './orgs';

let database: Database;
let ctx: StaffCtx;
const TIERS: PlanTier[] = [
  'devfree_saas',
  'devpro_saas',
  'team_saas',
  'enterprise_saas',
  'enterprise_outpost',
];
const DAY_MS = 86_400_000;

function monthStart(monthsAgo: number): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - monthsAgo, 1))
    .toISOString()
    .slice(0, 10);
}

async function addOrg(name: string, opts: { tier?: PlanTier; suspended?: boolean; slug?: string } = {}) {
  const [org] = await database.db
    .insert(organizations)
    .values({
      name,
      slug: opts.slug ?? `t-${crypto.randomUUID().slice(0, 12)}`,
      planTier: opts.tier ?? 'team_saas',
      status: opts.suspended ? 'suspended' : 'active',
      suspendedReason: opts.suspended ? 'Test hold' : null,
    })
    .returning();
  return org!;
}

/** Every id of the table in the list's order, straight from SQL. */
async function allIdsInOrder(where = sql`true`): Promise<string[]> {
  const r = await rows<{ id: string }>(
    database.db,
    sql`select id from organizations where ${where} order by lower(name) collate "C", id`,
  );
  return r.map((x) => x.id);
}

const ids = (p: OrgListPage) => p.rows.map((r) => r.id);
const names = (p: OrgListPage) => p.rows.map((r) => r.name);

async function refusal(raw: unknown): Promise<ValidationError> {
  const err: unknown = await listOrgs(ctx, raw).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ValidationError);
  return err as ValidationError;
}

beforeAll(async () => {
  database = await testDatabase();
  ctx = await staffWithSession(database.db, 'auditor');
  // 300 filler organisations, more than a page of each tier, spread over the tiers, with a few suspended.
  await database.db.insert(organizations).values(
    Array.from({ length: 300 }, (_, i) => ({
      name: `Filler ${String(i).padStart(3, '0')}`,
      slug: `filler-${i}`,
      planTier: TIERS[i % TIERS.length]!,
      status: i % 20 === 7 ? ('suspended' as const) : ('active' as const),
    })),
  );
  await addOrg('Harbor Point Credit Union', { tier: 'devfree_saas', slug: 'harbor-point-cu' });
  await addOrg('harbour lights trust', { tier: 'enterprise_saas' });
  await addOrg('HARBORVIEW Clinic', { tier: 'team_saas', suspended: true });
  await addOrg('100% Pure Dairy', { slug: 'pure-dairy' });
  await addOrg('1000 Lakes Bank');
  await addOrg('A_B Holdings');
  await addOrg('AxB Holdings');
});
afterAll(() => database.close());

describe('listOrgs: search', () => {
  it('finds organisations by name prefix, ignoring case, in name order', async () => {
    expect(names(await listOrgs(ctx, { q: 'harbor' }))).toEqual([
      'Harbor Point Credit Union',
      'HARBORVIEW Clinic',
    ]);
    expect(names(await listOrgs(ctx, { q: '  HARB ' }))).toEqual([
      'Harbor Point Credit Union',
      'HARBORVIEW Clinic',
      'harbour lights trust',
    ]);
    expect(names(await listOrgs(ctx, { q: 'point' }))).toEqual([]);
  });

  it('takes % and _ literally', async () => {
    expect(names(await listOrgs(ctx, { q: '100%' }))).toEqual(['100% Pure Dairy']);
    expect(names(await listOrgs(ctx, { q: 'a_b' }))).toEqual(['A_B Holdings']);
  });

  it('finds an organisation by its exact slug, once even when its name matches too', async () => {
    expect(names(await listOrgs(ctx, { q: 'harbor-point-cu' }))).toEqual(['Harbor Point Credit Union']);
    expect(names(await listOrgs(ctx, { q: 'Pure-Dairy' }))).toEqual(['100% Pure Dairy']);
    expect(names(await listOrgs(ctx, { q: 'filler-12' }))).toEqual(['Filler 012']);
    const [filler] = await database.db.select().from(organizations).where(eq(organizations.slug, 'filler-1'));
    await database.db
      .update(organizations)
      .set({ name: 'filler-1 renamed' })
      .where(eq(organizations.id, filler!.id));
    expect(names(await listOrgs(ctx, { q: 'filler-1' }))).toEqual(['filler-1 renamed']);
    await database.db
      .update(organizations)
      .set({ name: 'Filler 001' })
      .where(eq(organizations.id, filler!.id));
  });

  it('finds an organisation by its exact id, in any case', async () => {
    const org = await addOrg('Zeta by id');
    expect(ids(await listOrgs(ctx, { q: org.id }))).toEqual([org.id]);
    expect(ids(await listOrgs(ctx, { q: org.id.toUpperCase() }))).toEqual([org.id]);
    expect(ids(await listOrgs(ctx, { q: crypto.randomUUID() }))).toEqual([]);
  });
});

describe('listOrgs: filters', () => {
  it('filters by tier, by status, and by both', async () => {
    for (const tier of TIERS) {
      const want = await allIdsInOrder(sql`plan_tier = ${tier}`);
      const got = await listOrgs(ctx, { tier });
      expect(ids(got)).toEqual(want.slice(0, ORGS_PAGE_SIZE));
      expect(got.rows.every((r) => r.planTier === tier)).toBe(true);
    }
    const suspended = await listOrgs(ctx, { status: 'suspended' });
    expect(ids(suspended)).toEqual(await allIdsInOrder(sql`status = 'suspended'`));
    expect(suspended.rows.length).toBeGreaterThan(1);
    const both = await listOrgs(ctx, { tier: 'team_saas', status: 'suspended', q: 'harbor' });
    expect(names(both)).toEqual(['HARBORVIEW Clinic']);
  });

  it('treats empty fields as "any", as an unset form field sends them', async () => {
    expect(ids(await listOrgs(ctx, { q: '', tier: '', status: '', over: '', after: '' }))).toEqual(
      ids(await listOrgs(ctx, {})),
    );
  });

  it("shows each organisation's effective MFA policy, and where it comes from", async () => {
    const org = await addOrg('Mfa Override Org', { tier: 'devfree_saas' });
    await database.db
      .insert(orgMfaPolicy)
      .values({ orgId: org.id, required: true, allowedMethods: ['fido2'] });
    const [tier] = await database.db.select().from(planTiers).where(eq(planTiers.key, 'devfree_saas'));
    const [own, other] = (await listOrgs(ctx, { q: 'mfa override org' })).rows.concat(
      (await listOrgs(ctx, { q: 'harbor point' })).rows,
    );
    expect(own).toMatchObject({ mfaRequired: true, mfaMethods: ['fido2'], mfaSource: 'org' });
    expect(other).toMatchObject({
      mfaRequired: tier!.mfaRequired,
      mfaMethods: tier!.mfaAllowedMethods,
      mfaSource: 'tier',
    });
  });

  it("over quota: this month's requests above the effective quota, and nothing else", async () => {
    const quotas = new Map(
      (await database.db.select().from(planTiers)).map((t) => [t.key, t.monthlyRequestQuota]),
    );
    const tierQuota = quotas.get('team_saas')!;
    const staff = await staffWithSession(database.db, 'support');
    const usage = async (orgId: string, requests: number, monthsAgo = 0) =>
      database.db.insert(usageMonthly).values({ orgId, month: monthStart(monthsAgo), requests, tokens: 0 });
    const override = async (orgId: string, monthlyRequestQuota: number, expiresInDays = 7) =>
      database.db.insert(rateLimitOverrides).values({
        orgId,
        monthlyRequestQuota,
        expiresAt: new Date(Date.now() + expiresInDays * DAY_MS),
        startsAt: new Date(Date.now() - 2 * DAY_MS),
        reason: 'Quarter-end batch window',
        createdBy: staff.staffId,
      });

    const overTier = await addOrg('Quota over tier default');
    await usage(overTier.id, tierQuota + 1);
    const atTier = await addOrg('Quota exactly at tier default');
    await usage(atTier.id, tierQuota);
    const lastMonthOnly = await addOrg('Quota over last month only');
    await usage(lastMonthOnly.id, tierQuota * 2, 1);
    await usage(lastMonthOnly.id, 10);
    const ownHigher = await addOrg('Quota own limit higher');
    await database.db.insert(rateLimits).values({ orgId: ownHigher.id, monthlyRequestQuota: tierQuota * 3 });
    await usage(ownHigher.id, tierQuota * 2);
    const ownLower = await addOrg('Quota own limit lower');
    await database.db.insert(rateLimits).values({ orgId: ownLower.id, monthlyRequestQuota: 1000 });
    await usage(ownLower.id, 1001);
    const raisedByOverride = await addOrg('Quota raised by override');
    await override(raisedByOverride.id, tierQuota * 10);
    await usage(raisedByOverride.id, tierQuota * 2);
    const expiredOverride = await addOrg('Quota override expired');
    await override(expiredOverride.id, tierQuota * 10, -1);
    await usage(expiredOverride.id, tierQuota * 2);
    const blocked = await addOrg('Quota blocked at zero');
    await database.db.insert(rateLimits).values({ orgId: blocked.id, monthlyRequestQuota: 0 });
    await usage(blocked.id, 1);
    await addOrg('Quota no usage recorded');

    const over = await listOrgs(ctx, { over: '1' });
    expect(names(over)).toEqual([
      'Quota blocked at zero',
      'Quota over tier default',
      'Quota override expired',
      'Quota own limit lower',
    ]);
    expect(over.rows.every((r) => r.overQuota)).toBe(true);
    const all = (await listOrgs(ctx, { q: 'quota' })).rows;
    expect(all.filter((r) => r.overQuota).map((r) => r.name)).toEqual(names(over));
    const byName = new Map(all.map((r) => [r.name, r]));
    expect(byName.get('Quota own limit lower')).toMatchObject({ requests: 1001, quota: 1000 });
    expect(byName.get('Quota raised by override')).toMatchObject({ quota: tierQuota * 10, overQuota: false });
    expect(byName.get('Quota over last month only')).toMatchObject({ requests: 10, overQuota: false });
    expect(byName.get('Quota no usage recorded')).toMatchObject({ requests: null, overQuota: false });

    expect(names(await listOrgs(ctx, { over: '1', q: 'quota o' }))).toEqual([
      'Quota over tier default',
      'Quota override expired',
      'Quota own limit lower',
    ]);
    expect(names(await listOrgs(ctx, { over: '1', tier: 'devfree_saas' }))).toEqual([]);
  });
});

describe('listOrgs: keyset pagination', () => {
  it('walks every organisation forward and back in pages of 50, with no duplicate and no gap', async () => {
    const want = await allIdsInOrder();
    const forward: OrgListPage[] = [];
    let page = await listOrgs(ctx, {});
    expect(page.prev).toBeNull();
    forward.push(page);
    while (page.next) {
      page = await listOrgs(ctx, { after: page.next });
      forward.push(page);
    }
    expect(forward.length).toBe(Math.ceil(want.length / ORGS_PAGE_SIZE));
    expect(forward.slice(0, -1).every((p) => p.rows.length === ORGS_PAGE_SIZE)).toBe(true);
    expect(forward.flatMap(ids)).toEqual(want);

    const backward: OrgListPage[] = [page];
    while (page.prev) {
      page = await listOrgs(ctx, { before: page.prev });
      backward.unshift(page);
    }
    expect(backward.map(ids)).toEqual(forward.map(ids));
    expect(backward[0]!.prev).toBeNull();
    expect(backward.slice(0, -1).every((p) => p.next !== null)).toBe(true);
  });

  it('keeps the search and filters across pages', async () => {
    const want = await allIdsInOrder(sql`plan_tier = 'team_saas'`);
    expect(want.length).toBeGreaterThan(ORGS_PAGE_SIZE);
    const first = await listOrgs(ctx, { tier: 'team_saas' });
    const second = await listOrgs(ctx, { tier: 'team_saas', after: first.next });
    expect([...ids(first), ...ids(second)]).toEqual(want.slice(0, ORGS_PAGE_SIZE * 2));
    expect(ids(await listOrgs(ctx, { tier: 'team_saas', before: second.prev }))).toEqual(ids(first));

    const fillers = await allIdsInOrder(sql`name like 'Filler %'`);
    for (const size of ['25', '100']) {
      const seen: string[] = [];
      let p = await listOrgs(ctx, { q: 'filler', size });
      for (;;) {
        expect(p.rows.length).toBeLessThanOrEqual(Number(size));
        seen.push(...ids(p));
        if (!p.next) break;
        p = await listOrgs(ctx, { q: 'filler', size, after: p.next });
      }
      expect(seen).toEqual(fillers);
    }
  });

  it('is stable under inserts: the next page starts right after the last row seen', async () => {
    const first = await listOrgs(ctx, { q: 'filler' });
    const lastSeen = first.rows.at(-1)!;
    // Sorts inside the first page, which was already shown: it must not push a row off into a gap.
    await addOrg('Filler 000a');
    const second = await listOrgs(ctx, { q: 'filler', after: first.next });
    const fillers = await allIdsInOrder(sql`name like 'Filler %'`);
    const at = fillers.indexOf(lastSeen.id);
    expect(ids(second)).toEqual(fillers.slice(at + 1, at + 1 + ORGS_PAGE_SIZE));
  });

  it('shows the first page, full, when going back runs out of rows before the start', async () => {
    const want = await allIdsInOrder();
    const cursor = encodeOrgCursor({ key: 'filler 003', id: crypto.randomUUID() });
    const page = await listOrgs(ctx, { before: cursor });
    expect(ids(page)).toEqual(want.slice(0, ORGS_PAGE_SIZE));
    expect(page.prev).toBeNull();
  });
});

describe('listOrgs: input', () => {
  it('names each bad field', async () => {
    expect((await refusal({ tier: 'platinum' })).fields).toHaveProperty('tier');
    expect((await refusal({ status: 'deleted' })).fields).toHaveProperty('status');
    expect((await refusal({ over: 'yes' })).fields).toHaveProperty('over');
    expect((await refusal({ size: '7' })).fields).toHaveProperty('size');
    expect((await refusal({ q: 'x'.repeat(201) })).fields).toHaveProperty('q');
    expect((await refusal({ q: ['a', 'b'] })).fields).toHaveProperty('q');
    expect((await refusal({ q: 'a\u0000b' })).fields).toHaveProperty('q');
    expect((await refusal({ after: 'not-a-cursor' })).fields.after).toMatch(/page link is broken/);
    const forged = Buffer.from(JSON.stringify(['a', 'not-a-uuid'])).toString('base64url');
    expect((await refusal({ after: forged })).fields.after).toMatch(/page link is broken/);
    const nul = encodeOrgCursor({ key: 'a\u0000', id: crypto.randomUUID() });
    expect((await refusal({ before: nul })).fields.before).toMatch(/page link is broken/);
    const ok = encodeOrgCursor({ key: 'a', id: crypto.randomUUID() });
    expect((await refusal({ after: ok, before: ok })).fields).toHaveProperty('before');
  });
});

describe('listOrgs: sort, total and page number', () => {
  const THIS_MONTH = sql.raw(`(date_trunc('month', now() at time zone 'UTC'))::date`);

  /** The ids in each sort's order, straight from SQL (the definition the keyset walks must agree with). */
  async function truth(sort: 'name' | 'tier' | 'usage', where = sql`true`): Promise<string[]> {
    const order = {
      name: sql`lower(o.name) collate "C", o.id`,
      tier: sql`o.plan_tier, lower(o.name) collate "C", o.id`,
      usage: sql`(u.requests is null), u.requests desc, (case when u.requests is not null then o.id end) desc,
                 lower(o.name) collate "C", o.id`,
    }[sort];
    const r = await rows<{ id: string }>(
      database.db,
      sql`select o.id from organizations o
          left join usage_monthly u on u.org_id = o.id and u.month = ${THIS_MONTH}
          where ${where} order by ${order}`,
    );
    return r.map((x) => x.id);
  }

  beforeAll(async () => {
    // Usage this month for two thirds of the fillers, with ties (the same count for several), so the order
    // by usage needs its id tie-break and has a tail of organisations without usage.
    const fillers = await rows<{ id: string; name: string }>(
      database.db,
      sql`select o.id, o.name from organizations o where o.name like 'Filler %' and not exists
            (select 1 from usage_monthly u where u.org_id = o.id and u.month = ${THIS_MONTH})`,
    );
    await database.db
      .insert(usageMonthly)
      .values(
        fillers
          .filter((_, i) => i % 3 !== 0)
          .map((o, i) => ({ orgId: o.id, month: monthStart(0), requests: (i * 7919) % 50, tokens: 0 })),
      );
  });

  for (const sort of ['name', 'tier', 'usage'] as const) {
    for (const [label, filter, where] of [
      ['every organisation', {}, sql`true`],
      ['one tier', { tier: 'team_saas' }, sql`o.plan_tier = 'team_saas'`],
      ['a name prefix', { q: 'filler 1' }, sql`lower(o.name) like 'filler 1%'`],
    ] as const) {
      it(`by ${sort}, ${label}: every row once, forward and back, numbered pages, the total`, async () => {
        const want = await truth(sort, where);
        const total = want.length;
        const size = 25;
        const forward: OrgListPage[] = [];
        let page = await listOrgs(ctx, { ...filter, sort, size: String(size) });
        forward.push(page);
        while (page.next) {
          page = await listOrgs(ctx, { ...filter, sort, size: String(size), after: page.next });
          forward.push(page);
        }
        expect(forward.flatMap(ids)).toEqual(want);
        expect(forward.map((p) => p.page)).toEqual(forward.map((_, i) => i + 1));
        for (const p of forward)
          expect(p).toMatchObject({ total, pages: Math.max(1, Math.ceil(total / size)), sort });
        const backward: OrgListPage[] = [page];
        while (page.prev) {
          page = await listOrgs(ctx, { ...filter, sort, size: String(size), before: page.prev });
          backward.unshift(page);
        }
        expect(backward.map(ids)).toEqual(forward.map(ids));
        expect(backward.map((p) => p.page)).toEqual(forward.map((p) => p.page));
      });
    }
  }

  it('counts what the over-quota filter and an exact slug find', async () => {
    const over = await listOrgs(ctx, { over: '1', sort: 'usage' });
    expect(over.total).toBe(over.rows.length);
    expect(over.rows.every((r) => r.overQuota)).toBe(true);
    expect(ids(over)).toEqual(
      [...over.rows].sort((a, b) => b.requests! - a.requests! || (a.id < b.id ? 1 : -1)).map((r) => r.id),
    );
    expect(await listOrgs(ctx, { q: 'filler-12' })).toMatchObject({ total: 1, page: 1, pages: 1 });
    expect(await listOrgs(ctx, { q: 'no such organisation' })).toMatchObject({ total: 0, pages: 1 });
  });

  it('refuses an unknown sort, and a page link made for another sort', async () => {
    expect((await refusal({ sort: 'revenue' })).fields.sort).toMatch(/name, tier, usage/);
    const byName = await listOrgs(ctx, { size: '10' });
    expect((await refusal({ sort: 'usage', after: byName.next })).fields.after).toMatch(
      /page link is broken/,
    );
    const tierWithoutTier = encodeOrgCursor({ sort: 'tier', key: 'a', id: crypto.randomUUID() });
    expect((await refusal({ sort: 'tier', after: tierWithoutTier })).fields.after).toMatch(
      /page link is broken/,
    );
  });

  it('never claims more pages than there are, whatever a page link says', async () => {
    const forged = encodeOrgCursor({ key: 'filler 100', id: crypto.randomUUID(), page: 9999 });
    const p = await listOrgs(ctx, { after: forged });
    expect(p.page).toBe(p.pages);
  });
});
