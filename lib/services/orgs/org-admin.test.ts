import { desc, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  approvalRequests,
  auditLog,
  enterpriseEntitlements,
  organizations,
  outposts,
  rateLimitOverrides,
  rateLimits,
} from '@/db/schema';
import { type Permission, rolesWith } from '@/lib/auth/permissions';
import type { StaffRole } from '@/lib/auth/roles';
import type { StaffCtx } from '@/lib/auth/session';
import { orgConfig } from '@/lib/queries/org-config';
import { fieldLabel } from '@/lib/field-labels';
import { err, orgServiceKit } from '@/test/orgs';
import { setEntitlements } from './entitlements';
import { setOutpostInferenceMode } from './outpost-mode';
import { createRateLimitOverride, revokeRateLimitOverride } from './rate-limit-override';
import { setRateLimits } from './rate-limits';
import { setSuspended } from './suspension';
import { addSupportNote } from './support-notes';
import { written } from '@/test/approvals';

/** createRateLimitOverride, where no second person is needed: its own result. */
const createOverride = (...args: Parameters<typeof createRateLimitOverride>) =>
  written(createRateLimitOverride(...args));

const kit = orgServiceKit();
const { newOrg, actingFor, approved, staffFor, auditCount, lastEntry, notifiedOf } = kit;

const DAY = 86_400_000;
const inDays = (days: number) => new Date(Date.now() + days * DAY).toISOString();

/** Both identities, as every org-scoped entry must carry them. */
function identities(ctx: StaffCtx) {
  return {
    actorStaffId: ctx.staffId,
    actorEmail: ctx.email,
    actingOrgId: ctx.acting!.orgId,
    actingContextId: ctx.acting!.id,
  };
}

/** The matrix gives the permission to exactly `allowed`; every other role is refused and writes nothing. */
async function refusedToOthers(
  permission: Permission,
  allowed: StaffRole[],
  orgId: string,
  call: (ctx: StaffCtx) => Promise<unknown>,
) {
  expect(rolesWith(permission)).toEqual(allowed);
  for (const role of ['superadmin', 'admin', 'support', 'billing', 'auditor'] as const) {
    if (allowed.includes(role)) continue;
    const ctx = await staffFor(role, orgId);
    const before = await auditCount();
    expect(await err(call(ctx)), role).toMatchObject({ status: 403, code: 'forbidden' });
    expect(await auditCount()).toBe(before);
  }
}

/** With no acting context, and acting for another organisation: refused, nothing written. */
async function refusedOutsideActing(
  role: StaffRole,
  orgId: string,
  call: (ctx: StaffCtx) => Promise<unknown>,
) {
  const elsewhere = await actingFor(role, (await newOrg()).id);
  const plain = await kit.plainStaff(role);
  const before = await auditCount();
  for (const ctx of [plain, elsewhere]) {
    expect(await err(call(ctx))).toMatchObject({ status: 403, code: 'acting_required' });
  }
  expect(await auditCount()).toBe(before);
}

/** A call refused with 400 whose message starts with the field's label, never its key; nothing written. */
async function badField(field: string, call: () => Promise<unknown>, message?: RegExp) {
  const before = await auditCount();
  const e = await err(call());
  expect(e).toMatchObject({ status: 400, code: 'invalid' });
  const label = fieldLabel(field);
  expect(label).not.toBe(field);
  expect(e!.message.startsWith(`${label}: `), e!.message).toBe(true);
  expect(e!.extra.fields).toHaveProperty([field]);
  if (message) expect(e!.message).toMatch(message);
  expect(await auditCount()).toBe(before);
}

const stale = (ctx: StaffCtx): StaffCtx => ({
  ...ctx,
  authTime: new Date(Date.now() - 3600_000),
  stepUpAt: null,
});

/** Keyed two minutes ago: fresh enough for a sensitive write, not for one that blocks an organisation. */
const twoMinutesAgo = (ctx: StaffCtx): StaffCtx => ({
  ...ctx,
  authTime: new Date(Date.now() - 3600_000),
  stepUpAt: new Date(Date.now() - 120_000),
});

async function limitsRow(orgId: string) {
  const [row] = await kit.db.select().from(rateLimits).where(eq(rateLimits.orgId, orgId));
  return row;
}

const LIMITS = {
  requestsPerMinute: 2000,
  tokensPerMinute: null,
  concurrentRequests: 80,
  monthlyRequestQuota: 20_000_000,
};

