import { portalCredentialId } from './authenticator';
import { expect, test } from './fixtures';
import { asSuperadmin, newStaffMember, origin, signInError } from './staff';

test('failed sign-ins with one key reach its limit: 429 with Retry-After, and the sign-in page says so', async ({
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

  // Five answers that name the key but carry no valid ceremony: each is refused and counted against it.
  const client = await playwright.request.newContext({ baseURL });
  const garbage = JSON.stringify({
    id,
    rawId: id,
    type: 'public-key',
    response: { clientDataJSON: 'e30', authenticatorData: 'AAAA', signature: 'AAAA' },
    clientExtensionResults: {},
  });
  for (let i = 0; i < 5; i++) {
    const { csrfToken } = (await (await client.get('/api/auth/csrf')).json()) as { csrfToken: string };
    const refused = await client.post('/api/auth/callback/webauthn', {
      form: { response: garbage, csrfToken, callbackUrl: baseURL!, json: 'true' },
    });
    expect(refused.status()).toBe(401);
  }
  await client.dispose();

  // The next ceremony for that account is refused before it starts.
  const options = await member.page.request.post('/api/auth/webauthn/options', {
    data: { email: member.email },
    headers: origin(member.page),
  });
  expect(options.status()).toBe(429);
  const retryAfter = Number(options.headers()['retry-after']);
  expect(retryAfter).toBeGreaterThan(800);
  expect(retryAfter).toBeLessThanOrEqual(900);
  expect(await options.json()).toMatchObject({
    error: 'too_many_requests',
    message: expect.stringMatching(/Too many failed sign-in attempts/),
  });

  // Without the e-mail the browser offers the key anyway: the answer is refused by the same limit.
  expect(await signInError(member.page)).toMatch(
    /Too many failed sign-in attempts\. Try again in 1[45] minute/,
  );

  // The failures are audited against the key's owner, with their reason.
  await page.goto('/audit?action=staff.signin.failure');
  await expect(page.locator('tr[data-action="staff.signin.failure"]').first()).toContainText(member.email);
  await member.close();
});
