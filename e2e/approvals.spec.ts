/**
 * Two-person approval (issue #15) in the browser: break-glass and its review by another superadmin, the
 * refusals a requester and an approver meet (no approving one's own request, the step-up, reject, withdraw),
 * the navigation's badges, and /approvals judged by axe in each state.
 */
import type { Page } from '@playwright/test';
import { expectAccessible } from './a11y';
import {
  actFor,
  approve,
  breakGlassOnPage,
  pendingRequestId,
  REQUESTED,
  requestItem,
  visit,
} from './approvals';
import { expect, test } from './fixtures';
import { openOrg, startActing, stopActing, withStepUp } from './orgs';
import { STEP_UP_MAX_AGE_S } from './settings';
import { asSuperadmin, enrol, newStaffBrowser, newStaffMember, origin, signIn, uniqueEmail } from './staff';

const section = (page: Page, name: string) => page.getByRole('region', { name, exact: true });

/** The red banner /approvals shows while a break-glass execution waits for review. */
const glassBanner = (page: Page) =>
  page
    .getByRole('main')
    .getByRole('alert')
    .filter({ hasText: /applied under break-glass without a second person/ });

/** Reviews, as the superadmin of `page`, every unreviewed break-glass it may review (someone else's). */
async function reviewAll(page: Page) {
  await visit(page, '/approvals?status=break_glass');
  const review = page.getByRole('button', { name: 'Mark break-glass as reviewed' });
  while ((await review.count()) > 0) {
    const item = page.locator('li[data-request-id]', { has: review }).first();
    await item.getByRole('button', { name: 'Mark break-glass as reviewed' }).click();
    await expect(page.getByText(/^Reviewed: the break-glass is marked as checked by you\./)).toBeVisible();
    await page.reload();
  }
}

