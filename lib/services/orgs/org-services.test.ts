import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { enterpriseEntitlements, organizations, orgMfaPolicy } from '@/db/schema';
import { orgConfig } from '@/lib/queries/org-config';
import { err, orgServiceKit } from '@/test/orgs';
import { setMfaPolicy, weakens } from './mfa-policy';
import { setPlanTier } from './plan-tier';

const kit = orgServiceKit();
const { newOrg, actingFor, approved, auditCount, lastEntry, notifiedOf } = kit;

describe('setPlanTier', () => {
  it('moves the tier inside an acting context, audited with both identities, and notifies the gateway', async () => {
    const org = await newOrg();
    const ctx = await actingFor('billing', org.id);
    kit.forgetNotifications();
    const after = await setPlanTier(ctx, {
      orgId: org.id,
      planTier: 'enterprise_outpost',
      version: org.version,
    });
    expect(after).toMatchObject({ planTier: 'enterprise_outpost', version: org.version + 1 });
    expect(await lastEntry()).toMatchObject({
      action: 'org.plan_tier.updated',
      orgId: org.id,
      actorStaffId: ctx.staffId,
      actingOrgId: org.id,
      actingContextId: ctx.acting!.id,
      diff: { before: { plan_tier: 'team_saas' }, after: { plan_tier: 'enterprise_outpost' } },
    });
    await notifiedOf(org.id);
    expect((await orgConfig(kit.db, org.id))!.plan_tier).toBe('enterprise_outpost');
  });

  it('is refused to roles without the permission, and outside an acting context, writing nothing', async () => {
    const org = await newOrg();
    const before = await auditCount();
    expect(
      await err(
        setPlanTier(await actingFor('support', org.id), {
          orgId: org.id,
          planTier: 'devpro_saas',
          version: 1,
        }),
      ),
    ).toMatchObject({ status: 403, code: 'forbidden' });
    const plain = await kit.plainStaff('admin');
    expect(
      await err(setPlanTier(plain, { orgId: org.id, planTier: 'devpro_saas', version: 1 })),
    ).toMatchObject({ status: 403, code: 'acting_required' });
    // Starting the acting contexts above wrote their own entries; the refused writes wrote none.
    expect(await auditCount()).toBe(before + 1);
    expect((await kit.db.select().from(organizations).where(eq(organizations.id, org.id)))[0]!.planTier).toBe(
      'team_saas',
    );
  });

  it('names a bad tier, answers a stale version with 409 and the current row', async () => {
    const org = await newOrg();
    const ctx = await actingFor('admin', org.id);
    expect(await err(setPlanTier(ctx, { orgId: org.id, planTier: 'enterprise', version: 1 }))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/^Plan tier: /),
    });
    await setPlanTier(ctx, { orgId: org.id, planTier: 'devpro_saas', version: 1 });
    const stale = await err(setPlanTier(ctx, { orgId: org.id, planTier: 'devfree_saas', version: 1 }));
    expect(stale).toMatchObject({ status: 409, extra: { current: { planTier: 'devpro_saas', version: 2 } } });
  });

  it('asks explicitly before dropping enterprise entitlements, and keeps them in the audit entry', async () => {
    const org = await newOrg('enterprise_saas');
    await kit.db
      .insert(enterpriseEntitlements)
      .values({ orgId: org.id, maxOutposts: 2, ssoEnabled: true, contractRef: 'MSA-2291' });
    const ctx = await actingFor('billing', org.id);
    const refused = await err(setPlanTier(ctx, { orgId: org.id, planTier: 'team_saas', version: 1 }));
    expect(refused).toMatchObject({
      status: 409,
      code: 'entitlements_decision_required',
      extra: { entitlements: { contractRef: 'MSA-2291' } },
    });
    expect(
      await kit.db.select().from(enterpriseEntitlements).where(eq(enterpriseEntitlements.orgId, org.id)),
    ).toHaveLength(1);
    // Removing entitlements needs a second person (lib/approvals).
    await approved(
      setPlanTier(ctx, { orgId: org.id, planTier: 'team_saas', version: 1, removeEntitlements: true }),
      org.id,
    );
    expect(
      await kit.db.select().from(enterpriseEntitlements).where(eq(enterpriseEntitlements.orgId, org.id)),
    ).toHaveLength(0);
    expect((await lastEntry()).diff).toMatchObject({
      removed_entitlements: { contractRef: 'MSA-2291', maxOutposts: 2 },
    });
  });
});

