/**
 * Keys and answers the portal refuses, each with a message that says what is wrong, and nothing enrolled
 * or signed in. An expired challenge is not here: challenges live 5 minutes and nothing in the e2e portal
 * can age one, so lib/auth/challenges.test.ts ages the row with SQL instead.
 */
import type { Page, Request } from '@playwright/test';
import { attachAuthenticator, expect, portalCredentialId, test } from './fixtures';
import {
  asSuperadmin,
  enrol,
  enrolError,
  invite,
  backedUpCopy,
  newStaffBrowser,
  newStaffMember,
  signIn,
  signInError,
  uniqueEmail,
} from './staff';

const CANCELLED = 'The security-key request was cancelled or timed out. Try again.';
const NOT_VERIFIED =
  'This security key did not verify the user (PIN or biometric). User verification is required: set a PIN on the key, or use a key with a fingerprint reader.';

/** The newest audit entry of `action` whose row mentions `text`, as the superadmin on `page` sees it. */
async function auditRow(page: Page, action: string, text: string) {
  await page.goto(`/audit?action=${action}`);
  const row = page.locator(`tr[data-action="${action}"]`, { hasText: text }).first();
  await expect(row).toBeVisible();
  return row;
}

/** Nothing was enrolled: the invitation still works (its page offers the form) and no staff account exists. */
async function expectNotEnrolled(superadmin: Page, invitee: Page, link: string, email: string) {
  await invitee.goto(link);
  await expect(invitee.getByRole('main')).toContainText(`with ${email}`);
  await expect(invitee.getByRole('button', { name: 'Register security key' })).toBeVisible();
  await superadmin.goto('/staff');
  await expect(superadmin.getByRole('table', { name: 'Staff members' })).not.toContainText(email);
  await expect(superadmin.getByRole('table', { name: 'Pending invitations' })).toContainText(email);
}

/** Not signed in: the portal still sends this browser to /login. */
async function expectSignedOut(page: Page) {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login$/);
}

test('a credential that can be backed up is refused at enrolment, and at sign-in once it says so', async ({
  page,
  authenticator,
  browser,
  baseURL,
}) => {
  await asSuperadmin(page, authenticator);
  const email = uniqueEmail('backup');
  const link = await invite(page, { email, role: 'support' });
  const synced = await newStaffBrowser(browser, baseURL!, {
    defaultBackupEligibility: true,
    defaultBackupState: true,
  });
  expect(await enrolError(synced.page, link)).toBe(
    'This credential can be backed up or synced (a passkey kept by a password manager or a cloud account), so it is not bound to one security key. The staff portal accepts only hardware security keys whose credentials never leave the key.',
  );
  // The authenticator made a credential, but the portal kept nothing of it.
  expect(await synced.authenticator.credentials()).toHaveLength(1);
  await expectNotEnrolled(page, synced.page, link, email);
  await expect(await auditRow(page, 'staff.enrolled', email)).toContainText('"reason":"backed_up"');

  // The same invitation still enrols a proper hardware key.
  await synced.authenticator.remove();
  const hardware = await attachAuthenticator(await synced.context.newCDPSession(synced.page));
  await enrol(synced.page, link, { displayName: 'Bea Backup', nickname: 'Hardware key' });

  // A key that was fine at enrolment but now reports backup flags is refused at every sign-in.
  const [credential] = await hardware.credentials();
  const copy = await backedUpCopy(browser, baseURL!, credential!);
  expect(await signInError(copy.page)).toBe(
    'This credential now reports that it can be backed up or synced, so it is no longer bound to one security key. Sign-in with it is refused; use another enrolled hardware security key.',
  );
  await expectSignedOut(copy.page);
  await expect(await auditRow(page, 'staff.signin.failure', portalCredentialId(credential!))).toContainText(
    '"reason":"backed_up"',
  );
  await synced.context.close();
  await copy.context.close();
});

