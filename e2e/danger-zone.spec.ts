/**
 * Issue 16, items 5–7, as a superadmin meets them: the danger zone's typed confirmation and key touch, the
 * audit list's one-line entries that expand to the before/after table, a save of what is there already that
 * writes nothing, and the plan tier's preview of the limits it would give. Each test works on a demo
 * organisation no other spec touches; every state checked is also checked with axe.
 */
import type { Page } from '@playwright/test';
import { expectAccessible } from './a11y';
import { expect, test } from './fixtures';
import { openOrg, startActing } from './orgs';
import { actFor, approve, pendingRequestId, REQUESTED, requestItem } from './approvals';
import { asSuperadmin, confirmStepUp, newStaffMember, signIn } from './staff';

const section = (page: Page, name: string) => page.getByRole('region', { name, exact: true });

test('the kill switch sits in the danger zone: the slug typed exactly, then always a key touch that names the action and the organisation', async ({
  page,
  authenticator,
  browser,
}) => {
  // Two superadmins and an approval on top of the danger zone's checks.
  test.setTimeout(120_000);
  const org = 'Copperline Savings Bank';
  const slug = 'copperline-savings';
  await asSuperadmin(page, authenticator);
  const member = await newStaffMember(browser, page, 'superadmin');
  const p = member.page;
  await signIn(p);
  const orgId = await openOrg(p, org);
  await startActing(p, org, 'SEC-1601');

  const danger = section(p, 'Danger zone');
  await expect(
    p.getByRole('navigation', { name: 'Sections of this page' }).getByRole('link', { name: 'Danger zone' }),
  ).toHaveAttribute('href', '#danger-zone-section');
  const suspend = danger.getByRole('button', { name: 'Suspend organisation' });
  await danger.getByLabel('Reason for suspending').fill('Card-testing fraud from this tenant (SEC-1601)');
  // Nothing typed, then a wrong slug, then the name instead of the slug: the button stays disabled.
  await expect(suspend).toBeDisabled();
  const confirm = danger.getByLabel(/Type the organisation’s slug/);
  for (const wrong of ['copperline-saving', 'Copperline-Savings', org]) {
    await confirm.fill(wrong);
    await expect(suspend).toBeDisabled();
  }
  await expectAccessible(p);

  // The right slug: the key is asked for before anything is sent, although this session signed in moments
  // ago and its step-up may well still be fresh.
  const writes: string[] = [];
  p.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith(`/api/orgs/${orgId}/suspension`)) writes.push(r.url());
  });
  await confirm.fill(slug);
  await expect(suspend).toBeEnabled();
  await suspend.click();
  const dialog = p.getByRole('dialog', { name: 'Confirm with your security key' });
  await expect(dialog).toBeVisible();
  const what = dialog.getByTestId('step-up-what');
  await expect(what).toContainText('Suspend organisation');
  await expect(what).toContainText(`${org} (${slug})`);
  await expect(dialog).toHaveAccessibleDescription(
    /Suspend organisation.*Copperline Savings Bank \(copperline-savings\)/,
  );
  expect(writes).toEqual([]);
  await expectAccessible(p);
  await confirmStepUp(p);
  // One request, stored for a second person (#15): nothing is suspended until the first superadmin, acting
  // for the organisation, approves it on /approvals.
  await expect(danger.getByText(REQUESTED)).toBeVisible();
  expect(writes).toHaveLength(1);
  await p.reload();
  await expect(danger.getByTestId('kill-switch-status')).toContainText('Status: active');
  const request = await pendingRequestId(danger);
  await actFor(page, org, 'SEC-1602');
  await approve(page, request);

  await p.reload();
  await expect(
    p
      .getByRole('main')
      .getByRole('alert')
      .filter({ hasText: /^Suspended:/ }),
  ).toHaveText('Suspended: Card-testing fraud from this tenant (SEC-1601)');
  await expect(p.getByTestId('org-summary')).toContainText('Suspended');
  await expect(danger.getByTestId('kill-switch-status')).toContainText('Status: suspended');
  // Resuming unblocks: no slug to type.
  await expect(danger.getByLabel(/Type the organisation’s slug/)).toHaveCount(0);
  await expectAccessible(p);

  // The organisation's audit rows link to the entry and to the explorer filtered on the organisation.
  const audit = section(p, 'Audit');
  const row = audit.locator('tr[data-action="org.suspended"]');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('status active → suspended');
  await expect(
    audit.getByRole('link', { name: `All entries for ${org} in the audit explorer` }),
  ).toHaveAttribute('href', `/audit?org=${orgId}`);
  await row.getByRole('link', { name: 'org.suspended' }).click();
  await expect(p).toHaveURL(new RegExp(`/audit\\?org=${orgId}&action=org\\.suspended$`));
  await expect(p.locator('main tbody tr[data-action]')).toHaveCount(1);
  await member.close();
});

