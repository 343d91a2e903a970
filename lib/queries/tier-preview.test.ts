import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { organizations, planTiers } from '@/db/schema';
import { setMfaPolicy } from '@/lib/services/orgs/mfa-policy';
import { setRateLimits } from '@/lib/services/orgs/rate-limits';
import { err, orgServiceKit } from '@/test/orgs';
import { orgConfig, previewTier } from './org-config';

const kit = orgServiceKit();

describe('previewTier', () => {
  it('resolves the proposed tier through the view, flags own values that keep overriding, and writes nothing', async () => {
    const org = await kit.newOrg('devpro_saas');
    const admin = await kit.actingFor('admin', org.id);
    await setRateLimits(admin, {
      orgId: org.id,
      requestsPerMinute: 600,
      tokensPerMinute: null,
      concurrentRequests: null,
      monthlyRequestQuota: null,
      version: null,
    });
    await setMfaPolicy(admin, { orgId: org.id, required: true, methods: ['fido2'], version: null });
    const [team] = await kit.db.select().from(planTiers).where(eq(planTiers.key, 'team_saas'));
    const [before] = await kit.db.select().from(organizations).where(eq(organizations.id, org.id));
    const entries = await kit.auditCount();

    // Anyone who may read the organisation may preview; no acting context is needed for a read.
    const preview = await previewTier(await kit.plainStaff('auditor'), org.id, 'team_saas');
    expect(preview).toMatchObject({ orgId: org.id, current: 'devpro_saas', tier: 'team_saas' });
    expect(preview.limits.requestsPerMinute).toEqual({
      now: { value: 600, source: 'org' },
      proposed: { value: 600, source: 'org' },
      tierDefault: team!.requestsPerMinute,
      keepsOverriding: team!.requestsPerMinute !== 600,
    });
    expect(team!.requestsPerMinute).not.toBe(600);
    expect(preview.limits.tokensPerMinute).toMatchObject({
      proposed: { value: team!.tokensPerMinute, source: 'tier' },
      keepsOverriding: false,
    });
    expect(preview.mfa).toMatchObject({
      proposed: { value: { required: true, methods: ['fido2'] }, source: 'org' },
      tierDefault: { required: team!.mfaRequired, methods: team!.mfaAllowedMethods },
    });

    // The preview's resolution is the view's own: the same figures the view gives after a real move.
    const [after] = await kit.db.select().from(organizations).where(eq(organizations.id, org.id));
    expect(after).toEqual(before);
    expect(await kit.auditCount()).toBe(entries);
    expect((await orgConfig(kit.db, org.id))!.plan_tier).toBe('devpro_saas');
    await kit.db.update(organizations).set({ planTier: 'team_saas' }).where(eq(organizations.id, org.id));
    const moved = (await orgConfig(kit.db, org.id))!;
    expect(moved.requests_per_minute).toBe(preview.limits.requestsPerMinute.proposed.value);
    expect(moved.tokens_per_minute).toBe(preview.limits.tokensPerMinute.proposed.value);
    expect(Number(moved.monthly_request_quota)).toBe(preview.limits.monthlyRequestQuota.proposed.value);
  });

  it('names a bad tier and an unknown organisation', async () => {
    const org = await kit.newOrg();
    const ctx = await kit.plainStaff('support');
    expect(await err(previewTier(ctx, org.id, 'platinum'))).toMatchObject({
      status: 400,
      extra: { fields: { tier: 'Choose one of the five plan tiers.' } },
    });
    expect(await err(previewTier(ctx, crypto.randomUUID(), 'team_saas'))).toMatchObject({ status: 404 });
  });
});
