import { and, asc, eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { rows } from '@/db/client';
import { approvalRequests, auditLog, organizations, outposts, staffUsers } from '@/db/schema';
import { ApprovalPending, isDualControlled } from '@/lib/approvals/gate';
import { DUAL_CONTROLLED_VERBS } from '@/lib/approvals/verbs';
import { listApprovals } from '@/lib/queries/approvals';
import { DUAL_CONTROL } from '@/lib/auth/permissions';
import { parseConfig } from '@/lib/config';
import type { StaffCtx } from '@/lib/auth/session';
import { validateSession } from '@/lib/auth/session';
import { rotateSigningKey } from '@/lib/services/acting/platform-tokens';
import { rotateCheckpointKey, rotateHmacKey } from '@/lib/services/audit/keys';
import { setEntitlements } from '@/lib/services/orgs/entitlements';
import { setMfaPolicy } from '@/lib/services/orgs/mfa-policy';
import { setOutpostInferenceMode } from '@/lib/services/orgs/outpost-mode';
import { setPlanTier } from '@/lib/services/orgs/plan-tier';
import { createRateLimitOverride } from '@/lib/services/orgs/rate-limit-override';
import { setRateLimits } from '@/lib/services/orgs/rate-limits';
import { setSuspended } from '@/lib/services/orgs/suspension';
import { setPlanDefaults } from '@/lib/services/plans/plan-defaults';
import { inviteStaff } from '@/lib/services/staff/invites';
import { changeRole, setStaffStatus } from '@/lib/services/staff/manage';
import { err, orgServiceKit } from '@/test/orgs';
import { staffWithSession } from '@/test/staff';
import {
  approveRequest,
  breakGlass,
  expireApprovals,
  rejectRequest,
  reviewBreakGlass,
  withdrawRequest,
} from './approvals';

const kit = orgServiceKit();
const { newOrg, actingFor, auditCount } = kit;
const SUSPEND_REASON = 'Fraud investigation SEC-12';

async function orgRow(id: string) {
  const [org] = await kit.db.select().from(organizations).where(eq(organizations.id, id));
  return org!;
}

async function requestRow(id: string) {
  const [row] = await kit.db.select().from(approvalRequests).where(eq(approvalRequests.id, id));
  return row!;
}

/** The entries about one request: its own transitions, and the write that executed it. */
async function entriesOf(requestId: string) {
  return kit.db
    .select()
    .from(auditLog)
    .where(
      sql`${auditLog.targetId} = ${requestId} or ${auditLog.diff} ->> 'approval_request_id' = ${requestId}`,
    )
    .orderBy(asc(auditLog.seq));
}

function pendingOf(result: unknown) {
  expect(result).toBeInstanceOf(ApprovalPending);
  return (result as ApprovalPending).approval;
}

/** A superadmin acting for `orgId` asks to suspend it; nothing changes yet. */
async function requestSuspension(orgId: string) {
  const requester = await actingFor('superadmin', orgId);
  const org = await orgRow(orgId);
  const result = await setSuspended(requester, {
    orgId,
    suspended: true,
    reason: SUSPEND_REASON,
    version: org.version,
  });
  return { requester, request: pendingOf(result) };
}

/** Another session of the same person, as a second browser would have it. */
async function secondSession(ctx: StaffCtx): Promise<StaffCtx> {
  const other = await staffWithSession(kit.db, ctx.role);
  await kit.db.execute(
    sql`update staff_sessions set staff_id = ${ctx.staffId} where id = ${other.sessionId}`,
  );
  const r = await validateSession(kit.db, other.sessionId, { requestId: null, ip: null, userAgent: null });
  if (!r.ok) throw new Error(r.reason);
  return r.ctx;
}

describe('the dual-control list', () => {
  it('names every rule with a reason, and every dual-controlled verb is registered under its own name', () => {
    for (const [rule, reason] of Object.entries(DUAL_CONTROL))
      expect(reason.length, rule).toBeGreaterThan(20);
    for (const [name, verb] of Object.entries(DUAL_CONTROLLED_VERBS)) {
      expect((verb as unknown as { verb: string }).verb).toBe(name);
    }
  });
});

describe('each listed write refuses to happen on one person’s word', () => {
  it('stores a request with the dry run’s diff instead, audited, and changes nothing', async () => {
    const org = await newOrg('enterprise_saas');
    const superadmin = await actingFor('superadmin', org.id);
    const [outpost] = await kit.db
      .insert(outposts)
      .values({ orgId: org.id, name: 'Outpost A', region: 'eu-west-1' })
      .returning();
    const entitlements = await setEntitlements(superadmin, {
      orgId: org.id,
      maxOutposts: 3,
      ssoEnabled: true,
      scimEnabled: true,
      siemConnectors: ['splunk_hec'],
      auditRetentionDays: 365,
      dedicatedSupport: true,
      version: null,
    });
    expect(entitlements).not.toBeInstanceOf(ApprovalPending);
    const current = await orgRow(org.id);
    const lonely = await staffWithSession(kit.db, 'superadmin');
    const support = await staffWithSession(kit.db, 'support');
    // Only two active superadmins left: `lonely` and the one disabled.
    await kit.db.execute(
      sql`update staff_users set status = 'disabled' where role = 'superadmin' and id not in (${lonely.staffId}, ${superadmin.staffId})`,
    );

    const attempts: Array<[string, keyof typeof DUAL_CONTROL, () => Promise<unknown>]> = [
      [
        'suspend',
        'kill_switch',
        () =>
          setSuspended(superadmin, {
            orgId: org.id,
            suspended: true,
            reason: SUSPEND_REASON,
            version: current.version,
          }),
      ],
      [
        'limit 0',
        'blocking_limit',
        () =>
          setRateLimits(superadmin, {
            orgId: org.id,
            requestsPerMinute: 0,
            tokensPerMinute: null,
            concurrentRequests: null,
            monthlyRequestQuota: null,
            confirmBlocked: true,
            version: null,
          }),
      ],
      [
        'override 0',
        'blocking_limit',
        () =>
          createRateLimitOverride(superadmin, {
            orgId: org.id,
            requestsPerMinute: 0,
            tokensPerMinute: null,
            concurrentRequests: null,
            monthlyRequestQuota: null,
            confirmBlocked: true,
            expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
            reason: 'Abuse from this tenant, blocking for a day.',
            activeOverrideId: null,
          }),
      ],
      [
        'weaker MFA',
        'mfa_weakening',
        () =>
          setMfaPolicy(superadmin, {
            orgId: org.id,
            required: false,
            methods: ['fido2', 'totp', 'sms'],
            reason: 'Customer migration window.',
            version: null,
          }),
      ],
      [
        'weaker tier MFA',
        'mfa_weakening',
        async () => {
          const [tier] = await rows<{ version: number }>(
            kit.db,
            sql`select version from plan_tiers where key = 'team_saas'`,
          );
          return setPlanDefaults(superadmin, {
            tier: 'team_saas',
            label: 'Team',
            monthlyRequestQuota: 1000,
            requestsPerMinute: 10,
            tokensPerMinute: 1000,
            concurrentRequests: 2,
            mfaRequired: false,
            mfaAllowedMethods: ['fido2', 'totp', 'sms'],
            version: tier!.version,
          });
        },
      ],
      [
        'fewer entitlements',
        'entitlement_removal',
        () =>
          setEntitlements(superadmin, {
            orgId: org.id,
            maxOutposts: 3,
            ssoEnabled: false,
            scimEnabled: true,
            siemConnectors: ['splunk_hec'],
            auditRetentionDays: 365,
            dedicatedSupport: true,
            version: 'version' in entitlements ? entitlements.version : null,
          }),
      ],
      [
        'leave enterprise',
        'entitlement_removal',
        () =>
          setPlanTier(superadmin, {
            orgId: org.id,
            planTier: 'team_saas',
            removeEntitlements: true,
            version: current.version,
          }),
      ],
      [
        'cpu trial',
        'outpost_cpu_trial',
        () =>
          setOutpostInferenceMode(superadmin, {
            orgId: org.id,
            outpostId: outpost!.id,
            inferenceMode: 'cpu_trial',
            reason: 'Vendor trial for the proof of concept.',
            version: outpost!.version,
          }),
      ],
      [
        'invite admin',
        'privileged_staff',
        () => inviteStaff(superadmin, { email: `new-admin-${org.slug}@arbitex.ai`, role: 'admin' }),
      ],
      [
        'make superadmin',
        'privileged_staff',
        async () =>
          changeRole(superadmin, {
            staffId: support.staffId,
            role: 'superadmin',
            version: await staffVersion(support.staffId),
          }),
      ],
      ['rotate HMAC key', 'key_rotation', () => rotateHmacKey(superadmin, { keyId: 'test-k2' })],
      ['rotate checkpoint key', 'key_rotation', () => rotateCheckpointKey(superadmin, { keyId: 'test-cp2' })],
      ['rotate token key', 'key_rotation', () => rotateSigningKey(superadmin)],
      [
        'disable the last peer',
        'last_superadmin_peer',
        async () =>
          setStaffStatus(lonely, {
            staffId: superadmin.staffId,
            status: 'disabled',
            version: await staffVersion(superadmin.staffId),
          }),
      ],
    ];
    /** Everything the attempts could change. */
    const snapshot = () =>
      rows(
        kit.db,
        sql`select
        (select row_to_json(o) from organizations o where o.id = ${org.id}) as org,
        (select count(*) from rate_limits where org_id = ${org.id}) as limits,
        (select count(*) from rate_limit_overrides where org_id = ${org.id}) as overrides,
        (select count(*) from org_mfa_policy where org_id = ${org.id}) as mfa,
        (select row_to_json(e) from enterprise_entitlements e where e.org_id = ${org.id}) as ent,
        (select row_to_json(t) from plan_tiers t where t.key = 'team_saas') as tier,
        (select inference_mode from outposts where id = ${outpost!.id}) as mode,
        (select count(*) from staff_invites) as invites,
        (select json_agg(json_build_object('id', id, 'role', role, 'status', status) order by id) from staff_users) as staff,
        (select count(*) from token_signing_keys) as signing_keys`,
      );
    for (const [what, rule, attempt] of attempts) {
      const before = await snapshot();
      const request = pendingOf(await attempt());
      expect(request.rule, what).toBe(rule);
      expect(await snapshot(), what).toEqual(before);
      const row = await requestRow(request.id);
      expect(row, what).toMatchObject({ status: 'pending', rule });
      const entries = await entriesOf(request.id);
      expect(
        entries.map((e) => e.action),
        what,
      ).toEqual(['approval.requested']);
    }
  });
});

async function staffVersion(staffId: string): Promise<number> {
  const [row] = await kit.db.select().from(staffUsers).where(eq(staffUsers.id, staffId));
  return row!.version;
}

/** The request's audit trail is its request and `action`, and the organisation was not suspended. */
async function expectEndedWith(requestId: string, orgId: string, action: string) {
  expect((await entriesOf(requestId)).map((e) => e.action)).toEqual(['approval.requested', action]);
  expect(await orgRow(orgId)).toMatchObject({ status: 'active' });
}

describe('an approval', () => {
  it('by another person with the permission and a fresh key check executes the stored input once, naming both', async () => {
    const org = await newOrg();
    const { requester, request } = await requestSuspension(org.id);
    const approver = await actingFor('superadmin', org.id);
    const done = await approveRequest(approver, { id: request.id });
    expect(done.request).toBe(request.id);
    const after = await orgRow(org.id);
    expect(after).toMatchObject({ status: 'suspended', suspendedReason: SUSPEND_REASON });
    expect(await requestRow(request.id)).toMatchObject({ status: 'approved', decidedBy: approver.staffId });

    const entries = await entriesOf(request.id);
    expect(entries.map((e) => e.action)).toEqual(['approval.requested', 'org.suspended']);
    const executed = entries[1]!;
    expect(executed).toMatchObject({
      actorStaffId: approver.staffId,
      actingOrgId: org.id,
      orgId: org.id,
    });
    expect(executed.diff).toMatchObject({
      approval_request_id: request.id,
      requested_by: requester.staffId,
      requested_by_email: requester.email,
      approved_by: approver.staffId,
      reason: SUSPEND_REASON,
      before: { status: 'active' },
      after: { status: 'suspended' },
    });
    const diff = executed.diff as Record<string, string>;
    expect(Date.parse(diff.requester_step_up_at!)).toBeGreaterThan(0);
    expect(Date.parse(diff.approver_step_up_at!)).toBeGreaterThan(0);

    // Approving again: the request is decided.
    expect(await err(approveRequest(approver, { id: request.id }))).toMatchObject({
      status: 409,
      code: 'request_decided',
    });
  });

  it('is refused to the requester, in any of their sessions, without a fresh key check, and to a role without the permission', async () => {
    const org = await newOrg();
    const { requester, request } = await requestSuspension(org.id);
    const again = await secondSession(requester);
    const stale = await actingFor('superadmin', org.id, { signedInSecondsAgo: 3600 });
    const admin = await actingFor('admin', org.id);
    const before = await auditCount();
    expect(await err(approveRequest(requester, { id: request.id }))).toMatchObject({ status: 403 });
    expect(await err(approveRequest(again, { id: request.id }))).toMatchObject({ status: 403 });
    expect(await err(approveRequest(stale, { id: request.id }))).toMatchObject({
      status: 403,
      code: 'step_up_required',
    });
    expect(await err(approveRequest(admin, { id: request.id }))).toMatchObject({
      status: 403,
      message: expect.stringMatching(/orgs\.suspend/),
    });
    expect(await auditCount()).toBe(before);
    expect(await orgRow(org.id)).toMatchObject({ status: 'active' });
    expect(await requestRow(request.id)).toMatchObject({ status: 'pending' });
  });

  it('after expiry is refused; the expiry is audited exactly once', async () => {
    const org = await newOrg();
    const { request } = await requestSuspension(org.id);
    await kit.db
      .update(approvalRequests)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(approvalRequests.id, request.id));
    const approver = await actingFor('superadmin', org.id);
    expect(await err(approveRequest(approver, { id: request.id }))).toMatchObject({
      status: 409,
      code: 'request_expired',
    });
    await expireApprovals(kit.db);
    await expireApprovals(kit.db);
    expect(await err(approveRequest(approver, { id: request.id }))).toMatchObject({ status: 409 });
    await expectEndedWith(request.id, org.id, 'approval.expired');
  });

  it('on an organisation that changed since the request fails with 409, and the request ends', async () => {
    const org = await newOrg();
    const { request } = await requestSuspension(org.id);
    await kit.db
      .update(organizations)
      .set({ version: sql`${organizations.version} + 1` })
      .where(eq(organizations.id, org.id));
    const approver = await actingFor('superadmin', org.id);
    expect(await err(approveRequest(approver, { id: request.id }))).toMatchObject({ status: 409 });
    expect(await requestRow(request.id)).toMatchObject({ status: 'failed', decidedBy: approver.staffId });
    await expectEndedWith(request.id, org.id, 'approval.failed');
  });

  it('twice at once executes the write once', async () => {
    const org = await newOrg();
    const { request } = await requestSuspension(org.id);
    const [a, b] = [await actingFor('superadmin', org.id), await actingFor('superadmin', org.id)];
    const outcomes = await Promise.allSettled([
      approveRequest(a, { id: request.id }),
      approveRequest(b, { id: request.id }),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({
      status: 409,
      message: expect.stringMatching(/decided meanwhile|can no longer be decided/),
    });
    const executed = await kit.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.action, 'org.suspended'), eq(auditLog.orgId, org.id)));
    expect(executed).toHaveLength(1);
    expect((await requestRow(request.id)).status).toBe('approved');
  });
});

