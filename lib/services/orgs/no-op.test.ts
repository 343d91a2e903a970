import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import {
  enterpriseEntitlements,
  organizations,
  orgMfaPolicy,
  outposts,
  planTiers,
  rateLimits,
} from '@/db/schema';
import { orgServiceKit } from '@/test/orgs';
import { setPlanDefaults } from '@/lib/services/plans/plan-defaults';
import { setEntitlements } from './entitlements';
import { setMfaPolicy } from './mfa-policy';
import { setOutpostInferenceMode } from './outpost-mode';
import { setPlanTier } from './plan-tier';
import { setRateLimits } from './rate-limits';
import { setSuspended } from './suspension';

/*
 * The no-op rule (issue 16, item 5): a write whose result equals what is there writes nothing: no row
 * changes, no version moves, no audit entry; it answers `{ changed: false, message }`. Each verb that can
 * be asked for what is there already is tried here, after a real change, so the rows exist and have moved.
 */

const kit = orgServiceKit();
const { newOrg, actingFor, auditCount } = kit;

const orgRow = async (id: string) =>
  (await kit.db.select().from(organizations).where(eq(organizations.id, id)))[0]!;

/** Runs `call`, which must be a no-op: the answer says so, and the rows `read` returns and the chain stay. */
async function noOp(call: () => Promise<unknown>, read: () => Promise<unknown>, says: RegExp) {
  const entries = await auditCount();
  const before = await read();
  const answer = await call();
  expect(answer).toEqual({ changed: false, message: expect.stringMatching(/^Nothing changed: /) });
  expect(JSON.parse(JSON.stringify(answer))).toMatchObject({ changed: false });
  expect((answer as { message: string }).message).toMatch(says);
  expect(await read()).toEqual(before);
  expect(await auditCount()).toBe(entries);
}