describe('setRateLimits', () => {
  it('sets the organisation’s limits, audited with both identities and a diff, and notifies the gateway', async () => {
    const org = await newOrg('team_saas');
    const ctx = await actingFor('admin', org.id);
    kit.forgetNotifications();
    const row = await setRateLimits(ctx, { orgId: org.id, ...LIMITS, version: null });
    expect(row).toMatchObject({ ...LIMITS, version: 1 });
    const entry = await lastEntry();
    expect(entry).toMatchObject({
      action: 'org.rate_limits.updated',
      orgId: org.id,
      targetType: 'organization',
      targetId: org.id,
      outcome: 'success',
      ...identities(ctx),
    });
    expect(entry.diff).toEqual({
      before: {
        requestsPerMinute: null,
        tokensPerMinute: null,
        concurrentRequests: null,
        monthlyRequestQuota: null,
      },
      after: LIMITS,
    });
    await notifiedOf(org.id);
    expect(await orgConfig(kit.db, org.id)).toMatchObject({
      requests_per_minute: 2000,
      requests_per_minute_source: 'org',
      tokens_per_minute: 1_000_000,
      tokens_per_minute_source: 'tier',
      concurrent_requests: 80,
      concurrent_requests_source: 'org',
      monthly_request_quota: 20_000_000,
      monthly_request_quota_source: 'org',
    });

    // Back to the tier default for one limit: the row stays, with a null, and the view says "tier".
    await setRateLimits(ctx, { orgId: org.id, ...LIMITS, requestsPerMinute: null, version: 1 });
    expect((await lastEntry()).diff).toMatchObject({
      before: { requestsPerMinute: 2000 },
      after: { requestsPerMinute: null },
    });
    expect(await orgConfig(kit.db, org.id)).toMatchObject({
      requests_per_minute: 1000,
      requests_per_minute_source: 'tier',
    });
  });

  it('answers a stale version, or "no row" when there is one, with 409 and the current row', async () => {
    const org = await newOrg();
    const ctx = await actingFor('admin', org.id);
    await setRateLimits(ctx, { orgId: org.id, ...LIMITS, version: null });
    const before = await auditCount();
    for (const version of [null, 2]) {
      expect(
        await err(setRateLimits(ctx, { orgId: org.id, ...LIMITS, requestsPerMinute: 1, version })),
      ).toMatchObject({
        status: 409,
        code: 'conflict',
        extra: { current: { requestsPerMinute: 2000, version: 1 } },
      });
    }
    expect(await auditCount()).toBe(before);
    expect(await limitsRow(org.id)).toMatchObject({ requestsPerMinute: 2000, version: 1 });
  });

  it('is refused to support, billing and the auditor, writing nothing', async () => {
    const org = await newOrg();
    await refusedToOthers('orgs.rate_limits.write', ['superadmin', 'admin'], org.id, (ctx) =>
      setRateLimits(ctx, { orgId: org.id, ...LIMITS, version: null }),
    );
    expect(await limitsRow(org.id)).toBeUndefined();
  });

  it('is refused outside an acting context for the organisation', async () => {
    const org = await newOrg();
    await refusedOutsideActing('admin', org.id, (ctx) =>
      setRateLimits(ctx, { orgId: org.id, ...LIMITS, version: null }),
    );
    expect(await limitsRow(org.id)).toBeUndefined();
  });

  it('names each bad limit, and takes 0 ("blocked") only when it is confirmed', async () => {
    const org = await newOrg();
    const ctx = await actingFor('admin', org.id);
    const call = (over: object) => setRateLimits(ctx, { orgId: org.id, ...LIMITS, version: null, ...over });
    await badField('requestsPerMinute', () => call({ requestsPerMinute: -1 }), /cannot be negative/);
    await badField('tokensPerMinute', () => call({ tokensPerMinute: 1.5 }), /whole number/);
    await badField('concurrentRequests', () => call({ concurrentRequests: '80' }));
    await badField(
      'monthlyRequestQuota',
      () => call({ monthlyRequestQuota: 1e12 }),
      /At most 100,000,000,000/,
    );
    await badField('concurrentRequests', () => call({ concurrentRequests: undefined }));

    // 0 blocks the organisation like the kill switch: an admin may not, a superadmin after a step-up.
    expect(await err(call({ requestsPerMinute: 0, confirmBlocked: true }))).toMatchObject({
      status: 403,
      code: 'forbidden',
      message: expect.stringMatching(/orgs\.suspend/),
    });
    expect(await limitsRow(org.id)).toBeUndefined();
    await call({ requestsPerMinute: 1 });
    const superadmin = await actingFor('superadmin', org.id);
    const asSuperadmin = (c: StaffCtx, over: object) =>
      setRateLimits(c, { orgId: org.id, ...LIMITS, version: 1, ...over });
    expect(
      await err(asSuperadmin(stale(superadmin), { monthlyRequestQuota: 0, confirmBlocked: true })),
    ).toMatchObject({ status: 403, code: 'step_up_required' });
    await badField(
      'requestsPerMinute',
      () => asSuperadmin(superadmin, { requestsPerMinute: 0 }),
      /0 blocks all traffic/,
    );
    // …and a second person (lib/approvals).
    await approved(asSuperadmin(superadmin, { requestsPerMinute: 0, confirmBlocked: true }), org.id);
    expect((await lastEntry()).diff).toMatchObject({ blocked: true, after: { requestsPerMinute: 0 } });
    expect(await orgConfig(kit.db, org.id)).toMatchObject({
      requests_per_minute: 0,
      requests_per_minute_source: 'org',
    });
  });
});