test('an audit entry is one line with a summary of its change, which expands to the before/after table', async ({
  page,
  authenticator,
  browser,
}) => {
  const org = 'Northfield Municipal Utilities';
  await asSuperadmin(page, authenticator);
  const member = await newStaffMember(browser, page, 'superadmin');
  const p = member.page;
  await signIn(p);
  const orgId = await openOrg(p, org);
  await startActing(p, org, 'SUP-1605');
  const tier = section(p, 'Plan tier');
  await tier.getByLabel('Plan tier').selectOption('team_saas');
  await tier.getByRole('button', { name: 'Change plan tier' }).click();
  const done = tier.getByText('The plan tier is changed.');
  await expect(done.or(p.getByRole('dialog'))).toBeVisible();
  if (await p.getByRole('dialog').isVisible()) await confirmStepUp(p);
  await expect(done).toBeVisible();

  await p.goto(`/audit?${new URLSearchParams({ org: orgId, action: 'org.plan_tier.updated' })}`);
  const row = p.locator('main tbody tr[data-action="org.plan_tier.updated"]');
  await expect(row).toHaveCount(1);
  const change = row.getByTestId('audit-change');
  await expect(change.locator('summary')).toContainText('plan_tier devpro_saas → team_saas');
  // Short ids: the organisation's first 8 characters on screen, the whole id copied.
  const acting = row.locator('td[data-acting-org-id]');
  await expect(acting).toHaveAttribute('data-acting-org-id', orgId);
  await expect(acting.locator('[title]').first()).toHaveAttribute('title', orgId);
  await expect(acting.getByRole('button', { name: /^Copy organisation id of entry/ })).toBeVisible();
  // Collapsed, the before/after table is not shown; expanded, it is, field by field.
  const table = change.getByRole('table', { name: 'Values before and after' });
  await expect(table).toBeHidden();
  await change.locator('summary').click();
  await expect(table).toBeVisible();
  const field = table.locator('tr[data-field="plan_tier"]');
  await expect(field).toHaveAttribute('data-changed', 'true');
  await expect(field.getByRole('cell').nth(0)).toHaveText('"devpro_saas"');
  await expect(field.getByRole('cell').nth(1)).toHaveText('"team_saas"');
  await expect(change.locator('[data-diff-json]')).toHaveText(
    '{"after":{"plan_tier":"team_saas"},"before":{"plan_tier":"devpro_saas"}}',
  );
  await expectAccessible(p);
  await member.close();
});