describe('a request', () => {
  it('is withdrawn only by its requester, and rejected with a reason by someone who could approve it', async () => {
    const org = await newOrg();
    const first = await requestSuspension(org.id);
    const other = await actingFor('superadmin', org.id);
    expect(await err(withdrawRequest(other, { id: first.request.id }))).toMatchObject({ status: 403 });
    await withdrawRequest(first.requester, { id: first.request.id });
    expect(await requestRow(first.request.id)).toMatchObject({ status: 'withdrawn' });

    const second = await requestSuspension(org.id);
    expect(
      await err(
        rejectRequest(second.requester, { id: second.request.id, reason: 'Changed my mind entirely.' }),
      ),
    ).toMatchObject({ status: 403 });
    expect(await err(rejectRequest(other, { id: second.request.id, reason: 'no' }))).toMatchObject({
      status: 400,
      message: expect.stringMatching(/reason/i),
    });
    await rejectRequest(other, { id: second.request.id, reason: 'No incident ticket for this.' });
    expect(await requestRow(second.request.id)).toMatchObject({
      status: 'rejected',
      decidedBy: other.staffId,
      decisionReason: 'No incident ticket for this.',
    });
    expect(await err(approveRequest(other, { id: second.request.id }))).toMatchObject({ status: 409 });
    for (const r of [first, second]) {
      const actions = (await entriesOf(r.request.id)).map((e) => e.action);
      expect(actions).toEqual([
        'approval.requested',
        r === first ? 'approval.withdrawn' : 'approval.rejected',
      ]);
    }
    expect(await orgRow(org.id)).toMatchObject({ status: 'active' });
  });
});