describe('rate-limit overrides', () => {
  const override = (orgId: string, over: object = {}) => ({
    orgId,
    requestsPerMinute: 5000,
    expiresAt: inDays(7),
    reason: 'Quarter-end batch run, SUP-7',
    activeOverrideId: null,
    ...over,
  });

  it('lets support add a 7-day override inside an acting context; the view applies it', async () => {
    const org = await newOrg('team_saas');
    const admin = await actingFor('admin', org.id);
    await setRateLimits(admin, { orgId: org.id, ...LIMITS, version: null });
    const ctx = await actingFor('support', org.id);
    kit.forgetNotifications();
    const expiresAt = inDays(7);
    const created = await createOverride(ctx, override(org.id, { expiresAt }));
    expect(created).toMatchObject({ orgId: org.id, requestsPerMinute: 5000, createdBy: ctx.staffId });
    const entry = await lastEntry();
    expect(entry).toMatchObject({
      action: 'org.rate_limit_override.created',
      orgId: org.id,
      targetType: 'rate_limit_override',
      targetId: created.id,
      ...identities(ctx),
    });
    expect(entry.diff).toEqual({
      reason: 'Quarter-end batch run, SUP-7',
      before: null,
      after: {
        id: created.id,
        requestsPerMinute: 5000,
        tokensPerMinute: null,
        concurrentRequests: null,
        monthlyRequestQuota: null,
        expiresAt,
        reason: 'Quarter-end batch run, SUP-7',
      },
    });
    await notifiedOf(org.id);
    expect(await orgConfig(kit.db, org.id)).toMatchObject({
      requests_per_minute: 5000,
      requests_per_minute_source: 'override',
      tokens_per_minute: 1_000_000,
      tokens_per_minute_source: 'tier',
      concurrent_requests: 80,
      concurrent_requests_source: 'org',
      override_id: created.id,
    });
  });

  it('replaces the override in force only when the editor saw it (409 otherwise), revoking it audited', async () => {
    const org = await newOrg();
    const ctx = await actingFor('support', org.id);
    const first = await createOverride(ctx, override(org.id));
    const before = await auditCount();
    expect(await err(createOverride(ctx, override(org.id, { tokensPerMinute: 9 })))).toMatchObject({
      status: 409,
      code: 'conflict',
      extra: { current: { id: first.id, requestsPerMinute: 5000 } },
    });
    expect(await auditCount()).toBe(before);

    const second = await createOverride(
      ctx,
      override(org.id, { requestsPerMinute: null, tokensPerMinute: 3_000_000, activeOverrideId: first.id }),
    );
    const [created, revoked] = await kit.db.select().from(auditLog).orderBy(desc(auditLog.seq)).limit(2);
    expect(created).toMatchObject({
      action: 'org.rate_limit_override.created',
      targetId: second.id,
      diff: { before: { id: first.id }, after: { id: second.id, tokensPerMinute: 3_000_000 } },
    });
    expect(revoked).toMatchObject({
      action: 'org.rate_limit_override.revoked',
      targetId: first.id,
      ...identities(ctx),
      diff: { replaced_by: second.id, before: { id: first.id } },
    });
    expect(
      (await kit.db.select().from(rateLimitOverrides).where(eq(rateLimitOverrides.id, first.id)))[0]!
        .revokedAt,
    ).not.toBeNull();
    expect(await orgConfig(kit.db, org.id)).toMatchObject({
      override_id: second.id,
      requests_per_minute: 1000,
      requests_per_minute_source: 'tier',
      tokens_per_minute: 3_000_000,
      tokens_per_minute_source: 'override',
    });
  });

  it('revokes an override: audited, notified, and the view no longer applies it; a second revoke is 409', async () => {
    const org = await newOrg();
    const ctx = await actingFor('support', org.id);
    const created = await createOverride(ctx, override(org.id));
    kit.forgetNotifications();
    const revoked = await revokeRateLimitOverride(ctx, { orgId: org.id, overrideId: created.id });
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    expect(await lastEntry()).toMatchObject({
      action: 'org.rate_limit_override.revoked',
      orgId: org.id,
      targetType: 'rate_limit_override',
      targetId: created.id,
      ...identities(ctx),
      diff: {
        before: { revokedAt: null },
        after: { revokedAt: revoked.revokedAt!.toISOString() },
        override: { id: created.id, requestsPerMinute: 5000 },
      },
    });
    await notifiedOf(org.id);
    expect(await orgConfig(kit.db, org.id)).toMatchObject({
      override_id: null,
      requests_per_minute: 1000,
      requests_per_minute_source: 'tier',
    });
    const before = await auditCount();
    expect(await err(revokeRateLimitOverride(ctx, { orgId: org.id, overrideId: created.id }))).toMatchObject({
      status: 409,
      extra: { current: { id: created.id } },
    });
    expect(await auditCount()).toBe(before);
  });

  it('stops applying an override once it has expired, and cannot revoke it then', async () => {
    const org = await newOrg();
    const ctx = await actingFor('support', org.id);
    const created = await createOverride(ctx, override(org.id));
    expect((await orgConfig(kit.db, org.id))!.requests_per_minute_source).toBe('override');
    await kit.db
      .update(rateLimitOverrides)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(rateLimitOverrides.id, created.id));
    expect(await orgConfig(kit.db, org.id)).toMatchObject({
      override_id: null,
      requests_per_minute_source: 'tier',
    });
    expect(await err(revokeRateLimitOverride(ctx, { orgId: org.id, overrideId: created.id }))).toMatchObject({
      status: 409,
    });
    // With nothing in force, a new one needs no acknowledgement.
    await createOverride(ctx, override(org.id));
  });

  it('is refused to billing and the auditor, writing nothing', async () => {
    const org = await newOrg();
    const allowed: StaffRole[] = ['superadmin', 'admin', 'support'];
    await refusedToOthers('orgs.rate_limits.override', allowed, org.id, (ctx) =>
      createOverride(ctx, override(org.id)),
    );
    const existing = await createOverride(await actingFor('support', org.id), override(org.id));
    await refusedToOthers('orgs.rate_limits.override', allowed, org.id, (ctx) =>
      revokeRateLimitOverride(ctx, { orgId: org.id, overrideId: existing.id }),
    );
    const rows = await kit.db.select().from(rateLimitOverrides).where(eq(rateLimitOverrides.orgId, org.id));
    expect(rows).toHaveLength(1);
    expect(rows[0]!.revokedAt).toBeNull();
  });

  it('is refused outside an acting context for the organisation', async () => {
    const org = await newOrg();
    await refusedOutsideActing('support', org.id, (ctx) => createOverride(ctx, override(org.id)));
    const existing = await createOverride(await actingFor('support', org.id), override(org.id));
    await refusedOutsideActing('support', org.id, (ctx) =>
      revokeRateLimitOverride(ctx, { orgId: org.id, overrideId: existing.id }),
    );
    expect(
      (await kit.db.select().from(rateLimitOverrides).where(eq(rateLimitOverrides.orgId, org.id)))[0]!
        .revokedAt,
    ).toBeNull();
  });

  it('names bad fields: no limit, a short reason, an expiry in the past or beyond 30 days, an unconfirmed 0', async () => {
    const org = await newOrg();
    const ctx = await actingFor('admin', org.id);
    const call = (over: object) => createOverride(ctx, override(org.id, over));
    await badField('limits', () => call({ requestsPerMinute: null }), /at least one limit/);
    await badField('reason', () => call({ reason: 'because' }), /at least 10 characters/);
    await badField('expiresAt', () => call({ expiresAt: inDays(-1 / 24) }), /in the future/);
    await badField('expiresAt', () => call({ expiresAt: inDays(30.01) }), /at most 30 days/);
    await badField(
      'expiresAt',
      () => call({ expiresAt: 'next week' }),
      /Enter when the override expires, in UTC/,
    );
    expect(
      await kit.db.select().from(rateLimitOverrides).where(eq(rateLimitOverrides.orgId, org.id)),
    ).toEqual([]);
    await call({ expiresAt: inDays(29.99) });
  });

  it("caps support's overrides at 7 days and never lets them block; blocking needs orgs.suspend and a step-up", async () => {
    const org = await newOrg();
    const support = await actingFor('support', org.id);
    const call = (c: StaffCtx, over: object) => createOverride(c, override(org.id, over));
    await badField('expiresAt', () => call(support, { expiresAt: inDays(7.01) }), /at most 7 days/);
    const refused = [support, await actingFor('admin', org.id)];
    const superadmin = await actingFor('superadmin', org.id);
    const before = await auditCount();
    for (const c of refused) {
      const role = c.role;
      for (const zero of [{ requestsPerMinute: 0 }, { monthlyRequestQuota: 0 }]) {
        expect(await err(call(c, { ...zero, confirmBlocked: true })), role).toMatchObject({
          status: 403,
          message: expect.stringMatching(/orgs\.suspend/),
        });
      }
    }
    expect(await auditCount()).toBe(before);
    const blocking = { requestsPerMinute: null, monthlyRequestQuota: 0, confirmBlocked: true };
    expect(await err(call(stale(superadmin), blocking))).toMatchObject({ code: 'step_up_required' });
    await badField('monthlyRequestQuota', () => call(superadmin, { ...blocking, confirmBlocked: false }));
    expect(await auditCount()).toBe(before);
    await approved(createRateLimitOverride(superadmin, override(org.id, blocking)), org.id);
    expect(await lastEntry()).toMatchObject({
      action: 'org.rate_limit_override.created',
      outcome: 'success',
    });
    await call(support, { expiresAt: inDays(6.99), activeOverrideId: (await lastEntry()).targetId });
  });

  it('revokes only an override of the organisation acted for', async () => {
    const mine = await newOrg();
    const theirs = await newOrg();
    const elsewhere = await createOverride(await actingFor('support', theirs.id), override(theirs.id));
    const ctx = await actingFor('support', mine.id);
    expect(
      await err(revokeRateLimitOverride(ctx, { orgId: mine.id, overrideId: elsewhere.id })),
    ).toMatchObject({
      status: 404,
    });
    await badField('overrideId', () => revokeRateLimitOverride(ctx, { orgId: mine.id, overrideId: 'x' }));
  });
});

