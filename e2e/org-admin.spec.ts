/**
 * Organisation administration through the organisation page, one role at a time, each inside an acting
 * context: every step checks the page's own answer, the value after a reload, and the audit entry, and every
 * page visited passes axe. Each test works on a demo organisation no other spec touches.
 */
import type { Locator, Page } from '@playwright/test';
import { expectAccessible } from './a11y';
import { expect, test } from './fixtures';
import { actFor, approve, pendingRequestId, REQUESTED } from './approvals';
import { openOrg, startActing, stopActing, withStepUp } from './orgs';
import { STEP_UP_MAX_AGE_S } from './settings';
import { asSuperadmin, confirmStepUp, newStaffMember, signIn } from './staff';

interface AuditRow {
  outcome: string;
  staff: string;
  actingFor: string;
  /** The Change column's recorded diff: the entry's diff and facts (`before`, `after`, `reason`, `weakening`…). */
  details: Record<string, unknown> | null;
}

/** The organisation's entries of `action`, newest first, as /audit lists them (checked with axe). */
async function auditEntries(page: Page, action: string, orgId: string): Promise<AuditRow[]> {
  await page.goto(`/audit?${new URLSearchParams({ action, org: orgId })}`);
  const rows = page.locator(`tr[data-action="${action}"]`);
  await expect(rows.first()).toBeVisible();
  await expectAccessible(page);
  // Columns: seq, time, action, outcome, staff, acting for, target, change. The change cell summarises the
  // diff on one line and expands to the before/after table and the recorded diff as JSON ([data-diff-json]).
  return rows.evaluateAll((trs) =>
    trs.map((tr) => {
      const td = Array.from(tr.querySelectorAll(':scope > td'), (c) => c.textContent ?? '');
      // The acting-for cell shows the organisation's name and a short id; the id is its data attribute.
      const actingFor =
        tr.querySelector('td[data-acting-org-id]')?.getAttribute('data-acting-org-id') ?? td[5]!;
      const json = tr.querySelector('[data-diff-json]')?.textContent;
      return { outcome: td[3]!, staff: td[4]!, actingFor, details: json ? JSON.parse(json) : null };
    }),
  );
}

/** One of the organisation page's sections, by its heading. */
const section = (page: Page, name: string) => page.getByRole('region', { name, exact: true });