test('saving what is there already says nothing changed and writes no audit entry; the tier preview warns about values that keep overriding', async ({
  page,
  authenticator,
  browser,
}) => {
  // Developer Pro, with its own 600 requests a minute and its own MFA policy (FIDO2 or TOTP, required).
  const org = 'Lakeshore Federal Credit Union';
  await asSuperadmin(page, authenticator);
  const member = await newStaffMember(browser, page, 'superadmin');
  const p = member.page;
  await signIn(p);
  const orgId = await openOrg(p, org);

  // The preview needs no acting context: every role may see what a tier would give.
  const tier = section(p, 'Plan tier');
  await tier.getByLabel('Plan tier').selectOption('team_saas');
  const preview = tier.getByTestId('tier-preview');
  await expect(preview.locator('tr[data-preview="requestsPerMinute"]')).toContainText(
    '600 (the organisation’s own value)',
  );
  await expect(preview.locator('tr[data-preview="tokensPerMinute"]').getByRole('cell').nth(1)).toHaveText(
    '1,000,000 (the plan tier)',
  );
  await expect(preview.locator('tr[data-preview="monthlyRequestQuota"]').getByRole('cell').nth(1)).toHaveText(
    '10,000,000 (the plan tier)',
  );
  const warning = preview.getByRole('status').filter({ hasText: 'keep overriding' });
  await expect(warning).toContainText(
    'Requests per minute stays 600 (the organisation’s own value) instead of Team’s default of 1,000.',
  );
  await expect(warning).toContainText('MFA stays');
  await expect(warning).not.toContainText('Tokens per minute');
  await expectAccessible(p);
  // Back to the current tier: no preview.
  await tier.getByLabel('Plan tier').selectOption('devpro_saas');
  await expect(preview).toHaveCount(0);

  // Saving the rate limits as they are: nothing changed, nothing recorded.
  await startActing(p, org, 'SUP-1606');
  const limits = section(p, 'Rate limits and quota');
  await limits.getByRole('button', { name: 'Save rate limits' }).click();
  await expect(limits.getByRole('status').filter({ hasText: /^Nothing changed/ })).toHaveText(
    'Nothing changed: these are the organisation’s rate limits already.',
  );
  await expectAccessible(p);
  // The MFA policy too.
  const mfa = section(p, 'MFA policy');
  await mfa.getByRole('button', { name: 'Save MFA policy' }).click();
  const mfaDone = mfa.getByRole('status').filter({ hasText: /^Nothing changed/ });
  await expect(mfaDone.or(p.getByRole('dialog'))).toBeVisible();
  if (await p.getByRole('dialog').isVisible()) await confirmStepUp(p);
  await expect(mfaDone).toHaveText('Nothing changed: this is the organisation’s MFA policy already.');

  await p.reload();
  await expect(section(p, 'Audit').locator('tr[data-action="org.rate_limits.updated"]')).toHaveCount(0);
  await expect(section(p, 'Audit').locator('tr[data-action="org.mfa_policy.updated"]')).toHaveCount(0);
  for (const action of ['org.rate_limits.updated', 'org.mfa_policy.updated']) {
    await p.goto(`/audit?${new URLSearchParams({ org: orgId, action })}`);
    await expect(p.getByRole('main')).toContainText('No audit entry matches this search.');
  }
  await member.close();
});

test('a limit of 0 opens a red panel where the slug is typed, then always a key touch that names the block', async ({
  page,
  authenticator,
}) => {
  const org = 'Cardinal Reinsurance SE';
  const slug = 'cardinal-reinsurance';
  await asSuperadmin(page, authenticator);
  const orgId = await openOrg(page, org);
  await startActing(page, org, 'SEC-1603');
  const limits = section(page, 'Rate limits and quota');
  const form = limits.locator('form', { has: page.getByRole('heading', { name: 'Organisation limits' }) });
  const panel = form.getByRole('group', { name: 'Block the organisation' });
  await expect(panel).toHaveCount(0);
  await form.getByLabel('Monthly request quota').fill('0');
  await expect(panel).toContainText(`A 0 blocks all traffic for ${org}, like the kill switch.`);
  await expectAccessible(page);

  // Saved without the slug: the server names the field, and nothing is stored or asked for.
  const writes: string[] = [];
  page.on('request', (r) => {
    if (r.method() === 'POST' && r.url().endsWith(`/api/orgs/${orgId}/rate-limits`)) writes.push(r.url());
  });
  const save = form.getByRole('button', { name: 'Save rate limits' });
  await panel.getByLabel(/Type the organisation’s slug/).fill(org);
  await save.click();
  await expect(
    form.getByText('0 blocks all traffic for this organisation. Confirm that it is meant.'),
  ).toBeVisible();
  expect(writes).toHaveLength(1);
  await expect(limits.locator('[data-pending-request]')).toHaveCount(0);

  // The slug: the key is asked for before anything is sent, and the dialog names the block.
  await panel.getByLabel(/Type the organisation’s slug/).fill(slug);
  await save.click();
  const dialog = page.getByRole('dialog', { name: 'Confirm with your security key' });
  await expect(dialog.getByTestId('step-up-what')).toContainText('Block all traffic with a limit of 0');
  await expect(dialog.getByTestId('step-up-what')).toContainText(`${org} (${slug})`);
  expect(writes).toHaveLength(1);
  await confirmStepUp(page);
  await expect(form.getByText(REQUESTED)).toBeVisible();
  expect(writes).toHaveLength(2);

  // Withdrawn, so the organisation is left as it was.
  const request = await pendingRequestId(limits);
  await page.goto('/approvals');
  await requestItem(page, request).getByRole('button', { name: 'Withdraw' }).click();
  await expect(requestItem(page, request)).toHaveCount(0);
});
