import { expectAccessible } from './a11y';
import { expect, test } from './fixtures';
import { IDLE_TIMEOUT_S } from './settings';
import { asSuperadmin, newStaffMember, origin, signIn } from './staff';

test("a superadmin revokes a staff member's session, and their next page load lands on /login", async ({
  page,
  authenticator,
  browser,
}) => {
  await asSuperadmin(page, authenticator);
  const member = await newStaffMember(browser, page, 'auditor');
  await signIn(member.page);
  await member.page.goto('/audit');
  await expect(member.page.getByRole('heading', { name: 'Audit log' })).toBeVisible();

  await page.goto(`/staff/${member.staffId}`);
  const sessions = page.locator('tr[data-session-id]');
  await expect(sessions).toHaveCount(1);
  await expect(sessions).toContainText('Active');
  const sessionId = await sessions.getAttribute('data-session-id');
  await sessions.getByRole('button', { name: 'Revoke session' }).click();
  await expect(page.getByRole('main').getByRole('status')).toHaveText('The session is revoked.');
  await expect(sessions).toContainText('Revoked');

  // The member's browser still has its cookie, but the next request is refused.
  await member.page.reload();
  await expect(member.page).toHaveURL(/\/login\?next=%2Faudit$/);
  const api = await member.page.request.post('/api/step-up/options', { headers: origin(member.page) });
  expect(api.status()).toBe(401);
  expect(await api.json()).toMatchObject({ error: 'unauthenticated' });

  await page.goto('/audit?action=staff.session.revoked');
  await expect(page.locator('tr[data-action="staff.session.revoked"]').first()).toContainText(sessionId!);
  await member.close();
});

test('on your own staff page, the session you are using is marked and has no Revoke button', async ({
  page,
  authenticator,
  browser,
}) => {
  await asSuperadmin(page, authenticator);
  const member = await newStaffMember(browser, page, 'superadmin');
  await signIn(member.page);

  // The member, on their own page: one session, theirs, marked, with no way to revoke it by accident.
  await member.page.goto(`/staff/${member.staffId}`);
  const mine = member.page.locator('tr[data-session-id]');
  await expect(mine).toHaveCount(1);
  await expect(mine).toHaveAttribute('data-current', 'true');
  await expect(mine).toContainText('This session (you)');
  await expect(mine).toContainText('Your current session: sign out to end it.');
  await expect(mine.getByRole('button', { name: 'Revoke session' })).toHaveCount(0);
  await expectAccessible(member.page);

  // Another superadmin sees the same session unmarked, and may revoke it.
  await page.goto(`/staff/${member.staffId}`);
  const theirs = page.locator('tr[data-session-id]');
  await expect(theirs).toHaveCount(1);
  await expect(theirs).not.toHaveAttribute('data-current', 'true');
  await expect(theirs).not.toContainText('This session (you)');
  await expect(theirs.getByRole('button', { name: 'Revoke session' })).toBeEnabled();
  await member.close();
});

test(`a session with no request for longer than the idle timeout (${IDLE_TIMEOUT_S} s here) is signed out`, async ({
  page,
  authenticator,
  baseURL,
}) => {
  // Every request this page makes to the portal on a person's behalf, the sign-in's included. The
  // navigation's approvals badge polls by itself, marked as such (lib/auth/background.ts): those requests
  // are counted apart, and must not keep the session alive.
  let lastRequestAt = Date.now();
  let polls = 0;
  page.on('request', (request) => {
    if (!request.url().startsWith(baseURL!)) return;
    if (request.headers()['x-portal-background'] === '1') polls++;
    else lastRequestAt = Date.now();
  });
  await asSuperadmin(page, authenticator);
  await page.goto('/account/keys');
  await expect(page.getByRole('heading', { name: 'My security keys' })).toBeVisible();

  // Wait, without a request, one second longer than the idle timeout after the last one.
  for (;;) {
    const wait = lastRequestAt + (IDLE_TIMEOUT_S + 1) * 1000 - Date.now();
    if (wait <= 0) break;
    await page.waitForTimeout(wait);
  }
  // The badge polled meanwhile (every 20 s), and the session idled out all the same.
  expect(polls).toBeGreaterThan(0);
  const response = await page.goto('/account/keys');
  await expect(page).toHaveURL(/\/login\?next=%2Faccount%2Fkeys$/);
  expect(response?.status()).toBe(200);
  await expect(page.getByRole('heading', { name: 'Staff sign-in' })).toBeVisible();
});