test('a key that does not verify the user is refused: by Chromium for isUserVerified false, by the portal for a UV flag that is off', async ({
  page,
  authenticator,
  browser,
  baseURL,
}) => {
  await asSuperadmin(page, authenticator);

  // isUserVerified: false. Chromium's virtual key fails the PIN check itself, so the browser ends the
  // ceremony with NotAllowedError before anything reaches the portal; the page says so.
  const email = uniqueEmail('no-uv');
  const link = await invite(page, { email, role: 'support' });
  const noUv = await newStaffBrowser(browser, baseURL!, { isUserVerified: false });
  expect(await enrolError(noUv.page, link)).toBe(CANCELLED);
  expect(await noUv.authenticator.credentials()).toEqual([]);
  await expectNotEnrolled(page, noUv.page, link, email);

  // The portal's own check: a key whose answer has the UV flag off (CDP isBadUV) is refused by the server.
  await noUv.authenticator.cdp.send('WebAuthn.setUserVerified', {
    authenticatorId: noUv.authenticator.authenticatorId,
    isUserVerified: true,
  });
  await noUv.authenticator.cdp.send('WebAuthn.setResponseOverrideBits', {
    authenticatorId: noUv.authenticator.authenticatorId,
    isBadUV: true,
  });
  expect(await enrolError(noUv.page, link)).toBe(NOT_VERIFIED);
  await expectNotEnrolled(page, noUv.page, link, email);
  await expect(await auditRow(page, 'staff.enrolled', email)).toContainText('"reason":"user_not_verified"');

  // At sign-in: an enrolled key in an authenticator that does not verify the user.
  const member = await newStaffMember(browser, page, 'support');
  const [credential] = await member.authenticator.credentials();
  const other = await newStaffBrowser(browser, baseURL!, { isUserVerified: false });
  await other.authenticator.addCredential({ ...credential!, signCount: credential!.signCount + 10 });
  expect(await signInError(other.page)).toBe(CANCELLED);
  await expectSignedOut(other.page);
  await other.authenticator.cdp.send('WebAuthn.setUserVerified', {
    authenticatorId: other.authenticator.authenticatorId,
    isUserVerified: true,
  });
  await other.authenticator.cdp.send('WebAuthn.setResponseOverrideBits', {
    authenticatorId: other.authenticator.authenticatorId,
    isBadUV: true,
  });
  expect(await signInError(other.page)).toBe(NOT_VERIFIED);
  await expectSignedOut(other.page);
  await expect(await auditRow(page, 'staff.signin.failure', portalCredentialId(credential!))).toContainText(
    '"reason":"user_not_verified"',
  );
  await Promise.all([noUv.context.close(), other.context.close(), member.close()]);
});

test('attestation "none" is refused at enrolment', async ({ page, authenticator, browser, baseURL }) => {
  await asSuperadmin(page, authenticator);
  const email = uniqueEmail('none');
  const link = await invite(page, { email, role: 'support' });
  const invitee = await newStaffBrowser(browser, baseURL!);
  // The page gets the portal's real options, but asking for no attestation: Chromium then sends fmt none.
  await invitee.page.route('**/api/enroll/options', async (route) => {
    const response = await route.fetch();
    await route.fulfill({ response, json: { ...(await response.json()), attestation: 'none' } });
  });
  expect(await enrolError(invitee.page, link)).toBe(
    "The browser did not pass on the security key's attestation (its make and model), which the staff portal requires. If the browser asks whether to share the security key's make and model, allow it, then try again.",
  );
  await expectNotEnrolled(page, invitee.page, link, email);
  await expect(await auditRow(page, 'staff.enrolled', email)).toContainText('"reason":"attestation_format"');
  await invitee.context.close();
});

test('a U2F key (fido-u2f attestation, zero AAGUID, not on the allow-list) cannot enrol', async ({
  page,
  authenticator,
  browser,
  baseURL,
}) => {
  await asSuperadmin(page, authenticator);
  const email = uniqueEmail('u2f');
  const link = await invite(page, { email, role: 'support' });
  const invitee = await newStaffBrowser(browser, baseURL!, { protocol: 'u2f' });

  // With the portal's options (resident key and user verification required) Chromium does not even ask
  // a U2F key: the ceremony ends with NotAllowedError.
  expect(await enrolError(invitee.page, link)).toBe(CANCELLED);
  expect(await invitee.authenticator.credentials()).toEqual([]);

  // With the options weakened in the page, the U2F key answers (fido-u2f, AAGUID 00000000-…), and the
  // portal refuses it. User verification is the policy's first check, so that is the message.
  await invitee.page.route('**/api/enroll/options', async (route) => {
    const response = await route.fetch();
    await route.fulfill({
      response,
      json: {
        ...(await response.json()),
        authenticatorSelection: { residentKey: 'discouraged', userVerification: 'discouraged' },
      },
    });
  });
  expect(await enrolError(invitee.page, link)).toBe(NOT_VERIFIED);
  expect(await invitee.authenticator.credentials()).toHaveLength(1);
  await expectNotEnrolled(page, invitee.page, link, email);
  await invitee.context.close();
});

