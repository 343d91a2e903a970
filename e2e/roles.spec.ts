import { expect, test } from './fixtures';
import {
  asSuperadmin,
  enrol,
  invite,
  newStaffBrowser,
  origin,
  type PendingApproval,
  postWithStepUp,
  signIn,
  uniqueEmail,
} from './staff';

test('a superadmin invites a support user, who enrols in their own browser and is refused /staff (403)', async ({
  page,
  authenticator,
  browser,
  baseURL,
}) => {
  await asSuperadmin(page, authenticator);
  const email = uniqueEmail('support');
  await page.goto('/staff');
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Role').selectOption('support');
  await page.getByRole('button', { name: 'Create invitation' }).click();
  const shown = page.getByTestId('invite-link');
  await expect(shown).toHaveText(/\/enroll\/[A-Za-z0-9_-]{43}$/);
  const link = (await shown.textContent())!;
  await expect(page.getByRole('status')).toContainText(`Send this one-time link to ${email}`);
  // Shown once: after a reload the page has no link, only the pending invitation's effect.
  await page.reload();
  await expect(page.getByTestId('invite-link')).toHaveCount(0);

  const support = await newStaffBrowser(browser, baseURL!);
  await support.page.goto(link);
  await expect(support.page.getByRole('main')).toContainText(`You were invited as support with ${email}`);
  await enrol(support.page, link, { displayName: 'Sam Support', nickname: 'Sam’s key' });
  await signIn(support.page);
  await expect(support.page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  await expect(support.page.getByRole('banner')).toContainText('Sam Support');
  await expect(support.page.getByRole('banner')).toContainText('support');
  // The navigation does not offer what the role cannot open…
  await expect(support.page.getByRole('navigation', { name: 'Main' })).not.toContainText('Staff');

  // …and the server refuses it anyway: the page answers 403 with the "Not allowed" page.
  const response = await support.page.goto('/staff');
  expect(response?.status()).toBe(403);
  await expect(support.page).toHaveURL(/\/staff$/);
  await expect(support.page.getByRole('heading', { name: 'Not allowed' })).toBeVisible();
  await expect(support.page.getByRole('table')).toHaveCount(0);

  // The API refuses the write with 403 JSON, although the request carries the portal's Origin.
  const api = await support.page.request.post('/api/staff/invite', {
    data: { email: uniqueEmail('sneaky'), role: 'superadmin' },
    headers: origin(support.page),
  });
  expect(api.status()).toBe(403);
  expect(await api.json()).toEqual({
    error: 'forbidden',
    message: 'Your role (support) does not have the permission staff.manage.',
  });

  // The superadmin's own invitation of an admin is not written either: it needs a second person (#15), so
  // the API answers 202 with a stored request instead of a link.
  const adminEmail = uniqueEmail('second-person');
  const privileged = await postWithStepUp(page, '/api/staff/invite', { email: adminEmail, role: 'admin' });
  expect(privileged.status(), await privileged.text()).toBe(202);
  const { approval } = (await privileged.json()) as { approval: PendingApproval };
  expect(approval).toMatchObject({ rule: 'privileged_staff', summary: `Invite ${adminEmail} as admin` });
  expect(approval.message).toMatch(/^Nothing is changed yet: this needs a second person\./);
  expect(await privileged.json()).not.toHaveProperty('url');

  // Nothing was invited: the superadmin's audit log has no invitation by the support user, nor the admin's.
  await page.goto('/audit?action=staff.invited');
  await expect(page.locator('tr[data-action]', { hasText: email })).toHaveCount(1);
  await expect(page.locator('tr[data-action]', { hasText: 'sneaky' })).toHaveCount(0);
  await expect(page.locator('tr[data-action]', { hasText: adminEmail })).toHaveCount(0);
  const withdrawn = await page.request.post(`/api/approvals/${approval.id}/withdraw`, {
    headers: origin(page),
  });
  expect(withdrawn.status(), await withdrawn.text()).toBe(200);
  await support.context.close();
});

test('a superadmin sees a pending invitation with its lifetime and revokes it; its link stops working', async ({
  page,
  authenticator,
}) => {
  await asSuperadmin(page, authenticator);
  const email = uniqueEmail('withdrawn');
  const link = await invite(page, { email, role: 'billing' });
  await page.goto('/staff');
  await expect(page.locator('form', { hasText: 'Invite a staff member' })).toContainText(
    'expires after 72 hours',
  );
  const again = await page.request.post('/api/staff/invite', {
    data: { email, role: 'admin' },
    headers: origin(page),
  });
  expect(again.status()).toBe(409);
  expect(await again.json()).toMatchObject({ error: 'invite_pending' });

  const row = page.getByRole('row', { name: new RegExp(email) });
  await row.getByRole('button', { name: `Revoke the invitation for ${email}` }).click();
  await expect(page.getByRole('status')).toContainText(`The invitation for ${email} is revoked.`);
  await expect(page.getByRole('row', { name: new RegExp(email) })).toHaveCount(0);
  await page.goto(link);
  await expect(page.getByRole('main')).toContainText('This enrolment link was withdrawn.');
  await page.goto('/audit?action=staff.invite_revoked');
  await expect(page.locator('tr[data-action]', { hasText: email })).toHaveCount(1);
});
