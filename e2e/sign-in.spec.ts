import { expect, test } from './fixtures';
import { bootstrapLink, enrol, signIn, signOut } from './staff';

test('bootstrap invite → enrol → sign in → sign out → sign in again', async ({ page, authenticator }) => {
  await enrol(page, bootstrapLink(), { displayName: 'Ada Superadmin', nickname: 'Primary key' });
  expect(await authenticator.credentials()).toHaveLength(1);

  await signIn(page);
  await expect(page.getByRole('heading', { name: 'Welcome, Ada Superadmin' })).toBeVisible();
  await expect(page.locator('main')).toContainText('with the role superadmin');

  await signOut(page);
  // The old cookie no longer opens anything.
  await page.goto('/staff');
  await expect(page).toHaveURL(/\/login\?next=%2Fstaff$/);

  await signIn(page, { email: 'superadmin@arbitex.local' });
  await expect(page).toHaveURL(/\/$/);
  await page.goto('/audit');
  const actions = await page
    .locator('tr[data-action]')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
  expect(actions.slice(0, 4)).toEqual([
    'staff.signin.success',
    'staff.signout',
    'staff.signin.success',
    'staff.enrolled',
  ]);

  // The link was single-use.
  await page.goto(bootstrapLink());
  await expect(page.getByRole('main').getByRole('alert')).toHaveText(/already been used/);
});
