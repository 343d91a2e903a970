import fs from 'node:fs';
import { type Browser, expect, type Page } from '@playwright/test';
import { attachAuthenticator, type VirtualAuthenticator } from './fixtures';
import { BOOTSTRAP_LINK_FILE } from './files';

/** The first superadmin's one-time enrolment link, which `npm start` printed for e2e/serve.ts. */
export function bootstrapLink(): string {
  return fs.readFileSync(BOOTSTRAP_LINK_FILE, 'utf8').trim();
}

/** A browser of its own (a new context) with a virtual security key, as a second person would have. */
export async function newStaffBrowser(browser: Browser, baseURL: string) {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const authenticator = await attachAuthenticator(await context.newCDPSession(page));
  return { context, page, authenticator };
}

export async function enrol(page: Page, link: string, opts: { displayName: string; nickname: string }) {
  await page.goto(link);
  await page.getByLabel('Your name').fill(opts.displayName);
  await page.getByLabel('Name for this key').fill(opts.nickname);
  await page.getByRole('button', { name: 'Register security key' }).click();
  await expect(page.getByText('Your security key is registered')).toBeVisible();
}

export async function signIn(page: Page, opts: { email?: string } = {}) {
  await page.goto('/login');
  if (opts.email) await page.getByLabel(/E-mail/).fill(opts.email);
  await page.getByRole('button', { name: 'Sign in with security key' }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

export async function signInError(page: Page): Promise<string> {
  await page.goto('/login');
  await page.getByRole('button', { name: 'Sign in with security key' }).click();
  const alert = page.getByRole('main').getByRole('alert');
  await expect(alert).toBeVisible();
  return (await alert.textContent()) ?? '';
}

export async function signOut(page: Page) {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login$/);
}

/** Copies a credential into another virtual authenticator: the same key, used from another browser. */
export async function copyCredential(
  from: VirtualAuthenticator,
  to: VirtualAuthenticator,
  signCount?: number,
) {
  const [credential] = await from.credentials();
  if (!credential) throw new Error('the source authenticator has no credential');
  await to.cdp.send('WebAuthn.addCredential', {
    authenticatorId: to.authenticatorId,
    credential: { ...credential, signCount: signCount ?? credential.signCount },
  });
}
