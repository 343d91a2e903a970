import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { planTiers } from '@/db/schema';
import { STAFF_ROLES } from '@/lib/auth/roles';
import { orgConfig } from '@/lib/queries/org-config';
import { err, orgServiceKit } from '@/test/orgs';
import { setPlanDefaults } from './plan-defaults';

const kit = orgServiceKit();

async function tier(key: 'devpro_saas' | 'team_saas') {
  const [row] = await kit.db.select().from(planTiers).where(eq(planTiers.key, key));
  return row!;
}

const input = (t: Awaited<ReturnType<typeof tier>>, change: object = {}) => ({
  tier: t.key,
  label: t.label,
  monthlyRequestQuota: t.monthlyRequestQuota,
  requestsPerMinute: t.requestsPerMinute,
  tokensPerMinute: t.tokensPerMinute,
  concurrentRequests: t.concurrentRequests,
  mfaRequired: t.mfaRequired,
  mfaAllowedMethods: t.mfaAllowedMethods,
  version: t.version,
  ...change,
});

describe('setPlanDefaults', () => {
  it('changes a tier default that organisations without their own value follow, audited and notified', async () => {
    const org = await kit.newOrg('devpro_saas');
    const admin = await kit.plainStaff('admin');
    const before = await tier('devpro_saas');
    kit.forgetNotifications();
    const after = await setPlanDefaults(admin, input(before, { requestsPerMinute: 450 }));
    expect(after).toMatchObject({ key: 'devpro_saas', requestsPerMinute: 450, version: before.version + 1 });
    expect(await orgConfig(kit.db, org.id)).toMatchObject({
      requests_per_minute: 450,
      requests_per_minute_source: 'tier',
    });
    expect(await kit.lastEntry()).toMatchObject({
      action: 'plan.defaults.updated',
      actorStaffId: admin.staffId,
      targetId: 'devpro_saas',
      diff: { before: { requestsPerMinute: before.requestsPerMinute }, after: { requestsPerMinute: 450 } },
    });
    await kit.notifiedOf('tier:devpro_saas');
  });

  it('is refused to every role but admin and superadmin, writing nothing', async () => {
    const t = await tier('team_saas');
    const count = await kit.auditCount();
    for (const role of STAFF_ROLES.filter((r) => r !== 'admin' && r !== 'superadmin')) {
      expect(
        await err(setPlanDefaults(await kit.plainStaff(role), input(t, { label: 'Hijacked' }))),
      ).toMatchObject({ status: 403 });
    }
    expect(await kit.auditCount()).toBe(count);
    expect((await tier('team_saas')).label).toBe(t.label);
  });

  it('keeps the five keys, names bad fields, needs step-up, and refuses a stale version', async () => {
    const admin = await kit.plainStaff('admin');
    const t = await tier('team_saas');
    expect(await err(setPlanDefaults(admin, input(t, { tier: 'platinum' })))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^Tier: /),
    });
    expect(await err(setPlanDefaults(admin, input(t, { requestsPerMinute: 0 })))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^Requests per minute: /),
    });
    expect(await err(setPlanDefaults(admin, input(t, { mfaAllowedMethods: [] })))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^Allowed MFA methods: /),
    });
    const stale = { ...admin, authTime: new Date(Date.now() - 3600_000), stepUpAt: null };
    expect(await err(setPlanDefaults(stale, input(t)))).toMatchObject({ code: 'step_up_required' });
    await setPlanDefaults(admin, input(t, { concurrentRequests: 60 }));
    expect(await err(setPlanDefaults(admin, input(t, { concurrentRequests: 70 })))).toMatchObject({
      status: 409,
      extra: { current: { concurrentRequests: 60 } },
    });
  });
});