test('break-glass: a superadmin alone suspends an organisation with a reason and a ticket; the red banner and badge stay until a second superadmin reviews it', async ({
  page,
  authenticator,
  browser,
}) => {
  test.setTimeout(180_000);
  // Not an organisation another spec suspends (danger-zone.spec.ts has Copperline).
  const org = 'Atlantic Crown Life Assurance';
  const first = await asSuperadmin(page, authenticator);
  const member = await newStaffMember(browser, page, 'superadmin', { displayName: 'Gwen Glass' });
  const p = member.page;
  // Each superadmin the fixtures invite is made by a break-glass of the first superadmin (e2e/staff.ts),
  // which neither the first (who broke the glass) nor the new one (whom it made) may review: Gwen reviews
  // the others, Rex reviews Gwen's, so that the banner below is this test's alone.
  const rex = await newStaffMember(browser, page, 'superadmin', { displayName: 'Rex Review' });
  await signIn(p);
  await reviewAll(p);
  await signIn(rex.page);
  await reviewAll(rex.page);
  await rex.close();
  await p.goto('/approvals');
  await expect(glassBanner(p)).toHaveCount(0);
  await expect(p.getByTestId('break-glass-badge')).toHaveCount(0);

  // The request: a suspension, which needs a second person.
  const orgId = await openOrg(p, org);
  await startActing(p, org, 'INC-900');
  const killSwitch = section(p, 'Danger zone');
  await killSwitch
    .getByLabel('Reason for suspending')
    .fill('Active credential-stuffing from the tenant (INC-900)');
  await killSwitch.getByLabel(/Type the organisation’s slug/).fill('atlantic-crown-life');
  await withStepUp(
    p,
    () => killSwitch.getByRole('button', { name: 'Suspend organisation' }).click(),
    REQUESTED,
  );
  const requestId = await pendingRequestId(killSwitch);

  // No one else is around: the requester breaks the glass. Too short a reason is refused first.
  await visit(p, '/approvals');
  const item = requestItem(p, requestId);
  await expect(item.getByRole('button', { name: 'Approve and apply' })).toHaveCount(0);
  await item.getByRole('button', { name: 'Break glass…' }).click();
  await item.getByLabel('Why this cannot wait (at least 20 characters)').fill('It is urgent');
  await item.getByLabel('Incident ticket').fill('INC-900');
  // The input is checked before anything else, the key check included.
  await item.getByRole('button', { name: 'Apply without a second person' }).click();
  await expect(
    item.getByText('Say why this cannot wait for a second person (at least 20 characters).').first(),
  ).toBeVisible();
  await expect(item.getByLabel('Why this cannot wait (at least 20 characters)')).toHaveAttribute(
    'aria-invalid',
    'true',
  );
  await expectAccessible(p);
  await breakGlassOnPage(p, requestId, 'Active credential-stuffing from the tenant; on-call alone at night');

  // Applied: the organisation is suspended, and the entry is flagged break_glass with the ticket.
  await p.goto(`/orgs/${orgId}`);
  await expect(
    p
      .getByRole('main')
      .getByRole('alert')
      .filter({ hasText: /^Suspended:/ }),
  ).toHaveText('Suspended: Active credential-stuffing from the tenant (INC-900)');
  await p.goto(`/audit?${new URLSearchParams({ action: 'org.suspended', org: orgId })}`);
  const entry = p.locator('tr[data-action="org.suspended"]').first();
  await expect(entry).toContainText(member.email);
  await expect(entry).toContainText('"break_glass":true');
  await expect(entry).toContainText('"ticket_ref":"INC-4242"');
  await expect(entry).toContainText(`"approval_request_id":"${requestId}"`);

  // The red banner on /approvals, and the badge in the navigation, for every superadmin.
  for (const q of [p, page]) {
    await visit(q, '/approvals');
    await expect(glassBanner(q)).toContainText(`Suspend ${org}, by ${member.email}`);
    await expect(q.getByRole('navigation', { name: 'Main' }).getByTestId('break-glass-badge')).toBeVisible();
  }
  await expectAccessible(page);
  // The one who broke the glass cannot review it.
  await p.goto('/approvals?status=break_glass');
  await expect(requestItem(p, requestId)).toContainText('Reviewednot yet');
  await expect(
    requestItem(p, requestId).getByRole('button', { name: 'Mark break-glass as reviewed' }),
  ).toHaveCount(0);
  const own = await p.request.post(`/api/approvals/${requestId}/review`, { headers: origin(p) });
  expect(own.status()).toBe(403);

  // The first superadmin reviews it: the banner and the badge go.
  await page.goto('/approvals?status=break_glass');
  await expectAccessible(page);
  await requestItem(page, requestId).getByRole('button', { name: 'Mark break-glass as reviewed' }).click();
  await expect(page.getByText(/^Reviewed: the break-glass is marked as checked by you\./)).toBeVisible();
  await expect(requestItem(page, requestId)).toContainText(`Reviewed${first.email} at`);
  await page.goto('/approvals');
  await expect(glassBanner(page)).toHaveCount(0);
  await expect(page.getByTestId('break-glass-badge')).toHaveCount(0);
  await p.reload();
  await expect(glassBanner(p)).toHaveCount(0);
  await page.goto('/audit?action=approval.break_glass_reviewed');
  await expect(page.locator('tr[data-action="approval.break_glass_reviewed"]').first()).toContainText(
    `Suspend ${org}`,
  );

  // Back as the demo data has it: the resumption, with a second person this time.
  await p.goto(`/orgs/${orgId}`);
  await killSwitch
    .getByLabel('Reason for resuming')
    .fill('Tenant rotated its keys; incident closed (INC-900)');
  await withStepUp(
    p,
    () => killSwitch.getByRole('button', { name: 'Resume organisation' }).click(),
    REQUESTED,
  );
  const resume = await pendingRequestId(killSwitch);
  await actFor(page, org, 'INC-900');
  await approve(page, resume);
  await p.reload();
  await expect(killSwitch).toContainText('Status: active');
  await stopActing(p);
  await page.goto(`/orgs/${orgId}`);
  await stopActing(page);
  await member.close();
});

