import { importCredential } from './credential-file';
import { expect, portalCredentialId, test } from './fixtures';
import { SUPERADMIN_CREDENTIAL_FILE } from './files';
import { bootstrapLink, signIn, signOut } from './staff';

// The bootstrap enrolment itself is e2e/bootstrap.setup.ts: the link is single-use.
test('bootstrap invite → enrol (setup) → sign in → sign out → sign in again, all audited', async ({
  page,
  authenticator,
}) => {
  // The key the superadmin enrolled in setup, now in this browser's authenticator.
  const saved = await importCredential(authenticator, SUPERADMIN_CREDENTIAL_FILE);
  const credentialId = portalCredentialId(saved.credential);

  // Usernameless: the browser offers the discoverable credential.
  await signIn(page);
  // The overview is the start page; it says who is signed in, with which role.
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  await expect(page.locator('main')).toContainText('Signed in as Ada Superadmin');
  await expect(page.locator('main')).toContainText('role superadmin');

  await signOut(page);
  // The old cookie no longer opens anything.
  await page.goto('/staff');
  await expect(page).toHaveURL(/\/login\?next=%2Fstaff$/);

  // The page asks for no e-mail: the key names its owner.
  await page.goto('/login');
  await expect(page.getByRole('textbox')).toHaveCount(0);
  await signIn(page);
  await expect(page).toHaveURL(/\/$/);

  // This staff member's newest audit entries, newest first: the two sign-ins and the sign-out between.
  await page.goto(`/audit?actor=${saved.staffId}`);
  const rows = page.locator('tr[data-action]');
  const actions = await rows.evaluateAll((r) => r.map((row) => row.getAttribute('data-action')));
  expect(actions.slice(0, 3)).toEqual(['staff.signin.success', 'staff.signout', 'staff.signin.success']);
  await expect(rows.nth(0)).toContainText(`staff_credential ${credentialId}`);
  await expect(rows.nth(2)).toContainText(`staff_credential ${credentialId}`);
  // …and, before them, the enrolment through the bootstrap link.
  await page.goto('/audit?action=staff.enrolled');
  await expect(page.locator('tr[data-action="staff.enrolled"]', { hasText: saved.staffId! })).toContainText(
    'superadmin@arbitex.local',
  );

  // The link was single-use.
  await page.goto(bootstrapLink());
  await expect(page.getByRole('main').getByRole('alert')).toHaveText(/already been used/);
});

test('after sign-in, next= never leaves the portal: tab, newline, backslash and // variants land on /', async ({
  page,
  authenticator,
  baseURL,
}) => {
  await importCredential(authenticator, SUPERADMIN_CREDENTIAL_FILE);
  const portal = new URL(baseURL!).origin;
  for (const next of [
    '/\t/evil.example',
    '/\n/evil.example',
    '/\\evil.example',
    '//evil.example',
    '\\\\evil.example',
    'https://evil.example/',
  ]) {
    await signIn(page, { next });
    await expect(page, JSON.stringify(next)).toHaveURL(`${portal}/`);
    await signOut(page);
  }
  // A path on the portal is followed.
  await signIn(page, { next: '/staff?x=1' });
  await expect(page).toHaveURL(`${portal}/staff?x=1`);
});