describe('a write of what is there already', () => {
  it('plan tier: the same tier', async () => {
    const org = await newOrg('team_saas');
    const ctx = await actingFor('billing', org.id);
    const moved = await setPlanTier(ctx, { orgId: org.id, planTier: 'devpro_saas', version: 1 });
    expect(moved).toMatchObject({ planTier: 'devpro_saas', version: 2 });
    await noOp(
      () => setPlanTier(ctx, { orgId: org.id, planTier: 'devpro_saas', version: 2 }),
      () => orgRow(org.id),
      /already on Developer Pro/,
    );
    // A stale version is still a conflict, not a no-op: the editor must see what changed.
    await expect(
      setPlanTier(ctx, { orgId: org.id, planTier: 'devpro_saas', version: 1 }),
    ).rejects.toMatchObject({ status: 409 });
  });

  it('kill switch: resuming an active organisation, suspending a suspended one for its reason', async () => {
    const org = await newOrg();
    const ctx = await actingFor('superadmin', org.id);
    const reason = 'Chargeback fraud under investigation, SEC-12';
    await noOp(
      () => setSuspended(ctx, { orgId: org.id, suspended: false, reason, version: 1 }),
      () => orgRow(org.id),
      /already active/,
    );
    // The suspension itself needs a second person (lib/approvals).
    await kit.approved(setSuspended(ctx, { orgId: org.id, suspended: true, reason, version: 1 }), org.id);
    await noOp(
      () => setSuspended(ctx, { orgId: org.id, suspended: true, reason, version: 2 }),
      () => orgRow(org.id),
      /already suspended/,
    );
    // Another reason is a change the kill switch does not make in place: refused, nothing written.
    const entries = await auditCount();
    await expect(
      setSuspended(ctx, { orgId: org.id, suspended: true, reason: 'Another reason, SEC-13', version: 2 }),
    ).rejects.toMatchObject({ status: 400, extra: { fields: { suspended: expect.any(String) } } });
    expect(await auditCount()).toBe(entries);
  });

  it('rate limits: the same values, with and without a row of its own', async () => {
    const org = await newOrg();
    const ctx = await actingFor('admin', org.id);
    const none = {
      requestsPerMinute: null,
      tokensPerMinute: null,
      concurrentRequests: null,
      monthlyRequestQuota: null,
    };
    const read = async () => ({
      org: await orgRow(org.id),
      limits: await kit.db.select().from(rateLimits).where(eq(rateLimits.orgId, org.id)),
    });
    // No row, and every limit left to the tier: nothing to insert.
    await noOp(() => setRateLimits(ctx, { orgId: org.id, ...none, version: null }), read, /rate limits/);
    expect((await read()).limits).toEqual([]);
    const limits = { ...none, requestsPerMinute: 90, monthlyRequestQuota: 5_000_000 };
    await setRateLimits(ctx, { orgId: org.id, ...limits, version: null });
    await noOp(() => setRateLimits(ctx, { orgId: org.id, ...limits, version: 1 }), read, /rate limits/);
    expect((await read()).limits[0]).toMatchObject({ requestsPerMinute: 90, version: 1 });
  });

  it('MFA policy: the same policy from the same source, methods in another order too', async () => {
    const org = await newOrg('team_saas');
    const ctx = await actingFor('admin', org.id);
    const read = () => kit.db.select().from(orgMfaPolicy).where(eq(orgMfaPolicy.orgId, org.id));
    await noOp(
      () => setMfaPolicy(ctx, { orgId: org.id, useTierDefault: true, version: null }),
      read,
      /follows its tier/,
    );
    await setMfaPolicy(ctx, { orgId: org.id, required: true, methods: ['fido2', 'totp'], version: null });
    await noOp(
      () => setMfaPolicy(ctx, { orgId: org.id, required: true, methods: ['totp', 'fido2'], version: 1 }),
      read,
      /MFA policy already/,
    );
    // The tier's values set as the organisation's own are a change of source, not a no-op.
    const [tier] = await kit.db.select().from(planTiers).where(eq(planTiers.key, 'team_saas'));
    const entries = await auditCount();
    await setMfaPolicy(ctx, {
      orgId: org.id,
      useTierDefault: true,
      version: 1,
      reason: 'Back to the tier default, SUP-9',
    });
    expect(await auditCount()).toBe(entries + 1);
    expect(tier).toBeDefined();
  });

  it('entitlements: the same entitlements', async () => {
    const org = await newOrg('enterprise_saas');
    const ctx = await actingFor('admin', org.id);
    const entitlements = {
      maxOutposts: 2,
      ssoEnabled: true,
      scimEnabled: false,
      siemConnectors: ['splunk_hec'],
      auditRetentionDays: 365,
      dedicatedSupport: false,
      contractRef: 'MSA-7',
    };
    await setEntitlements(ctx, { orgId: org.id, ...entitlements, version: null });
    await noOp(
      () => setEntitlements(ctx, { orgId: org.id, ...entitlements, contractRef: ' MSA-7 ', version: 1 }),
      () => kit.db.select().from(enterpriseEntitlements).where(eq(enterpriseEntitlements.orgId, org.id)),
      /entitlements already/,
    );
  });

  it('Outpost inference mode: the mode it runs in', async () => {
    const org = await newOrg('enterprise_outpost');
    const [outpost] = await kit.db
      .insert(outposts)
      .values({ orgId: org.id, name: 'pilot-westus3', region: 'westus3' })
      .returning();
    const ctx = await actingFor('superadmin', org.id);
    await noOp(
      () =>
        setOutpostInferenceMode(ctx, {
          orgId: org.id,
          outpostId: outpost!.id,
          inferenceMode: 'gpu',
          reason: 'GPU quota pending in westus3, vendor trial',
          version: 1,
        }),
      () => kit.db.select().from(outposts).where(eq(outposts.id, outpost!.id)),
      /pilot-westus3 already runs in GPU mode/,
    );
  });

  it('plan defaults: the same defaults', async () => {
    const admin = await kit.plainStaff('admin');
    const [t] = await kit.db.select().from(planTiers).where(eq(planTiers.key, 'devfree_saas'));
    const { key, description: _d, ...rest } = t!;
    await noOp(
      () => setPlanDefaults(admin, { tier: key, ...rest }),
      () => kit.db.select().from(planTiers).where(eq(planTiers.key, 'devfree_saas')),
      /defaults already/,
    );
  });
});