test('refusals: no approving one’s own request, a step-up before approving, a reject with a reason, a withdraw; the approver’s badge counts', async ({
  page,
  authenticator,
  browser,
}) => {
  test.setTimeout(180_000);
  const org = 'Keystone Mutual Insurance Company';
  const slug = 'keystone-mutual';
  await asSuperadmin(page, authenticator);
  // Blocking an organisation with a 0 is for superadmins (orgs.suspend): the requester is one too.
  const admin = await newStaffMember(browser, page, 'superadmin', { displayName: 'Rhea Request' });
  // The first superadmin's last key check is no later than this.
  const approverCheckedAt = Date.now();
  const a = admin.page;
  await signIn(a);

  // The requester asks to block the organisation with a limit of 0.
  const orgId = await openOrg(a, org);
  await startActing(a, org, 'OPS-404');
  const limits = section(a, 'Rate limits and quota');
  const rpm = limits.getByTestId('effective-requestsPerMinute');
  const rpmBefore = (await rpm.textContent())!;
  const form = limits.locator('form', { has: a.getByRole('heading', { name: 'Organisation limits' }) });
  await form.getByLabel('Requests per minute').fill('0');
  // A 0 opens the danger panel: the slug typed to confirm.
  await form.getByLabel(/Type the organisation’s slug/).fill(slug);

  // The approver's page, open on the home page just before, and its count of requests waiting for them.
  await page.goto('/');
  const counts = await page.request.get('/api/approvals/count');
  const { waitingForYou: before } = (await counts.json()) as { waitingForYou: number };
  await withStepUp(a, () => form.getByRole('button', { name: 'Save rate limits' }).click(), REQUESTED);
  const blockId = await pendingRequestId(limits);
  await expect(limits.locator('[data-pending-request]')).toContainText(`Block ${org} with a limit of 0`);
  await expect(rpm).toHaveText(rpmBefore);

  // The approver's badge counts it without a reload: it polls every 20 s.
  await expect(page.getByRole('navigation', { name: 'Main' }).getByTestId('approvals-badge')).toHaveText(
    String(before + 1),
    { timeout: 30_000 },
  );
  await expect(page.getByTestId('approvals-badge')).toHaveAccessibleName(
    `${before + 1} waiting for your approval`,
  );
  // …and the requester's does not count their own request.
  const mine = (await (await a.request.get('/api/approvals/count')).json()) as { waitingForYou: number };
  expect(mine.waitingForYou).toBe(before);

  // The requester sees no Approve button on their own request, only Withdraw; the API refuses it too.
  await a.goto('/approvals');
  const own = requestItem(a, blockId);
  await expect(own).toContainText(`Block ${org} with a limit of 0`);
  await expect(own.getByRole('button', { name: 'Withdraw' })).toBeVisible();
  await expect(own.getByRole('button', { name: 'Approve and apply' })).toHaveCount(0);
  // (A superadmin requester could break the glass on it instead: e2e test above.)
  await expect(own.getByRole('button', { name: 'Break glass…' })).toBeVisible();
  await expectAccessible(a);
  const self = await a.request.post(`/api/approvals/${blockId}/approve`, { headers: origin(a) });
  expect(self.status()).toBe(403);
  expect(await self.json()).toMatchObject({
    message: 'You asked for this change: another person must approve it. You may withdraw it.',
  });

  // The approver, past the step-up age, is asked for the security key before approving; cancelled, the
  // request still waits and nothing changed.
  await page.waitForTimeout(Math.max(0, approverCheckedAt + (STEP_UP_MAX_AGE_S + 1) * 1000 - Date.now()));
  // (Had the session idled out meanwhile, the new sign-in is a fresh key check: wait past it again.)
  if (await visit(page, '/approvals')) await page.waitForTimeout((STEP_UP_MAX_AGE_S + 1) * 1000);
  const theirs = requestItem(page, blockId);
  await expect(theirs.getByRole('button', { name: 'Approve and apply' })).toBeVisible();
  await expectAccessible(page);
  await theirs.getByRole('button', { name: 'Approve and apply' }).click();
  const dialog = page.getByRole('dialog', { name: 'Confirm with your security key' });
  await expect(dialog).toBeVisible();
  await expectAccessible(page);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await page.reload();
  await expect(theirs).toBeVisible();

  // Rejected, with a reason (a reason too short is refused first): nothing changes in the organisation.
  await theirs.getByRole('button', { name: 'Reject…' }).click();
  await theirs.getByLabel('Why you reject it').fill('No');
  await theirs.getByRole('button', { name: 'Reject request' }).click();
  await expect(theirs.getByLabel('Why you reject it')).toHaveAttribute('aria-invalid', 'true');
  await expectAccessible(page);
  await theirs
    .getByLabel('Why you reject it')
    .fill('A limit of 0 blocks their claims intake; talk to them first');
  await theirs.getByRole('button', { name: 'Reject request' }).click();
  await expect(page.getByText(/^Rejected: nothing was changed\./)).toBeVisible();
  await expect(theirs).toHaveCount(0);
  await page.goto('/approvals?status=rejected');
  await expect(requestItem(page, blockId)).toContainText(
    'A limit of 0 blocks their claims intake; talk to them first',
  );
  await expectAccessible(page);
  await a.goto(`/orgs/${orgId}`);
  await expect(section(a, 'Rate limits and quota').getByTestId('effective-requestsPerMinute')).toHaveText(
    rpmBefore,
  );
  await expect(section(a, 'Rate limits and quota').locator('[data-pending-request]')).toHaveCount(0);
  // A decided request cannot be withdrawn afterwards.
  const late = await a.request.post(`/api/approvals/${blockId}/withdraw`, { headers: origin(a) });
  expect(late.status()).toBe(409);

  // Asked again, then withdrawn by the admin: nothing changes either.
  const form2 = section(a, 'Rate limits and quota').locator('form', {
    has: a.getByRole('heading', { name: 'Organisation limits' }),
  });
  await form2.getByLabel('Monthly request quota').fill('0');
  await form2.getByLabel(/Type the organisation’s slug/).fill(slug);
  await withStepUp(a, () => form2.getByRole('button', { name: 'Save rate limits' }).click(), REQUESTED);
  const quotaId = await pendingRequestId(section(a, 'Rate limits and quota'));
  await a.goto('/approvals');
  await requestItem(a, quotaId).getByRole('button', { name: 'Withdraw' }).click();
  await expect(a.getByText(/^Withdrawn: nothing was changed\./)).toBeVisible();
  await expect(requestItem(a, quotaId)).toHaveCount(0);
  await a.goto('/approvals?status=withdrawn');
  await expect(requestItem(a, quotaId)).toContainText(`Block ${org}`);
  await a.goto(`/orgs/${orgId}`);
  await expect(section(a, 'Rate limits and quota').locator('[data-pending-request]')).toHaveCount(0);
  await expect(section(a, 'Rate limits and quota').getByTestId('effective-requestsPerMinute')).toHaveText(
    rpmBefore,
  );
  await page.goto('/audit?action=approval.withdrawn');
  await expect(page.locator('tr[data-action="approval.withdrawn"]').first()).toContainText(admin.email);
  await page.goto('/audit?action=approval.rejected');
  await expect(page.locator('tr[data-action="approval.rejected"]').first()).toContainText(
    'talk to them first',
  );
  await stopActing(a);
  await admin.close();
});

