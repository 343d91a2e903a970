import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, rows } from '@/db/client';
import { PLAN_TIERS } from '@/db/schema';
import { verifyChain } from '@/lib/audit';
import { testDatabase } from '@/test/db';
import { parseSeedArgs, seedBench, seedDemo, UsageError } from './seed';

let database: Database;
beforeAll(async () => {
  database = await testDatabase();
});
afterAll(() => database.close());

async function count(query: string): Promise<number> {
  const [r] = await rows<{ n: string }>(database.db, sql.raw(`select (${query})::text as n`));
  return Number(r!.n);
}

const TABLES = [
  'organizations',
  'org_mfa_policy',
  'rate_limits',
  'rate_limit_overrides',
  'usage_monthly',
  'outposts',
  'enterprise_entitlements',
  'staff_users',
  'audit_log',
];

async function tableCounts(): Promise<Record<string, number>> {
  const entries = await Promise.all(TABLES.map(async (t) => [t, await count(`select count(*) from ${t}`)]));
  return Object.fromEntries(entries);
}

describe('seedDemo', () => {
  it('seeds the demo organisations on every tier, with one system.seed entry', async () => {
    const result = await seedDemo(database.db);
    expect(result.seeded).toBe(true);
    expect(result.message).toMatch(/^seeded \d+ organisations/);

    expect(await count('select count(*) from organizations')).toBeGreaterThanOrEqual(30);
    const tiers = await rows<{ plan_tier: string }>(
      database.db,
      sql`select distinct plan_tier::text as plan_tier from organizations order by 1`,
    );
    expect(tiers.map((t) => t.plan_tier)).toEqual([...PLAN_TIERS].sort());
    expect(
      await count(`select count(*) from organizations where status = 'suspended'`),
    ).toBeGreaterThanOrEqual(2);
    expect(
      await count(
        `select count(*) from organizations where status = 'suspended' and suspended_reason is null`,
      ),
    ).toBe(0);
    expect(await count('select count(*) from org_mfa_policy')).toBeGreaterThan(0);
    expect(await count('select count(*) from rate_limits')).toBeGreaterThan(0);
    // No seed staff member, so no overrides (their created_by needs one).
    expect(await count('select count(*) from staff_users')).toBe(0);
  });

  it('gives entitlements to exactly the enterprise organisations, and outposts only on enterprise_outpost', async () => {
    expect(
      await count(`select count(*) from organizations o left join enterprise_entitlements e on e.org_id = o.id
                   where (e.org_id is not null) <> (o.plan_tier in ('enterprise_saas', 'enterprise_outpost'))`),
    ).toBe(0);
    expect(
      await count(`select count(*) from outposts p join organizations o on o.id = p.org_id
                   where o.plan_tier <> 'enterprise_outpost'`),
    ).toBe(0);
    expect(
      await count(`select count(*) from organizations o where plan_tier = 'enterprise_outpost'
                   and (select count(*) from outposts p where p.org_id = o.id) not between 1 and 3`),
    ).toBe(0);
    expect(await count(`select count(distinct inference_mode) from outposts`)).toBe(2);
    expect(
      await count(`select count(*) from enterprise_entitlements e
                   where e.max_outposts < (select count(*) from outposts p where p.org_id = e.org_id)`),
    ).toBe(0);
  });

  it('has 12 consecutive months of usage per organisation, some over quota', async () => {
    expect(
      await count(`select count(*) from (select org_id from usage_monthly group by org_id
                   having count(*) = 12 and max(month) = date_trunc('month', now() at time zone 'UTC')::date
                   and min(month) = (date_trunc('month', now() at time zone 'UTC') - interval '11 months')::date) x`),
    ).toBe(await count('select count(*) from organizations'));
    expect(
      await count(`select count(distinct u.org_id) from usage_monthly u
                   join organizations o on o.id = u.org_id join plan_tiers t on t.key = o.plan_tier
                   left join rate_limits r on r.org_id = o.id
                   where u.requests > coalesce(r.monthly_request_quota, t.monthly_request_quota)`),
    ).toBeGreaterThanOrEqual(2);
  });

  it('writes exactly one system.seed entry, and a second run changes nothing', async () => {
    expect(await count(`select count(*) from audit_log where action = 'system.seed'`)).toBe(1);
    const before = await tableCounts();
    const again = await seedDemo(database.db);
    expect(again).toMatchObject({ seeded: false, message: 'demo data already present' });
    expect(await tableCounts()).toEqual(before);
    expect(await verifyChain(database.db)).toMatchObject({ ok: true, checked: before.audit_log });
  });
});

describe('seedBench (large mode)', () => {
  it('adds organisations with usage and continues the chain with dense seq', async () => {
    const orgsBefore = await count('select count(*) from organizations');
    const auditBefore = await count('select count(*) from audit_log');
    expect(auditBefore).toBeGreaterThan(0);

    const { orgIds } = await seedBench(database.db, { orgs: 500, audit: 3000 });
    expect(orgIds).toHaveLength(500);
    expect(await count('select count(*) from organizations')).toBe(orgsBefore + 500);
    expect(await count(`select count(*) from organizations where slug = 'bench-org-000500'`)).toBe(1);
    expect(
      await count(`select count(*) from usage_monthly u join organizations o on o.id = u.org_id
                   where o.slug like 'bench-org-%'`),
    ).toBe(500 * 12);
    // One system.seed entry for the bench organisations, then the 3000 bulk entries.
    expect(await count('select count(*) from audit_log')).toBe(auditBefore + 1 + 3000);
    expect(await count('select max(seq) from audit_log')).toBe(auditBefore + 3001);
    expect(
      await count(`select count(*) from audit_log where seq > ${auditBefore + 1}
                   and org_id is not null and org_id not in (select id from organizations where slug like 'bench-org-%')`),
    ).toBe(0);
    const times = await rows<{ ok: boolean }>(
      database.db,
      sql`select bool_and(occurred_at >= prev) as ok from (select occurred_at,
          lag(occurred_at) over (order by seq) as prev from audit_log where seq > ${auditBefore + 1}) x`,
    );
    expect(times[0]!.ok).toBe(true);

    expect(await verifyChain(database.db, { batchSize: 997 })).toMatchObject({
      ok: true,
      checked: auditBefore + 3001,
      headSeq: auditBefore + 3001,
    });

    // A second run numbers its organisations after the first run's.
    await seedBench(database.db, { orgs: 3, audit: 10 });
    expect(await count(`select count(*) from organizations where slug = 'bench-org-000503'`)).toBe(1);
    expect(await verifyChain(database.db)).toMatchObject({ ok: true, checked: auditBefore + 3001 + 11 });
  });
});

describe('parseSeedArgs', () => {
  it('takes --orgs and --audit, and refuses anything else', () => {
    expect(parseSeedArgs([])).toEqual({ orgs: 0, audit: 0 });
    expect(parseSeedArgs(['--orgs', '100000', '--audit=1000000'])).toEqual({ orgs: 100000, audit: 1000000 });
    for (const bad of [
      ['--orgs'],
      ['--orgs', '-5'],
      ['--orgs', '1e5'],
      ['--users', '3'],
      ['100'],
      ['--audit', 'x'],
    ])
      expect(() => parseSeedArgs(bad)).toThrow(UsageError);
  });
});
