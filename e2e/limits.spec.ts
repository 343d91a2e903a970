import { portalCredentialId } from './authenticator';
import { expect, test } from './fixtures';
import { asSuperadmin, backedUpCopy, newStaffMember, signIn, signInError, signOut } from './staff';

/** An answer that names `id` but that no key signed, as anyone inside the gate could send it. */
const junk = (id: string) =>
  JSON.stringify({
    id,
    rawId: id,
    type: 'public-key',
    response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' },
    clientExtensionResults: {},
  });

test("junk answers naming a staff member's key do not lock its owner out", async ({
  page,
  authenticator,
  browser,
  baseURL,
  playwright,
}) => {
  await asSuperadmin(page, authenticator);
  const member = await newStaffMember(browser, page, 'billing');
  const [credential] = await member.authenticator.credentials();
  const id = portalCredentialId(credential!);

  // More refused answers than the key's limit (SIGNIN_MAX_FAILURES_PER_CREDENTIAL is 5): none verified
  // with the key, so they count against the client that sent them, not against the key.
  const client = await playwright.request.newContext({ baseURL });
  for (let i = 0; i < 7; i++) {
    const { csrfToken } = (await (await client.get('/api/auth/csrf')).json()) as { csrfToken: string };
    const refused = await client.post('/api/auth/callback/webauthn', {
      form: { response: junk(id), csrfToken, callbackUrl: baseURL!, json: 'true' },
    });
    expect(refused.status()).toBe(401);
  }
  await client.dispose();

  // The owner signs in with the key.
  await signIn(member.page);
  await expect(member.page.getByRole('banner')).toContainText('billing');

  // The refusals are audited against the key's owner, marked as not verified by the key.
  await page.goto(`/audit?action=staff.signin.failure&actor=${encodeURIComponent(member.email)}`);
  const refusals = page.locator('tr[data-action="staff.signin.failure"]', { hasText: id });
  await expect(refusals).toHaveCount(7);
  for (const row of await refusals.all()) await expect(row).toContainText('"verified_by_key":false');
  await member.close();
});

test('refusals after the key signed count against it: the next sign-in is refused by the limit, and audited', async ({
  page,
  authenticator,
  browser,
  baseURL,
}) => {
  await asSuperadmin(page, authenticator);
  const member = await newStaffMember(browser, page, 'billing');
  const [credential] = await member.authenticator.credentials();
  const id = portalCredentialId(credential!);

  // The same key in another browser, now reporting backup flags: each sign-in is signed by the key and
  // then refused by the policy. Five such refusals reach the key's limit.
  const copy = await backedUpCopy(browser, baseURL!, credential!);
  for (let i = 0; i < 5; i++) {
    expect(await signInError(copy.page)).toMatch(/no longer bound to one security key/);
  }

  // The next sign-in with the key, from the owner's own browser, is refused by the limit.
  expect(await signInError(member.page)).toMatch(
    /Too many failed sign-in attempts\. Try again in 1[45] minute/,
  );

  // Audited: the five refusals the key signed, against its owner, and the refusal by the limit.
  await page.goto(`/audit?action=staff.signin.failure&actor=${encodeURIComponent(member.email)}`);
  const signed = page.locator('tr[data-action="staff.signin.failure"]', { hasText: id });
  await expect(signed).toHaveCount(5);
  for (const row of await signed.all()) await expect(row).toContainText('"verified_by_key":true');
  await page.goto('/audit?action=staff.signin.failure&outcome=denied');
  const throttled = page.locator('tr[data-action="staff.signin.failure"]', { hasText: id });
  await expect(throttled).toHaveCount(1);
  await expect(throttled).toContainText('"reason":"throttled"');
  await expect(throttled).toContainText('"limit":"credential"');

  await copy.context.close();
  await member.close();
  await signOut(page);
});
