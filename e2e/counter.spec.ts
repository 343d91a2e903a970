import { expect, portalCredentialId, test } from './fixtures';
import { STEP_UP_MAX_AGE_S } from './settings';
import {
  asSuperadmin,
  confirmStepUp,
  copyCredential,
  newStaffBrowser,
  newStaffMember,
  signIn,
  signInError,
} from './staff';

test('a cloned key with a lower counter is refused and locked; a superadmin unlocks it after a step-up', async ({
  page,
  authenticator,
  browser,
  baseURL,
}) => {
  const superadmin = await asSuperadmin(page, authenticator);
  // The superadmin's sign-in; the unlock below must come later than the step-up window after it.
  const superadminSignedInAt = Date.now();
  const member = await newStaffMember(browser, page, 'support');
  const own = member.page;

  // The genuine key is used a few times; its counter moves up with each assertion.
  for (let i = 0; i < 3; i++) await signIn(own);
  const [original] = await member.authenticator.credentials();
  const credentialId = portalCredentialId(original!);
  const stored = original!.signCount;
  expect(stored).toBeGreaterThanOrEqual(4);

  // A copy of the key, in another browser, with a lower counter: what a clone would look like.
  const clone = await newStaffBrowser(browser, baseURL!);
  await copyCredential(member.authenticator, clone.authenticator, stored - 2);
  expect(await signInError(clone.page)).toBe(
    'This security key reported a signature counter that went backwards, a sign that it may have been cloned. It is now locked; a superadmin must review and unlock it.',
  );
  const [cloned] = await clone.authenticator.credentials();
  const reported = cloned!.signCount;
  expect(reported).toBeLessThanOrEqual(stored);
  await clone.page.goto('/');
  await expect(clone.page).toHaveURL(/\/login$/);

  // Locked: the genuine key is refused as well until a superadmin has looked.
  expect(await signInError(own)).toBe(
    'This security key is locked after a security check failed. Ask a superadmin to review and unlock it.',
  );

  // The superadmin sees the lock on /staff/[id], and both audit entries.
  await page.goto(`/staff/${member.staffId}`);
  const row = page.locator(`tr[data-key-id="${credentialId}"]`);
  await expect(row).toContainText(`Locked: counter regression: stored ${stored}, reported ${reported}`);
  await page.goto('/audit?action=staff.key.locked');
  const locked = page.locator('tr[data-action="staff.key.locked"]', { hasText: credentialId });
  await expect(locked).toHaveCount(1);
  await expect(locked).toContainText('denied');
  await expect(locked).toContainText(member.email);
  await expect(locked).toContainText(
    `"reason":"counter_regression","stored_counter":${stored},"reported_counter":${reported}`,
  );
  await page.goto('/audit?action=staff.signin.failure');
  const failures = page.locator('tr[data-action="staff.signin.failure"]', { hasText: credentialId });
  await expect(failures.first()).toContainText('"reason":"locked"');
  await expect(failures.nth(1)).toContainText('"reason":"counter_regression"');

  // Unlocking needs a fresh security-key check: wait until the superadmin's sign-in is too old for it.
  const wait = superadminSignedInAt + (STEP_UP_MAX_AGE_S + 1) * 1000 - Date.now();
  if (wait > 0) await page.waitForTimeout(wait);
  await page.goto(`/staff/${member.staffId}`);
  await row.getByRole('button', { name: 'Unlock' }).click();
  await page
    .getByLabel('Why is it safe to unlock this key?')
    .fill('Reviewed with the owner: the copy was a test clone, now destroyed.');
  await page.getByRole('button', { name: 'Unlock key' }).click();
  await confirmStepUp(page);
  await expect(page.getByRole('main').getByRole('status')).toHaveText('The key is unlocked.');
  await expect(row).toContainText('Active');

  // The owner signs in again with the genuine key.
  await signIn(own);
  await expect(own.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  await expect(own.getByRole('banner')).toContainText(member.displayName);

  await page.goto(`/audit?actor=${superadmin.staffId}`);
  const actions = await page
    .locator('tr[data-action]')
    .evaluateAll((rows) => rows.slice(0, 2).map((r) => r.getAttribute('data-action')));
  expect(actions).toEqual(['staff.key.unlocked', 'staff.step_up']);
  await Promise.all([member.close(), clone.context.close()]);
});
