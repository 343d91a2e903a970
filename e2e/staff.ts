import crypto from 'node:crypto';
import fs from 'node:fs';
import { type Browser, expect, type Page } from '@playwright/test';
import {
  attachAuthenticator,
  type AuthenticatorOptions,
  type CdpCredential,
  type VirtualAuthenticator,
} from './authenticator';
import { importCredential, type SavedCredential } from './credential-file';
import { BOOTSTRAP_LINK_FILE, SUPERADMIN_CREDENTIAL_FILE } from './files';

/** The first superadmin's one-time enrolment link, which `npm start` printed for e2e/serve.ts. */
export function bootstrapLink(): string {
  return fs.readFileSync(BOOTSTRAP_LINK_FILE, 'utf8').trim();
}

/** The portal's origin, which writes must send as `Origin` (lib/http/handler.ts). */
export function origin(page: Page): { Origin: string } {
  return { Origin: new URL(page.url()).origin };
}

/** An e-mail address no other test uses. */
export function uniqueEmail(prefix: string): string {
  return `${prefix}-${crypto.randomBytes(4).toString('hex')}@arbitex.local`;
}

/** A browser of its own (a new context) with a virtual security key, as a second person would have. */
export async function newStaffBrowser(browser: Browser, baseURL: string, options?: AuthenticatorOptions) {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  const authenticator = await attachAuthenticator(await context.newCDPSession(page), options);
  return { context, page, authenticator };
}

/**
 * The same key in another browser, now reporting backup flags (a synced passkey): its sign-ins are signed
 * by the key and then refused by the policy, after the signature verified.
 */
export async function backedUpCopy(browser: Browser, baseURL: string, credential: CdpCredential) {
  const copy = await newStaffBrowser(browser, baseURL);
  await copy.authenticator.addCredential({
    ...credential,
    signCount: credential.signCount + 10,
    backupEligibility: true,
    backupState: true,
  });
  return copy;
}

export interface Enrolled {
  staffId: string;
  email: string;
  role: string;
}

async function submitEnrolment(page: Page, link: string, opts: { displayName: string; nickname: string }) {
  await page.goto(link);
  await page.getByLabel('Your name').fill(opts.displayName);
  await page.getByLabel('Name for this key').fill(opts.nickname);
  await page.getByRole('button', { name: 'Register security key' }).click();
}

/** Enrols through an invitation link's page; returns what /api/enroll/verify answered. */
export async function enrol(
  page: Page,
  link: string,
  opts: { displayName: string; nickname: string },
): Promise<Enrolled> {
  const verified = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/enroll/verify');
  await submitEnrolment(page, link, opts);
  await expect(page.getByText('Your security key is registered')).toBeVisible();
  return (await (await verified).json()) as Enrolled;
}

/** Tries to enrol and returns the refusal the page shows. */
export async function enrolError(
  page: Page,
  link: string,
  opts: { displayName: string; nickname: string } = { displayName: 'Refused Person', nickname: 'Bad key' },
): Promise<string> {
  await submitEnrolment(page, link, opts);
  const alert = page.getByRole('main').getByRole('alert');
  await expect(alert).toBeVisible();
  await expect(page.getByRole('button', { name: 'Register security key' })).toBeEnabled();
  return (await alert.textContent()) ?? '';
}

