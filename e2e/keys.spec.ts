import type { Page } from '@playwright/test';
import { attachAuthenticator, expect, portalCredentialId, test } from './fixtures';
import { expectAccessible } from './a11y';
import { asSuperadmin, newStaffMember, origin, signIn, signInError, signOut } from './staff';

function keyRow(page: Page, nickname: string) {
  return page.locator('tr[data-key-id]', { has: page.getByRole('cell', { name: nickname, exact: true }) });
}

test('add a second key, sign in with it, revoke the first; the last key cannot be revoked, and a revoked key cannot sign in', async ({
  page,
  authenticator,
  browser,
}) => {
  await asSuperadmin(page, authenticator);
  const member = await newStaffMember(browser, page, 'billing');
  const { page: own } = member;
  const [first] = await member.authenticator.credentials();
  await signIn(own);

  // The second key is another device: unplug the first key, plug in a new one.
  await member.authenticator.remove();
  const second = await attachAuthenticator(await own.context().newCDPSession(own));
  await own.goto('/account/keys');
  await expect(own.locator('tr[data-key-id]')).toHaveCount(1);
  await own.getByLabel('Name for a new key').fill('Backup key');
  await own.getByRole('button', { name: 'Add a security key' }).click();
  // Right after sign-in, no step-up is needed.
  await expect(own.getByRole('main').getByRole('status')).toHaveText('The new key is registered.');
  await expect(own.getByRole('dialog')).toHaveCount(0);
  await expect(own.locator('tr[data-key-id]')).toHaveCount(2);
  const [secondCredential] = await second.credentials();
  await expect(keyRow(own, 'Backup key')).toHaveAttribute(
    'data-key-id',
    portalCredentialId(secondCredential!),
  );
  await expect(keyRow(own, 'Backup key')).toContainText('01020304-0506-0708-0102-030405060708');

  // Rename it, in the panel under its row: an empty name is refused next to the field, once.
  await own.getByRole('button', { name: 'Rename Backup key' }).click();
  const rename = own.getByRole('form', { name: 'Rename Backup key' });
  await rename.getByLabel('New name for this key').fill('');
  await rename.getByRole('button', { name: 'Save name' }).click();
  await expect(rename.getByLabel('New name for this key')).toHaveAttribute('aria-invalid', 'true');
  await expect(own.getByRole('main').getByRole('alert')).toHaveText(
    'Not saved: correct the field marked above.',
  );
  await expectAccessible(own);
  await rename.getByLabel('New name for this key').fill('Backup key (safe)');
  await rename.getByRole('button', { name: 'Save name' }).click();
  await expect(own.getByRole('main').getByRole('status')).toHaveText('The key is renamed.');
  await expect(rename).toHaveCount(0);
  await expect(keyRow(own, 'Backup key (safe)')).toHaveCount(1);

  // Sign in with the second key: it is the only one this browser has now.
  await signOut(own);
  await signIn(own);
  await own.goto('/account/keys');
  await expect(keyRow(own, 'Backup key (safe)').getByRole('cell').nth(3)).not.toHaveText('—');

  // Revoke the first key: Cancel first leaves it, then the confirmation in its panel.
  await own.getByRole('button', { name: 'Revoke billing key' }).click();
  const revoke = own.getByRole('form', { name: 'Revoke billing key' });
  await expect(revoke).toContainText('Revoke “billing key”? It will no longer sign in');
  await revoke.getByRole('button', { name: 'Cancel' }).click();
  await expect(revoke).toHaveCount(0);
  await expect(keyRow(own, 'billing key')).toContainText('Active');
  await own.getByRole('button', { name: 'Revoke billing key' }).click();
  await revoke.getByRole('button', { name: 'Revoke key' }).click();
  await expect(own.getByRole('main').getByRole('status')).toHaveText('The key is revoked.');
  await expect(keyRow(own, 'billing key')).toContainText('Revoked');
  await expect(own.getByRole('button', { name: 'Revoke billing key' })).toHaveCount(0);

  // The last usable key cannot be revoked: its button is disabled with the reason beside it; and the server still refuses it to a request made without the page.
  const lastRevoke = own.getByRole('button', { name: 'Revoke Backup key (safe)' });
  await expect(lastRevoke).toBeDisabled();
  await expect(lastRevoke).toHaveAccessibleDescription(
    'Your last usable key cannot be revoked: add another key first.',
  );
  await expect(keyRow(own, 'Backup key (safe)')).toContainText(
    'Your last usable key cannot be revoked: add another key first.',
  );
  await expectAccessible(own);
  const refused = await own.request.post('/api/keys/revoke', {
    headers: origin(own),
    data: { credentialId: portalCredentialId(secondCredential!) },
  });
  expect(refused.status()).toBe(409);
  expect(await refused.json()).toMatchObject({
    error: 'last_key',
    message:
      'This is the last usable security key on the account, so it cannot be revoked. Add another key first.',
  });
  await own.reload();
  await expect(keyRow(own, 'Backup key (safe)')).toContainText('Active');

  // The revoked key, back in a browser, no longer signs in.
  await signOut(own);
  await second.remove();
  const old = await attachAuthenticator(await own.context().newCDPSession(own));
  await old.addCredential({ ...first!, signCount: first!.signCount + 10 });
  expect(await signInError(own)).toBe('This security key has been revoked. Use another enrolled key.');
  await own.goto('/');
  await expect(own).toHaveURL(/\/login$/);

  // The audit log has each step, by the member.
  await page.goto(`/audit?actor=${member.staffId}`);
  const actions = await page
    .locator('tr[data-action]')
    .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
  expect(actions).toEqual([
    'staff.signin.failure',
    'staff.signout',
    'staff.key.revoked',
    'staff.signin.success',
    'staff.signout',
    'staff.key.renamed',
    'staff.key.added',
    'staff.signin.success',
    'staff.enrolled',
  ]);
  await member.close();
});