describe('setEntitlements', () => {
  const ENTITLEMENTS = {
    maxOutposts: 3,
    ssoEnabled: true,
    scimEnabled: false,
    siemConnectors: ['splunk_hec', 'sentinel'],
    auditRetentionDays: 730,
    dedicatedSupport: true,
    contractRef: 'MSA-2025-0042',
  };

  it('lets billing fill in an enterprise organisation’s entitlements, then edit them by version', async () => {
    const org = await newOrg('enterprise_saas');
    const ctx = await actingFor('billing', org.id);
    kit.forgetNotifications();
    const created = await setEntitlements(ctx, { orgId: org.id, ...ENTITLEMENTS, version: null });
    expect(created).toMatchObject({ ...ENTITLEMENTS, version: 1 });
    const entry = await lastEntry();
    expect(entry).toMatchObject({
      action: 'org.entitlements.updated',
      orgId: org.id,
      targetType: 'organization',
      targetId: org.id,
      ...identities(ctx),
    });
    expect(entry.diff).toEqual({ before: null, after: ENTITLEMENTS });
    await notifiedOf(org.id);

    await setEntitlements(ctx, {
      orgId: org.id,
      ...ENTITLEMENTS,
      scimEnabled: true,
      contractRef: '',
      version: 1,
    });
    expect((await lastEntry()).diff).toEqual({
      before: ENTITLEMENTS,
      after: { ...ENTITLEMENTS, scimEnabled: true, contractRef: null },
    });
    const before = await auditCount();
    expect(await err(setEntitlements(ctx, { orgId: org.id, ...ENTITLEMENTS, version: 1 }))).toMatchObject({
      status: 409,
      extra: { current: { scimEnabled: true, version: 2 } },
    });
    expect(await err(setEntitlements(ctx, { orgId: org.id, ...ENTITLEMENTS, version: null }))).toMatchObject({
      status: 409,
    });
    expect(await auditCount()).toBe(before);
  });

  it('refuses entitlements to a tier that is not an enterprise tier', async () => {
    const org = await newOrg('team_saas');
    const ctx = await actingFor('admin', org.id);
    const before = await auditCount();
    const e = await err(setEntitlements(ctx, { orgId: org.id, ...ENTITLEMENTS, version: null }));
    expect(e).toMatchObject({ status: 409, code: 'not_enterprise_tier', extra: { planTier: 'team_saas' } });
    expect(e!.message).toMatch(/only the enterprise tiers hold entitlements/);
    expect(await auditCount()).toBe(before);
    expect(
      await kit.db.select().from(enterpriseEntitlements).where(eq(enterpriseEntitlements.orgId, org.id)),
    ).toEqual([]);
  });

  it('is refused to support and the auditor, and outside an acting context, writing nothing', async () => {
    const org = await newOrg('enterprise_outpost');
    const call = (ctx: StaffCtx) => setEntitlements(ctx, { orgId: org.id, ...ENTITLEMENTS, version: null });
    await refusedToOthers('orgs.entitlements.write', ['superadmin', 'admin', 'billing'], org.id, call);
    await refusedOutsideActing('billing', org.id, call);
    expect(
      await kit.db.select().from(enterpriseEntitlements).where(eq(enterpriseEntitlements.orgId, org.id)),
    ).toEqual([]);
  });

  it('names bad fields, including fewer Outposts than the organisation runs', async () => {
    const org = await newOrg('enterprise_outpost');
    await kit.db.insert(outposts).values([
      { orgId: org.id, name: 'a', region: 'eastus2' },
      { orgId: org.id, name: 'b', region: 'westus3' },
    ]);
    const ctx = await actingFor('billing', org.id);
    const call = (over: object) =>
      setEntitlements(ctx, { orgId: org.id, ...ENTITLEMENTS, version: null, ...over });
    await badField('auditRetentionDays', () => call({ auditRetentionDays: 30 }), /At least 90 days/);
    await badField('auditRetentionDays', () => call({ auditRetentionDays: 4000 }), /At most 3650 days/);
    await badField('siemConnectors.0', () => call({ siemConnectors: ['splunk'] }));
    await badField('siemConnectors', () => call({ siemConnectors: ['elastic', 'elastic'] }), /once/);
    await badField('ssoEnabled', () => call({ ssoEnabled: 'yes' }));
    await badField('maxOutposts', () => call({ maxOutposts: 1 }), /already runs 2 Outposts/);
    expect(
      await kit.db.select().from(enterpriseEntitlements).where(eq(enterpriseEntitlements.orgId, org.id)),
    ).toEqual([]);
  });
});