describe('setMfaPolicy', () => {
  it('knows what weakens a policy', () => {
    expect(
      weakens({ required: true, methods: ['fido2'] }, { required: true, methods: ['fido2', 'totp'] }),
    ).toBe(true);
    expect(weakens({ required: true, methods: ['fido2'] }, { required: false, methods: ['fido2'] })).toBe(
      true,
    );
    expect(
      weakens({ required: true, methods: ['fido2', 'totp'] }, { required: true, methods: ['fido2'] }),
    ).toBe(false);
    expect(weakens({ required: false, methods: ['sms'] }, { required: true, methods: ['sms'] })).toBe(false);
  });

  it('requires FIDO2, then weakens it only with a reason, flagged as weakening', async () => {
    const org = await newOrg('enterprise_saas');
    const ctx = await actingFor('admin', org.id);
    kit.forgetNotifications();
    const strict = await setMfaPolicy(ctx, {
      orgId: org.id,
      required: true,
      methods: ['fido2'],
      version: null,
    });
    expect(strict).toMatchObject({ mfa_required: true, mfa_allowed_methods: ['fido2'], mfa_source: 'org' });
    expect(await lastEntry()).toMatchObject({
      action: 'org.mfa_policy.updated',
      actingContextId: ctx.acting!.id,
      diff: { weakening: false },
    });
    await notifiedOf(org.id);

    const before = await auditCount();
    expect(
      await err(setMfaPolicy(ctx, { orgId: org.id, required: true, methods: ['fido2', 'totp'], version: 1 })),
    ).toMatchObject({ status: 400, message: expect.stringMatching(/^Reason: This change weakens/) });
    expect(await auditCount()).toBe(before);

    // A weakening needs a second person (lib/approvals).
    await approved(
      setMfaPolicy(ctx, {
        orgId: org.id,
        required: true,
        methods: ['fido2', 'totp'],
        version: 1,
        reason: 'Customer lost keys, SUP-7 approved by CISO',
      }),
      org.id,
    );
    expect(await lastEntry()).toMatchObject({
      diff: {
        weakening: true,
        reason: 'Customer lost keys, SUP-7 approved by CISO',
        before: { required: true, methods: ['fido2'], source: 'org' },
        after: { required: true, methods: ['fido2', 'totp'], source: 'org' },
      },
    });
  });

  it('drops the override for the tier default, which the view then reports as the source', async () => {
    const org = await newOrg('team_saas');
    const ctx = await actingFor('admin', org.id);
    await setMfaPolicy(ctx, { orgId: org.id, required: true, methods: ['fido2'], version: null });
    // The Team default allows more methods: a weakening, so a second person approves it.
    await approved(
      setMfaPolicy(ctx, {
        orgId: org.id,
        useTierDefault: true,
        version: 1,
        reason: 'Back to the Team tier default',
      }),
      org.id,
    );
    expect(await kit.db.select().from(orgMfaPolicy).where(eq(orgMfaPolicy.orgId, org.id))).toHaveLength(0);
    expect(await orgConfig(kit.db, org.id)).toMatchObject({
      mfa_source: 'tier',
      mfa_required: true,
      mfa_allowed_methods: ['fido2', 'totp', 'sms'],
    });
  });

  it('is refused to billing and to a stale version, and names bad fields', async () => {
    const org = await newOrg();
    expect(
      await err(
        setMfaPolicy(await actingFor('billing', org.id), {
          orgId: org.id,
          required: true,
          methods: ['fido2'],
          version: null,
        }),
      ),
    ).toMatchObject({ status: 403 });
    const ctx = await actingFor('admin', org.id);
    expect(
      await err(setMfaPolicy(ctx, { orgId: org.id, required: true, methods: [], version: null })),
    ).toMatchObject({ status: 400, message: expect.stringMatching(/^MFA methods: /) });
    expect(
      await err(
        setMfaPolicy(ctx, { orgId: org.id, required: true, methods: ['fido2', 'email'], version: null }),
      ),
    ).toMatchObject({ status: 400, message: expect.stringMatching(/^MFA methods \(item 2\): /) });
    await setMfaPolicy(ctx, { orgId: org.id, required: true, methods: ['fido2'], version: null });
    expect(
      await err(setMfaPolicy(ctx, { orgId: org.id, required: true, methods: ['fido2'], version: null })),
    ).toMatchObject({ status: 409 });
  });

  it('needs a fresh security-key check', async () => {
    const org = await newOrg();
    const ctx = await actingFor('admin', org.id);
    const stale = { ...ctx, authTime: new Date(Date.now() - 3600_000), stepUpAt: null };
    expect(
      await err(setMfaPolicy(stale, { orgId: org.id, required: true, methods: ['fido2'], version: null })),
    ).toMatchObject({ code: 'step_up_required' });
    expect(
      await err(setPlanTier(stale, { orgId: org.id, planTier: 'devpro_saas', version: 1 })),
    ).toMatchObject({ code: 'step_up_required' });
  });
});