describe('break-glass', () => {
  it('lets a superadmin alone execute their own request with a reason and a ticket; another superadmin reviews it', async () => {
    const org = await newOrg();
    const { requester, request } = await requestSuspension(org.id);
    expect(
      await err(breakGlass(requester, { id: request.id, reason: 'Too short.', ticketRef: 'INC-1' })),
    ).toMatchObject({ status: 400, message: expect.stringMatching(/20 characters/) });
    const other = await actingFor('superadmin', org.id);
    expect(
      await err(
        breakGlass(other, {
          id: request.id,
          reason: 'Active fraud, nobody else online.',
          ticketRef: 'INC-1',
        }),
      ),
    ).toMatchObject({ status: 403 });
    await breakGlass(requester, {
      id: request.id,
      reason: 'Active fraud, nobody else online.',
      ticketRef: 'INC-1',
    });
    expect(await orgRow(org.id)).toMatchObject({ status: 'suspended' });
    expect(await requestRow(request.id)).toMatchObject({ status: 'break_glass', reviewedAt: null });
    const executed = (await entriesOf(request.id))[1]!;
    expect(executed.action).toBe('org.suspended');
    expect(executed.diff).toMatchObject({
      break_glass: true,
      break_glass_reason: 'Active fraud, nobody else online.',
      ticket_ref: 'INC-1',
      requested_by: requester.staffId,
    });

    expect(await err(reviewBreakGlass(requester, { id: request.id }))).toMatchObject({ status: 403 });
    await reviewBreakGlass(other, { id: request.id });
    expect(await requestRow(request.id)).toMatchObject({ reviewedBy: other.staffId });
    expect(await err(reviewBreakGlass(other, { id: request.id }))).toMatchObject({ status: 409 });
    expect((await entriesOf(request.id)).map((e) => e.action)).toEqual([
      'approval.requested',
      'org.suspended',
      'approval.break_glass_reviewed',
    ]);
  });
});