/** `next` is sent as the login page's `next=` parameter, exactly as given (encoded). */
export async function signIn(page: Page, opts: { next?: string } = {}) {
  await page.goto(opts.next === undefined ? '/login' : `/login?next=${encodeURIComponent(opts.next)}`);
  await page.getByRole('button', { name: 'Sign in with security key' }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

export async function signInError(page: Page): Promise<string> {
  await page.goto('/login');
  await page.getByRole('button', { name: 'Sign in with security key' }).click();
  const alert = page.getByRole('main').getByRole('alert');
  await expect(alert).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
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
  await to.addCredential({ ...credential, signCount: signCount ?? credential.signCount });
}

/**
 * Signs `page` in as the first superadmin, whom e2e/bootstrap.setup.ts enrolled: imports the saved key
 * into the page's virtual authenticator (WebAuthn.addCredential) and runs a real sign-in with it.
 */
export async function asSuperadmin(
  page: Page,
  authenticator: VirtualAuthenticator,
): Promise<SavedCredential> {
  const saved = await importCredential(authenticator, SUPERADMIN_CREDENTIAL_FILE);
  await signIn(page);
  await expect(page.getByRole('banner')).toContainText('superadmin');
  return saved;
}

/** A ticket reference that ACTING_TICKET_PATTERN (default `^[A-Z][A-Z0-9]+-\d+$`) accepts. */
export const E2E_INCIDENT_TICKET = 'INC-4242';

/**
 * POSTs a sensitive write as the staff member signed in on `page`. Such a write needs a key check within
 * STEP_UP_MAX_AGE_S (15 s here), which a spec's sign-in may have passed on a busy machine: a new sign-in
 * with the page's key is one, and the write is sent again.
 */
export async function postWithStepUp(page: Page, url: string, data: object) {
  const post = () => page.request.post(url, { data, headers: origin(page) });
  let res = await post();
  if (res.status() === 403 && ((await res.json()) as { error?: string }).error === 'step_up_required') {
    await signIn(page);
    res = await post();
  }
  return res;
}

/** What a dual-controlled write answers (202) instead of doing it: the stored request (lib/approvals/gate). */
export interface PendingApproval {
  id: string;
  rule: string;
  reason: string;
  summary: string;
  expiresAt: string;
  message: string;
}

/**
 * Executes the signed-in superadmin's own pending request alone, under break-glass (lib/services/approvals):
 * a reason of at least 20 characters and an incident ticket. Flagged, and shown on /approvals until another
 * superadmin reviews it. Returns the write's own answer.
 */
export async function breakGlass(page: Page, requestId: string, reason: string): Promise<unknown> {
  const res = await postWithStepUp(page, `/api/approvals/${requestId}/break-glass`, {
    reason,
    ticketRef: E2E_INCIDENT_TICKET,
  });
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { result: unknown }).result;
}

/**
 * A one-time enrolment link, created through the API as the superadmin signed in on `page`.
 *
 * Inviting an admin or a superadmin needs a second person (issue #15): the API answers 202 with a stored
 * request. Most specs only need someone of that role to exist, not the approval, so this helper completes
 * the request by break-glass as the same superadmin (reason and incident ticket, flagged for review on
 * /approvals) and returns the link from the break-glass answer's `result.url`. The approval journeys
 * themselves, with a real second person, are in e2e/approvals.spec.ts and e2e/org-admin.spec.ts.
 */
export async function invite(page: Page, input: { email: string; role: string }): Promise<string> {
  const res = await postWithStepUp(page, '/api/staff/invite', input);
  if (res.status() === 202) {
    const { approval } = (await res.json()) as { approval: PendingApproval };
    expect(['admin', 'superadmin']).toContain(input.role);
    const result = await breakGlass(
      page,
      approval.id,
      `e2e fixture: the spec needs a new ${input.role} and has no second superadmin yet`,
    );
    return (result as { url: string }).url;
  }
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { url: string }).url;
}

/** Confirms the step-up dialog with the page's security key. */
export async function confirmStepUp(page: Page) {
  const dialog = page.getByRole('dialog', { name: 'Confirm with your security key' });
  await expect(dialog).toBeVisible();
  await dialog.getByRole('button', { name: 'Use security key' }).click();
  await expect(dialog).toBeHidden();
}

export interface StaffMember extends Enrolled {
  displayName: string;
  page: Page;
  authenticator: VirtualAuthenticator;
  close(): Promise<void>;
}

/**
 * Someone new: `superadmin` (a signed-in superadmin's page) invites them, and they enrol a key in a browser
 * of their own. Not signed in yet.
 */
export async function newStaffMember(
  browser: Browser,
  superadmin: Page,
  role: string,
  opts: { displayName?: string; authenticator?: AuthenticatorOptions } = {},
): Promise<StaffMember> {
  const tag = crypto.randomBytes(3).toString('hex');
  const email = `${role}-${tag}@arbitex.local`;
  const link = await invite(superadmin, { email, role });
  const { context, page, authenticator } = await newStaffBrowser(
    browser,
    new URL(superadmin.url()).origin,
    opts.authenticator,
  );
  const displayName = opts.displayName ?? `${role[0]!.toUpperCase()}${role.slice(1)} ${tag}`;
  const enrolled = await enrol(page, link, { displayName, nickname: `${role} key` });
  return { ...enrolled, displayName, page, authenticator, close: () => context.close() };
}