/** Moves the focus with Tab, as a keyboard user would, until `target` has it. */
async function tabTo(page: Page, target: Locator) {
  for (let i = 0; i < 150; i++) {
    if (await target.evaluate((el) => el === document.activeElement)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`Tab never reached ${target.toString()}`);
}

test('an admin makes the MFA policy require FIDO2, then weakens it with step-up and a reason', async ({
  page,
  authenticator,
  browser,
}) => {
  // A wait past the step-up age, then the approval in a second browser: longer than the default minute on a
  // loaded two-core machine.
  test.setTimeout(150_000);
  const org = 'Sterling Vance Capital Markets';
  const first = await asSuperadmin(page, authenticator);
  const admin = await newStaffMember(browser, page, 'admin');
  const p = admin.page;
  await signIn(p);
  const orgId = await openOrg(p, org);
  await expectAccessible(p);
  await startActing(p, org, 'SEC-501');
  const mfa = section(p, 'MFA policy');
  // The enterprise tier's default: required, FIDO2 or TOTP.
  await expect(mfa.getByTestId('mfa-effective')).toHaveText(
    'Required; FIDO2 security key, Authenticator app (TOTP) (from the plan tier)',
  );
  await expectAccessible(p);

  // Stronger: FIDO2 only. No reason needed.
  await mfa.getByLabel('MFA required').check();
  await mfa.getByLabel('FIDO2 security key').check();
  await mfa.getByLabel('Authenticator app (TOTP)').uncheck();
  await mfa.getByLabel('SMS', { exact: true }).uncheck();
  await withStepUp(
    p,
    () => mfa.getByRole('button', { name: 'Save MFA policy' }).click(),
    'The MFA policy is saved.',
  );
  // The step-up, if there was one, happened before this.
  const freshAt = Date.now();
  await p.reload();
  await expect(mfa.getByTestId('mfa-effective')).toHaveText(
    'Required; FIDO2 security key (from the organisation)',
  );
  await expect(mfa.getByLabel('Authenticator app (TOTP)')).not.toBeChecked();
  await expectAccessible(p);
  await expect(section(p, 'Audit').locator('tr[data-action="org.mfa_policy.updated"]')).toHaveCount(1);

  // Weaker: TOTP allowed again. Wait until the last security-key check is too old for a sensitive write.
  await p.waitForTimeout(Math.max(0, freshAt + (STEP_UP_MAX_AGE_S + 1) * 1000 - Date.now()));
  await mfa.getByLabel('Authenticator app (TOTP)').check();
  await mfa.getByRole('button', { name: 'Save MFA policy' }).click();
  await confirmStepUp(p);
  // Without a reason the change is refused, with the error on the field.
  const reason = mfa.getByLabel(/^Reason/);
  await expect(reason).toHaveAttribute('aria-invalid', 'true');
  await expect(reason).toHaveAccessibleDescription(
    'This change weakens the MFA policy: say why (at least 10 characters).',
  );
  await expect(mfa.getByLabel('Authenticator app (TOTP)')).toBeChecked();
  await expectAccessible(p);
  await reason.fill('Customer’s field staff lost their keys; TOTP until replacements ship (SEC-501)');
  // A weaker MFA policy needs a second person (#15): the save stores a request, and changes nothing yet.
  await withStepUp(p, () => mfa.getByRole('button', { name: 'Save MFA policy' }).click(), REQUESTED);
  await p.reload();
  await expect(mfa.getByTestId('mfa-effective')).toHaveText(
    'Required; FIDO2 security key (from the organisation)',
  );
  const requestId = await pendingRequestId(mfa);
  await expect(mfa.locator('[data-pending-request]')).toContainText('Weaken the MFA policy of');
  await expect(mfa.locator('[data-pending-request]')).toContainText(`asked by ${admin.email}`);
  await expectAccessible(p);
  await expect(section(p, 'Audit').locator('tr[data-action="org.mfa_policy.updated"]')).toHaveCount(1);

  // The first superadmin, in their own browser, acts for the organisation and approves it on /approvals.
  await actFor(page, org, 'SEC-501');
  await approve(page, requestId);
  await p.reload();
  await expect(mfa.getByTestId('mfa-effective')).toHaveText(
    'Required; FIDO2 security key, Authenticator app (TOTP) (from the organisation)',
  );
  await expect(mfa.locator('[data-pending-request]')).toHaveCount(0);
  await expectAccessible(p);
  await expect(section(p, 'Audit').locator('tr[data-action="org.mfa_policy.updated"]')).toHaveCount(2);

  // The audit entries: the weakening one marked, with its reason, written by the approver (acting for the
  // organisation) and naming both people; the strengthening one not.
  expect(await auditEntries(p, 'org.mfa_policy.updated', orgId)).toEqual([
    {
      outcome: 'success',
      staff: first.email,
      actingFor: orgId,
      details: {
        weakening: true,
        reason: 'Customer’s field staff lost their keys; TOTP until replacements ship (SEC-501)',
        before: { required: true, methods: ['fido2'], source: 'org' },
        after: { required: true, methods: ['fido2', 'totp'], source: 'org' },
        approval_request_id: requestId,
        requested_by: admin.staffId,
        requested_by_email: admin.email,
        requester_step_up_at: expect.any(String),
        approved_by: first.staffId,
        approved_by_email: first.email,
        approver_step_up_at: expect.any(String),
      },
    },
    {
      outcome: 'success',
      staff: admin.email,
      actingFor: orgId,
      details: {
        weakening: false,
        before: { required: true, methods: ['fido2', 'totp'], source: 'tier' },
        after: { required: true, methods: ['fido2'], source: 'org' },
      },
    },
  ]);
  await p.goto(`/orgs/${orgId}`);
  await stopActing(p);
  await page.goto(`/orgs/${orgId}`);
  await stopActing(page);
  await admin.close();
});

test('a support user adds a 7-day rate-limit override inside an acting context, with the keyboard alone', async ({
  page,
  authenticator,
  browser,
}) => {
  const org = 'Tri-County Legal Aid Society';
  await asSuperadmin(page, authenticator);
  const support = await newStaffMember(browser, page, 'support');
  const p = support.page;
  await signIn(p);
  const orgId = await openOrg(p, org);
  await startActing(p, org, 'SUP-7007');
  const limits = section(p, 'Rate limits and quota');
  // Support may not set the organisation's own limits, only overrides.
  await expect(limits.getByRole('button', { name: 'Save rate limits' })).toHaveCount(0);
  await expectAccessible(p);

  // From the top of the page, Tab to each field, type, Space on the preset, Enter to submit.
  await p.reload();
  await expect(limits.getByRole('button', { name: 'Add override' })).toBeVisible();
  await tabTo(p, p.locator('#override-requestsPerMinute'));
  await p.keyboard.type('900');
  await p.keyboard.press('Tab');
  await p.keyboard.type('90000');
  await tabTo(p, limits.getByRole('button', { name: '7 days', exact: true }));
  await p.keyboard.press('Space');
  await expect(p.locator('#override-expires')).toHaveValue(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  await tabTo(p, p.locator('#override-reason'));
  await p.keyboard.type('Onboarding batch import this week (SUP-7007)');
  await p.keyboard.press('Enter');
  await expect(limits.getByText('The override is in force.')).toBeVisible();
  await expectAccessible(p);

  await p.reload();
  const rpm = limits.getByTestId('effective-requestsPerMinute');
  await expect(rpm).toHaveText('900 from the override');
  await expect(limits.getByTestId('effective-tokensPerMinute')).toHaveText('90,000 from the override');
  // Not overridden: still the plan tier's.
  await expect(limits.getByTestId('effective-concurrentRequests')).toHaveText('5 from the plan tier');
  const entry = limits.getByRole('list', { name: 'Overrides' }).getByRole('listitem');
  await expect(entry).toHaveCount(1);
  const until = /In force until (\S+ \S+) UTC/.exec((await entry.textContent()) ?? '')?.[1];
  const expiresIn = new Date(`${until!.replace(' ', 'T')}Z`).getTime() - Date.now();
  expect(expiresIn).toBeGreaterThan(7 * 86_400_000 - 10 * 60_000);
  expect(expiresIn).toBeLessThanOrEqual(7 * 86_400_000);
  await expect(entry).toContainText(`Onboarding batch import this week (SUP-7007) · by ${support.email}`);
  await expectAccessible(p);

  const [created, ...older] = await auditEntries(p, 'org.rate_limit_override.created', orgId);
  expect(older).toEqual([]);
  expect(created).toMatchObject({
    outcome: 'success',
    staff: support.email,
    actingFor: orgId,
    details: {
      reason: 'Onboarding batch import this week (SUP-7007)',
      before: null,
      after: {
        requestsPerMinute: 900,
        tokensPerMinute: 90_000,
        concurrentRequests: null,
        monthlyRequestQuota: null,
        reason: 'Onboarding batch import this week (SUP-7007)',
      },
    },
  });
  await p.goto(`/orgs/${orgId}`);
  await stopActing(p);
  await support.close();
});

test('billing moves an organisation to enterprise_outpost, fills in its entitlements, and moves it back', async ({
  page,
  authenticator,
  browser,
}) => {
  // The move back now waits for an approval in a second browser: longer than the default minute on a loaded
  // two-core machine.
  test.setTimeout(150_000);
  const org = 'Prairie Farm Mutual Insurance';
  const first = await asSuperadmin(page, authenticator);
  const billing = await newStaffMember(browser, page, 'billing');
  const p = billing.page;
  await signIn(p);
  const orgId = await openOrg(p, org);
  await startActing(p, org, 'BIL-4410');
  // A team organisation has no entitlements section.
  await expect(section(p, 'Enterprise entitlements')).toHaveCount(0);
  await expectAccessible(p);

  await p.getByRole('combobox', { name: 'Plan tier' }).selectOption('enterprise_outpost');
  await withStepUp(
    p,
    () => p.getByRole('button', { name: 'Change plan tier' }).click(),
    'The plan tier is changed.',
  );
  const entitlements = section(p, 'Enterprise entitlements');
  await expect(entitlements).toBeVisible();
  await expect(section(p, 'Outposts')).toContainText('No Outposts registered.');
  await expect(p.getByRole('heading', { level: 1 }).locator('..')).toContainText('Enterprise Outpost');
  await expectAccessible(p);

  await entitlements.getByLabel('Max Outposts').fill('2');
  await entitlements.getByLabel(/^Audit retention/).fill('2555');
  await entitlements.getByLabel('Contract reference').fill('MSA-2025-0117');
  await entitlements.getByLabel('SSO', { exact: true }).check();
  await entitlements.getByLabel('Dedicated support').check();
  await entitlements.getByLabel('Splunk HEC').check();
  await entitlements.getByLabel('Microsoft Sentinel').check();
  await entitlements.getByRole('button', { name: 'Save entitlements' }).click();
  await expect(entitlements.getByText('The entitlements are saved.')).toBeVisible();

  await p.reload();
  await expect(p.getByRole('combobox', { name: 'Plan tier' })).toHaveValue('enterprise_outpost');
  await expect(entitlements.getByLabel('Max Outposts')).toHaveValue('2');
  await expect(entitlements.getByLabel(/^Audit retention/)).toHaveValue('2555');
  await expect(entitlements.getByLabel('Contract reference')).toHaveValue('MSA-2025-0117');
  await expect(entitlements.getByLabel('SSO', { exact: true })).toBeChecked();
  await expect(entitlements.getByLabel('SCIM provisioning')).not.toBeChecked();
  await expect(entitlements.getByLabel('Dedicated support')).toBeChecked();
  await expect(entitlements.getByLabel('Splunk HEC')).toBeChecked();
  await expect(entitlements.getByLabel('Microsoft Sentinel')).toBeChecked();
  await expect(entitlements.getByLabel('Elastic')).not.toBeChecked();
  await expectAccessible(p);
  const audit = section(p, 'Audit');
  await expect(audit.locator('tr[data-action="org.plan_tier.updated"]').first()).toContainText(billing.email);
  await expect(audit.locator('tr[data-action="org.entitlements.updated"]').first()).toContainText(
    billing.email,
  );

  expect(await auditEntries(p, 'org.plan_tier.updated', orgId)).toEqual([
    {
      outcome: 'success',
      staff: billing.email,
      actingFor: orgId,
      details: { before: { plan_tier: 'team_saas' }, after: { plan_tier: 'enterprise_outpost' } },
    },
  ]);
  expect(await auditEntries(p, 'org.entitlements.updated', orgId)).toEqual([
    {
      outcome: 'success',
      staff: billing.email,
      actingFor: orgId,
      details: {
        before: null,
        after: {
          maxOutposts: 2,
          ssoEnabled: true,
          scimEnabled: false,
          siemConnectors: ['splunk_hec', 'sentinel'],
          auditRetentionDays: 2555,
          dedicatedSupport: true,
          contractRef: 'MSA-2025-0117',
        },
      },
    },
  ]);

  // Back to Team, as the demo data has it: the move first asks what happens to the entitlements.
  await p.goto(`/orgs/${orgId}`);
  await p.getByRole('combobox', { name: 'Plan tier' }).selectOption('team_saas');
  await withStepUp(
    p,
    () => p.getByRole('button', { name: 'Change plan tier' }).click(),
    `${org} has enterprise entitlements, which only enterprise tiers may hold. Confirm that they are removed with the move to team_saas.`,
  );
  await expect(entitlements.getByLabel('Contract reference')).toHaveValue('MSA-2025-0117');
  await expectAccessible(p);
  await p.getByLabel('Remove the enterprise entitlements with this move').check();
  // Taking enterprise entitlements away needs a second person (#15): a request, and nothing moves yet.
  await withStepUp(p, () => p.getByRole('button', { name: 'Change plan tier' }).click(), REQUESTED);
  await p.reload();
  await expect(p.getByRole('combobox', { name: 'Plan tier' })).toHaveValue('enterprise_outpost');
  await expect(entitlements.getByLabel('Contract reference')).toHaveValue('MSA-2025-0117');
  const requestId = await pendingRequestId(section(p, 'Plan tier'));
  await expect(section(p, 'Plan tier').locator('[data-pending-request]')).toContainText(
    `Move ${org} to team_saas, asked by ${billing.email}`,
  );
  await expectAccessible(p);

  // The first superadmin (who holds billing's permission), acting for the organisation, approves it.
  await actFor(page, org, 'BIL-4411');
  await approve(page, requestId);
  await p.reload();
  await expect(p.getByRole('combobox', { name: 'Plan tier' })).toHaveValue('team_saas');
  await expect(entitlements).toHaveCount(0);
  await expect(section(p, 'Outposts')).toHaveCount(0);
  await expectAccessible(p);
  const [movedBack] = await auditEntries(p, 'org.plan_tier.updated', orgId);
  expect(movedBack).toMatchObject({
    staff: first.email,
    actingFor: orgId,
    details: {
      before: { plan_tier: 'enterprise_outpost' },
      after: { plan_tier: 'team_saas' },
      removed_entitlements: { maxOutposts: 2, contractRef: 'MSA-2025-0117' },
      approval_request_id: requestId,
      requested_by: billing.staffId,
      requested_by_email: billing.email,
      approved_by: first.staffId,
      approved_by_email: first.email,
    },
  });
  await p.goto(`/orgs/${orgId}`);
  await stopActing(p);
  await page.goto(`/orgs/${orgId}`);
  await stopActing(page);
  await billing.close();
});

test('a superadmin requests the cpu_trial switch, a suspension and a resumption; a second superadmin in another browser approves each', async ({
  page,
  authenticator,
  browser,
}) => {
  // Three requests, each approved in the other browser with a step-up: longer than the default minute on a
  // loaded two-core machine.
  test.setTimeout(180_000);
  const org = 'Thames Mutual Building Society';
  const first = await asSuperadmin(page, authenticator);
  const superadmin = await newStaffMember(browser, page, 'superadmin');
  const p = superadmin.page;
  await signIn(p);
  const orgId = await openOrg(p, org);
  await startActing(p, org, 'OPS-3120');
  const outposts = section(p, 'Outposts');
  const mode = outposts.locator('tr[data-outpost="london-prod"]').getByTestId('inference-mode');
  await expect(mode).toHaveText('GPU');
  await expect(outposts).toContainText('With no GPU, requests are blocked');
  await expectAccessible(p);

  await outposts.getByRole('button', { name: 'Switch london-prod to CPU trial…' }).click();
  const modeReason = outposts.getByLabel(/^Reason for switching london-prod to CPU trial/);
  await expect(modeReason).toBeFocused();
  // Too short a reason: the field error, and nothing changes (nor is anything requested).
  await modeReason.fill('GPU down');
  await outposts.getByRole('button', { name: 'Switch to CPU trial' }).click();
  await expect(modeReason).toHaveAttribute('aria-invalid', 'true');
  await expect(modeReason).toHaveAccessibleDescription('Say why (at least 10 characters).');
  await expect(mode).toHaveText('GPU');
  await expect(outposts.locator('[data-pending-request]')).toHaveCount(0);
  await expectAccessible(p);
  await modeReason.fill('GPU node failed its burn-in; CPU trial until the replacement (OPS-3120)');
  // Switching TO the CPU trial needs a second person (#15): a request, and the Outpost still on GPU.
  await withStepUp(p, () => outposts.getByRole('button', { name: 'Switch to CPU trial' }).click(), REQUESTED);
  await p.reload();
  await expect(mode).toHaveText('GPU');
  const modeRequest = await pendingRequestId(outposts);
  await expect(outposts.locator('[data-pending-request]')).toContainText(
    `Run the Outpost london-prod on the CPU trial, asked by ${superadmin.email}`,
  );
  await expectAccessible(p);

  // The first superadmin, in another browser, acting for the organisation, approves it.
  await actFor(page, org, 'OPS-3121');
  await approve(page, modeRequest);
  await p.reload();
  await expect(mode).toHaveText('CPU trial');
  await expect(outposts.locator('[data-pending-request]')).toHaveCount(0);
  await expectAccessible(p);
  expect(await auditEntries(p, 'org.outpost.inference_mode.updated', orgId)).toEqual([
    {
      outcome: 'success',
      staff: first.email,
      actingFor: orgId,
      details: {
        outpost: 'london-prod',
        reason: 'GPU node failed its burn-in; CPU trial until the replacement (OPS-3120)',
        before: { inferenceMode: 'gpu' },
        after: { inferenceMode: 'cpu_trial' },
        approval_request_id: modeRequest,
        requested_by: superadmin.staffId,
        requested_by_email: superadmin.email,
        requester_step_up_at: expect.any(String),
        approved_by: first.staffId,
        approved_by_email: first.email,
        approver_step_up_at: expect.any(String),
      },
    },
  ]);

  // The kill switch, in the danger zone (#15's journey): a superadmin requests a suspension, a second superadmin approves it in
  // another browser context, the organisation is suspended, and the audit entry shows both.
  await p.goto(`/orgs/${orgId}`);
  const killSwitch = section(p, 'Danger zone');
  const banner = p
    .getByRole('main')
    .getByRole('alert')
    .filter({ hasText: /^Suspended:/ });
  await expect(banner).toHaveCount(0);
  await killSwitch.getByLabel('Reason for suspending').fill('Contract terminated for breach (LEG-88)');
  // Suspending needs the slug typed (e2e/console.spec.ts tries wrong ones) and always a key touch.
  await killSwitch.getByLabel(/Type the organisation’s slug/).fill('thames-mutual-building-society');
  await withStepUp(
    p,
    () => killSwitch.getByRole('button', { name: 'Suspend organisation' }).click(),
    REQUESTED,
  );
  await p.reload();
  // Not suspended yet: the section shows the request waiting for a second person.
  await expect(banner).toHaveCount(0);
  await expect(killSwitch).toContainText('Status: active');
  const suspendRequest = await pendingRequestId(killSwitch);
  await expect(killSwitch.locator('[data-pending-request]')).toContainText(
    `Suspend ${org}, asked by ${superadmin.email}`,
  );
  await expectAccessible(p);

  await actFor(page, org, 'OPS-3121');
  await approve(page, suspendRequest);
  await p.reload();
  await expect(banner).toHaveText('Suspended: Contract terminated for breach (LEG-88)');
  await expect(banner).toHaveClass(/bg-red-700/);
  await expect(p.getByRole('heading', { level: 1 }).locator('..')).toContainText('suspended');
  await expect(killSwitch.locator('[data-pending-request]')).toHaveCount(0);
  await expectAccessible(p);

  // Resuming is dual-controlled too.
  await killSwitch.getByLabel('Reason for resuming').fill('Breach remedied; legal cleared it (LEG-88)');
  await withStepUp(
    p,
    () => killSwitch.getByRole('button', { name: 'Resume organisation' }).click(),
    REQUESTED,
  );
  await p.reload();
  await expect(banner).toHaveText('Suspended: Contract terminated for breach (LEG-88)');
  const resumeRequest = await pendingRequestId(killSwitch);
  await expect(killSwitch.locator('[data-pending-request]')).toContainText(
    `Resume ${org}, asked by ${superadmin.email}`,
  );
  await actFor(page, org, 'OPS-3121');
  await approve(page, resumeRequest);
  await p.reload();
  await expect(banner).toHaveCount(0);
  await expect(killSwitch).toContainText('Status: active');
  await expectAccessible(p);
  const audit = section(p, 'Audit');
  await expect(audit.locator('tr[data-action="org.suspended"]')).toHaveCount(1);
  await expect(audit.locator('tr[data-action="org.resumed"]')).toHaveCount(1);
  // Each entry is the approver's write, acting for the organisation, and names the requester beside them.
  const both = (requestId: string) => ({
    approval_request_id: requestId,
    requested_by: superadmin.staffId,
    requested_by_email: superadmin.email,
    approved_by: first.staffId,
    approved_by_email: first.email,
  });
  expect(await auditEntries(p, 'org.suspended', orgId)).toMatchObject([
    {
      staff: first.email,
      actingFor: orgId,
      details: { reason: 'Contract terminated for breach (LEG-88)', ...both(suspendRequest) },
    },
  ]);
  expect(await auditEntries(p, 'org.resumed', orgId)).toMatchObject([
    {
      staff: first.email,
      actingFor: orgId,
      details: { reason: 'Breach remedied; legal cleared it (LEG-88)', ...both(resumeRequest) },
    },
  ]);
  // The requests themselves are audited as the requester's.
  const requested = await auditEntries(p, 'approval.requested', orgId);
  expect(requested.filter((r) => r.staff === superadmin.email)).toHaveLength(3);
  await p.goto(`/orgs/${orgId}`);
  await stopActing(p);
  await page.goto(`/orgs/${orgId}`);
  await stopActing(page);
  await superadmin.close();
});

test('a stale rate-limit edit gets the current values next to the ones typed, and loses nothing', async ({
  page,
  authenticator,
  browser,
}) => {
  const org = 'Alder & Finch LLP';
  await asSuperadmin(page, authenticator);
  const admin = await newStaffMember(browser, page, 'admin');
  const superadmin = await newStaffMember(browser, page, 'superadmin');
  const [a, s] = [admin.page, superadmin.page];
  let orgId = '';
  for (const p of [a, s]) {
    await signIn(p);
    orgId = await openOrg(p, org);
    await startActing(p, org, 'OPS-77');
  }
  const form = (p: Page) =>
    section(p, 'Rate limits and quota').locator('form', {
      has: p.getByRole('heading', { name: 'Organisation limits' }),
    });
  await expectAccessible(s);

  // The admin saves first.
  await form(a).getByLabel('Requests per minute').fill('700');
  await form(a).getByRole('button', { name: 'Save rate limits' }).click();
  await expect(form(a).getByText('The rate limits are saved.')).toBeVisible();
  await stopActing(a);

  // The superadmin's page still shows the limits as they were: its save is stale.
  const mine = form(s);
  await mine.getByLabel('Requests per minute').fill('800');
  await mine.getByLabel('Concurrent requests').fill('20');
  await mine.getByRole('button', { name: 'Save rate limits' }).click();
  const conflict = mine.getByRole('status').filter({ hasText: 'Someone else changed this' });
  await expect(conflict).toBeVisible();
  await expect(conflict.getByTestId('conflict-current')).toHaveText(['700', 'not set', 'not set', 'not set']);
  await expect(mine.getByLabel('Requests per minute')).toHaveValue('800');
  await expect(mine.getByLabel('Concurrent requests')).toHaveValue('20');
  await expect(section(s, 'Rate limits and quota').getByTestId('effective-requestsPerMinute')).toHaveText(
    '300 from the plan tier',
  );
  await expectAccessible(s);

  // Saving again, having seen the current values, replaces them.
  await mine.getByRole('button', { name: 'Save rate limits' }).click();
  await expect(mine.getByText('The rate limits are saved.')).toBeVisible();
  await s.reload();
  await expect(section(s, 'Rate limits and quota').getByTestId('effective-requestsPerMinute')).toHaveText(
    '800 from the organisation',
  );
  await expect(section(s, 'Rate limits and quota').getByTestId('effective-concurrentRequests')).toHaveText(
    '20 from the organisation',
  );
  await expectAccessible(s);
  const limits = (rpm: number | null, concurrent: number | null) => ({
    requestsPerMinute: rpm,
    tokensPerMinute: null,
    concurrentRequests: concurrent,
    monthlyRequestQuota: null,
  });
  // The refused save wrote nothing: two entries, the admin's and the superadmin's second save.
  expect(await auditEntries(s, 'org.rate_limits.updated', orgId)).toEqual([
    {
      outcome: 'success',
      staff: superadmin.email,
      actingFor: orgId,
      details: { before: limits(700, null), after: limits(800, 20) },
    },
    {
      outcome: 'success',
      staff: admin.email,
      actingFor: orgId,
      details: { before: limits(null, null), after: limits(700, null) },
    },
  ]);
  await s.goto(`/orgs/${orgId}`);
  await stopActing(s);
  await admin.close();
  await superadmin.close();
});