describe('the rule list per deployment', () => {
  it('only gets stricter: optional rules can be added, the listed ones always apply, unknown names are refused', () => {
    const none = { APPROVAL_EXTRA_RULES: [] };
    expect(isDualControlled('plan_tier_change', none)).toBe(false);
    expect(isDualControlled('plan_tier_change', { APPROVAL_EXTRA_RULES: ['plan_tier_change'] })).toBe(true);
    for (const rule of Object.keys(DUAL_CONTROL) as Array<keyof typeof DUAL_CONTROL>) {
      expect(isDualControlled(rule, none), rule).toBe(true);
    }
    expect(
      parseConfig({ APPROVAL_EXTRA_RULES: 'staff_invite, plan_tier_change' }).APPROVAL_EXTRA_RULES,
    ).toEqual(['staff_invite', 'plan_tier_change']);
    // A listed rule is not optional: naming it (to switch it off, or at all) is refused.
    expect(() => parseConfig({ APPROVAL_EXTRA_RULES: 'kill_switch' })).toThrow(/APPROVAL_EXTRA_RULES/);
    expect(() => parseConfig({ APPROVAL_TTL_S: '10' })).toThrow(/APPROVAL_TTL_S/);
  });
});

describe('a break-glass review', () => {
  it('is refused to the staff member the break-glass made or changed', async () => {
    const requester = await staffWithSession(kit.db, 'superadmin');
    const target = await staffWithSession(kit.db, 'support');
    const pending = (await changeRole(requester, {
      staffId: target.staffId,
      role: 'superadmin',
      version: await staffVersion(target.staffId),
    })) as ApprovalPending;
    await breakGlass(requester, {
      id: pending.approval.id,
      reason: 'Only superadmin on call, need a second one now.',
      ticketRef: 'INC-77',
    });
    const promoted = await staffWithSession(kit.db, 'superadmin');
    await kit.db.execute(
      sql`update staff_sessions set staff_id = ${target.staffId} where id = ${promoted.sessionId}`,
    );
    const r = await validateSession(kit.db, promoted.sessionId, {
      requestId: null,
      ip: null,
      userAgent: null,
    });
    if (!r.ok) throw new Error(r.reason);
    expect(r.ctx.role).toBe('superadmin');
    expect(await err(reviewBreakGlass(r.ctx, { id: pending.approval.id }))).toMatchObject({
      status: 403,
      message: expect.stringMatching(/your own account/),
    });
    // /approvals offers the review to another superadmin, not to them.
    const reviewer = await staffWithSession(kit.db, 'superadmin');
    const offered = async (ctx: StaffCtx) =>
      (await listApprovals(ctx, { status: 'break_glass' })).find((q) => q.id === pending.approval.id)?.may
        .review;
    expect(await offered(r.ctx)).toBe(false);
    expect(await offered(reviewer)).toBe(true);
    await reviewBreakGlass(reviewer, { id: pending.approval.id });
    expect(await requestRow(pending.approval.id)).toMatchObject({ status: 'break_glass' });
    expect((await requestRow(pending.approval.id)).reviewedAt).not.toBeNull();
  });
});