describe('setOutpostInferenceMode', () => {
  async function outpostOrg() {
    const org = await newOrg('enterprise_outpost');
    const [outpost] = await kit.db
      .insert(outposts)
      .values({ orgId: org.id, name: 'pilot-westus3', region: 'westus3' })
      .returning();
    return { org, outpost: outpost! };
  }
  const REASON = 'GPU quota pending in westus3, vendor trial';

  it('lets a superadmin switch an Outpost to cpu_trial with a reason; audited, notified, in the view', async () => {
    const { org, outpost } = await outpostOrg();
    const requester = await actingFor('superadmin', org.id);
    // The approver (lib/approvals) executes the write: the entry is theirs, naming the requester.
    const ctx = await actingFor('superadmin', org.id);
    kit.forgetNotifications();
    const after = await approved(
      setOutpostInferenceMode(requester, {
        orgId: org.id,
        outpostId: outpost.id,
        inferenceMode: 'cpu_trial',
        reason: REASON,
        version: 1,
      }),
      org.id,
      ctx,
    );
    expect(after).toMatchObject({ inferenceMode: 'cpu_trial', version: 2 });
    const entry = await lastEntry();
    expect(entry).toMatchObject({
      action: 'org.outpost.inference_mode.updated',
      orgId: org.id,
      targetType: 'outpost',
      targetId: outpost.id,
      ...identities(ctx),
    });
    expect(entry.diff).toMatchObject({
      reason: REASON,
      outpost: 'pilot-westus3',
      before: { inferenceMode: 'gpu' },
      after: { inferenceMode: 'cpu_trial' },
      requested_by: requester.staffId,
      approved_by: ctx.staffId,
    });
    await notifiedOf(org.id);
    expect((await orgConfig(kit.db, org.id))!.outposts).toEqual([
      { outpost_id: outpost.id, name: 'pilot-westus3', inference_mode: 'cpu_trial' },
    ]);
    const before = await auditCount();
    expect(
      await err(
        setOutpostInferenceMode(ctx, {
          orgId: org.id,
          outpostId: outpost.id,
          inferenceMode: 'gpu',
          reason: REASON,
          version: 1,
        }),
      ),
    ).toMatchObject({ status: 409, extra: { current: { inferenceMode: 'cpu_trial', version: 2 } } });
    expect(await auditCount()).toBe(before);
  });

  it('is refused to every role but superadmin, outside an acting context, and without step-up', async () => {
    const { org, outpost } = await outpostOrg();
    const call = (ctx: StaffCtx) =>
      setOutpostInferenceMode(ctx, {
        orgId: org.id,
        outpostId: outpost.id,
        inferenceMode: 'cpu_trial',
        reason: REASON,
        version: 1,
      });
    await refusedToOthers('orgs.outpost_mode.write', ['superadmin'], org.id, call);
    await refusedOutsideActing('superadmin', org.id, call);
    const ctx = await actingFor('superadmin', org.id);
    const before = await auditCount();
    expect(await err(call(stale(ctx)))).toMatchObject({ code: 'step_up_required' });
    expect(await auditCount()).toBe(before);
    expect((await kit.db.select().from(outposts).where(eq(outposts.id, outpost.id)))[0]).toMatchObject({
      inferenceMode: 'gpu',
      version: 1,
    });
  });

  it('names bad fields, and finds only the organisation’s own Outposts', async () => {
    const { org, outpost } = await outpostOrg();
    const other = await outpostOrg();
    const ctx = await actingFor('superadmin', org.id);
    const call = (over: object) =>
      setOutpostInferenceMode(ctx, {
        orgId: org.id,
        outpostId: outpost.id,
        inferenceMode: 'cpu_trial',
        reason: REASON,
        version: 1,
        ...over,
      });
    await badField('reason', () => call({ reason: 'trial' }), /at least 10 characters/);
    await badField('inferenceMode', () => call({ inferenceMode: 'tpu' }));
    // The mode it runs in already is a no-op (no-op.test.ts), not a bad field.
    expect(await call({ inferenceMode: 'gpu' })).toMatchObject({ changed: false });
    const before = await auditCount();
    expect(await err(call({ outpostId: other.outpost.id }))).toMatchObject({ status: 404 });
    expect(await auditCount()).toBe(before);
  });
});