test('an admin invitation waits for a second superadmin, whose approval shows the one-time link; the invitee enrols with it', async ({
  page,
  authenticator,
  browser,
  baseURL,
}) => {
  test.setTimeout(120_000);
  const first = await asSuperadmin(page, authenticator);
  const second = await newStaffMember(browser, page, 'superadmin', { displayName: 'Ivo Invite' });
  const s = second.page;
  await signIn(s);

  // The first superadmin invites an admin on /staff: a request, and no link.
  const email = uniqueEmail('approved-admin');
  await page.goto('/staff');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Role').selectOption('admin');
  await withStepUp(page, () => page.getByRole('button', { name: 'Create invitation' }).click(), REQUESTED);
  await expect(page.getByTestId('invite-link')).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole('row', { name: new RegExp(email) })).toHaveCount(0);

  // The second superadmin approves it on /approvals; the link is shown to them, once, above the list.
  await s.goto('/approvals');
  const item = s.locator('li[data-request-id]', { hasText: `Invite ${email} as admin` });
  await expect(item).toHaveCount(1);
  const id = (await item.getAttribute('data-request-id'))!;
  await approve(s, id);
  await expect(
    s.getByText(`Approved and applied: Invite ${email} as admin.`, { exact: false }),
  ).toBeVisible();
  const shown = s.getByTestId('invite-link');
  await expect(shown).toHaveText(/\/enroll\/[A-Za-z0-9_-]{43}$/);
  const link = (await shown.textContent())!;
  await expectAccessible(s);
  await s.reload();
  await expect(s.getByTestId('invite-link')).toHaveCount(0);

  // The invitation is the approver's, naming the requester; the invitee enrols as admin with the link.
  await s.goto('/audit?action=staff.invited');
  const entry = s.locator('tr[data-action="staff.invited"]', { hasText: email });
  await expect(entry).toContainText(second.email);
  await expect(entry).toContainText(`"approval_request_id":"${id}"`);
  await expect(entry).toContainText(`"requested_by_email":"${first.email}"`);
  const invitee = await newStaffBrowser(browser, baseURL!);
  const enrolled = await enrol(invitee.page, link, { displayName: 'Ada Approved', nickname: 'Ada key' });
  expect(enrolled).toMatchObject({ email, role: 'admin' });
  await invitee.context.close();
  await second.close();
});