const isCallback = (r: Request) =>
  r.method() === 'POST' && new URL(r.url()).pathname === '/api/auth/callback/webauthn';

test('a replayed sign-in is refused, from another client and through the sign-in page', async ({
  page,
  authenticator,
  browser,
  baseURL,
  playwright,
}) => {
  await asSuperadmin(page, authenticator);
  const member = await newStaffMember(browser, page, 'support');
  const [credential] = await member.authenticator.credentials();
  // The form next-auth's signIn() posts: the WebAuthn answer, csrfToken, callbackUrl, json.
  const posted = member.page.waitForRequest(isCallback);
  await signIn(member.page);
  const captured = new URLSearchParams((await posted).postData()!);
  expect(JSON.parse(captured.get('response')!)).toMatchObject({ type: 'public-key' });
  const message = 'This security-key request has expired or was already used. Start again.';

  // Another client replays the captured answer with a CSRF token of its own: refused, no session cookie.
  const attacker = await playwright.request.newContext({ baseURL });
  const { csrfToken } = (await (await attacker.get('/api/auth/csrf')).json()) as { csrfToken: string };
  const replay = await attacker.post('/api/auth/callback/webauthn', {
    form: { response: captured.get('response')!, csrfToken, callbackUrl: baseURL!, json: 'true' },
  });
  expect(replay.status()).toBe(401);
  const { url } = (await replay.json()) as { url: string };
  expect(new URL(url).searchParams.get('error')).toBe(message);
  const cookies = (await attacker.storageState()).cookies.map((c) => c.name);
  expect(cookies.some((name) => name.endsWith('portal.session'))).toBe(false);
  expect((await attacker.get('/api/auth/session')).ok()).toBe(true);
  expect(await (await attacker.get('/api/auth/session')).json()).toEqual({});
  await attacker.dispose();

  // The same through the page: a fresh ceremony runs, but the old answer is sent in its place.
  await member.page.context().clearCookies();
  await member.page.route('**/api/auth/callback/webauthn', (route) => {
    const form = new URLSearchParams(route.request().postData()!);
    form.set('response', captured.get('response')!);
    return route.continue({ postData: form.toString() });
  });
  expect(await signInError(member.page)).toBe(message);
  await expectSignedOut(member.page);
  // Refused before the key was looked up, so the entry names the key but no staff member.
  await expect(await auditRow(page, 'staff.signin.failure', portalCredentialId(credential!))).toContainText(
    '"reason":"challenge_invalid"',
  );
  await member.close();
});

test('an answer made for another origin is refused', async ({ page, authenticator, browser, baseURL }) => {
  await asSuperadmin(page, authenticator);
  const member = await newStaffMember(browser, page, 'support');
  const [credential] = await member.authenticator.credentials();
  // A real assertion, with the origin in clientDataJSON changed (and re-encoded) before the portal sees it.
  await member.page.route('**/api/auth/callback/webauthn', (route) => {
    const form = new URLSearchParams(route.request().postData()!);
    const answer = JSON.parse(form.get('response')!) as { response: { clientDataJSON: string } };
    const clientData = JSON.parse(Buffer.from(answer.response.clientDataJSON, 'base64url').toString('utf8'));
    expect(clientData.origin).toBe(baseURL);
    answer.response.clientDataJSON = Buffer.from(
      JSON.stringify({ ...clientData, origin: 'https://int.arbitex.ai.phish.example' }),
    ).toString('base64url');
    form.set('response', JSON.stringify(answer));
    return route.continue({ postData: form.toString() });
  });
  expect(await signInError(member.page)).toBe(
    `This security-key request did not come from the portal's own address (${baseURL}). Open the portal at ${baseURL} and try again.`,
  );
  await expectSignedOut(member.page);
  const row = await auditRow(page, 'staff.signin.failure', portalCredentialId(credential!));
  await expect(row).toContainText(member.email);
  await expect(row).toContainText('"reason":"origin_mismatch"');
  await member.close();
});