describe('setSuspended', () => {
  const REASON = 'Chargeback fraud under investigation, SEC-12';

  it('suspends with the reason and resumes, each audited and notified; the view carries the status', async () => {
    const org = await newOrg();
    const requester = await actingFor('superadmin', org.id);
    const ctx = await actingFor('superadmin', org.id);
    kit.forgetNotifications();
    const suspended = await approved(
      setSuspended(requester, { orgId: org.id, suspended: true, reason: REASON, version: 1 }),
      org.id,
      ctx,
    );
    expect(suspended).toMatchObject({ status: 'suspended', suspendedReason: REASON, version: 2 });
    const entry = await lastEntry();
    expect(entry).toMatchObject({
      action: 'org.suspended',
      orgId: org.id,
      targetType: 'organization',
      targetId: org.id,
      ...identities(ctx),
    });
    expect(entry.diff).toMatchObject({
      reason: REASON,
      before: { status: 'active', suspendedReason: null },
      after: { status: 'suspended', suspendedReason: REASON },
      requested_by: requester.staffId,
      approved_by: ctx.staffId,
    });
    await notifiedOf(org.id);
    expect(await orgConfig(kit.db, org.id)).toMatchObject({ status: 'suspended', suspended_reason: REASON });

    kit.forgetNotifications();
    const resumed = await approved(
      setSuspended(requester, {
        orgId: org.id,
        suspended: false,
        reason: 'Investigation closed, customer cleared',
        version: 2,
      }),
      org.id,
      ctx,
    );
    expect(resumed).toMatchObject({ status: 'active', suspendedReason: null, version: 3 });
    expect(await lastEntry()).toMatchObject({
      action: 'org.resumed',
      diff: {
        reason: 'Investigation closed, customer cleared',
        before: { status: 'suspended', suspendedReason: REASON },
        after: { status: 'active', suspendedReason: null },
      },
    });
    await notifiedOf(org.id);

    const before = await auditCount();
    expect(
      await err(setSuspended(ctx, { orgId: org.id, suspended: true, reason: REASON, version: 2 })),
    ).toMatchObject({ status: 409, extra: { current: { status: 'active', version: 3 } } });
    expect(await auditCount()).toBe(before);
  });

  it('is refused to every role but superadmin, outside an acting context, and without step-up', async () => {
    const org = await newOrg();
    const call = (ctx: StaffCtx) =>
      setSuspended(ctx, { orgId: org.id, suspended: true, reason: REASON, version: 1 });
    await refusedToOthers('orgs.suspend', ['superadmin'], org.id, call);
    await refusedOutsideActing('superadmin', org.id, call);
    const ctx = await actingFor('superadmin', org.id);
    const before = await auditCount();
    expect(await err(call(stale(ctx)))).toMatchObject({ code: 'step_up_required' });
    expect(await auditCount()).toBe(before);
    expect((await kit.db.select().from(organizations).where(eq(organizations.id, org.id)))[0]).toMatchObject({
      status: 'active',
      version: 1,
    });
  });

  it('blocks only after a key check within the last minute; a 0 limit likewise; resuming within five', async () => {
    const org = await newOrg();
    const ctx = twoMinutesAgo(await actingFor('superadmin', org.id));
    const before = await auditCount();
    expect(
      await err(setSuspended(ctx, { orgId: org.id, suspended: true, reason: REASON, version: 1 })),
    ).toMatchObject({ status: 403, code: 'step_up_required', message: expect.stringMatching(/60 seconds/) });
    expect(
      await err(
        setRateLimits(ctx, {
          orgId: org.id,
          ...LIMITS,
          monthlyRequestQuota: 0,
          confirmBlocked: true,
          version: null,
        }),
      ),
    ).toMatchObject({ status: 403, code: 'step_up_required' });
    expect(await auditCount()).toBe(before);
    expect(await kit.db.select().from(approvalRequests).where(eq(approvalRequests.orgId, org.id))).toEqual(
      [],
    );
    // The same check is fresh enough for what does not block.
    expect(
      await setSuspended(ctx, { orgId: org.id, suspended: false, reason: REASON, version: 1 }),
    ).toMatchObject({ changed: false });
    await written(setRateLimits(ctx, { orgId: org.id, ...LIMITS, monthlyRequestQuota: 5, version: null }));
  });

  it('names bad fields', async () => {
    const org = await newOrg();
    const ctx = await actingFor('superadmin', org.id);
    await badField('reason', () =>
      setSuspended(ctx, { orgId: org.id, suspended: true, reason: 'fraud', version: 1 }),
    );
    await badField('suspended', () => setSuspended(ctx, { orgId: org.id, reason: REASON, version: 1 }));
    // Resuming an active organisation is a no-op (no-op.test.ts), not a bad field.
    expect(
      await setSuspended(ctx, { orgId: org.id, suspended: false, reason: REASON, version: 1 }),
    ).toMatchObject({ changed: false, message: expect.stringMatching(/already active/) });
  });
});

describe('text with a NUL character', () => {
  it('is refused with 400 naming the field, and nothing is written', async () => {
    const org = await newOrg();
    const support = await actingFor('support', org.id);
    const superadmin = await actingFor('superadmin', org.id);
    await badField(
      'body',
      () => addSupportNote(support, { orgId: org.id, body: 'Called\u0000 the customer' }),
      /NUL/,
    );
    await badField(
      'reason',
      () =>
        createOverride(support, {
          orgId: org.id,
          requestsPerMinute: 10,
          expiresAt: inDays(1),
          reason: 'Quarter-end\u0000 batch run',
          activeOverrideId: null,
        }),
      /NUL/,
    );
    await badField(
      'reason',
      () =>
        setSuspended(superadmin, {
          orgId: org.id,
          suspended: true,
          reason: 'Fraud\u0000 investigation',
          version: 1,
        }),
      /NUL/,
    );
  });
});
