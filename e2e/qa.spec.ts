/**
 * QA against a deployed portal (E2E_BASE_URL, E2E_QA_CREDENTIAL): the QA auditor signs in with a key
 * imported through WebAuthn.addCredential, reads, and is refused a write. Locally the same tests run with
 * the auditor e2e/bootstrap.setup.ts enrolled through `npm run e2e:qa-credential`.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { expect, test } from './fixtures';
import { asSuperadmin, invite, origin, uniqueEmail } from './staff';

test(
  'the QA auditor signs in with the imported key and can read',
  { tag: '@deployed' },
  async ({ page, qaAuditor }) => {
    await expect(page.getByRole('banner')).toContainText('auditor');
    // The overview's first line names who is signed in and with which role.
    await expect(page.getByRole('main')).toContainText(`(${qaAuditor.email}), role auditor`);

    for (const [path, heading] of [
      ['/audit', 'Audit log'],
      ['/staff', 'Staff'],
      ['/orgs', 'Organisations'],
    ] as const) {
      const response = await page.goto(path);
      expect(response?.status(), path).toBe(200);
      await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
    }
    await page.goto('/audit');
    await expect(page.locator('tr[data-action]').first()).toBeVisible();
  },
);

test('the QA auditor is refused a write (403)', { tag: '@deployed' }, async ({ page, qaAuditor }) => {
  await page.goto('/staff');
  await expect(page.getByRole('heading', { name: 'Invite a staff member' })).toHaveCount(0);
  const response = await page.request.post('/api/staff/invite', {
    data: { email: uniqueEmail('qa-write'), role: 'auditor' },
    headers: origin(page),
  });
  expect(response.status()).toBe(403);
  expect(await response.json()).toEqual({
    error: 'forbidden',
    message: 'Your role (auditor) does not have the permission staff.manage.',
  });
  expect(qaAuditor.role).toBe('auditor');
});

// Local only (no @deployed tag): it invites through the superadmin the local setup enrolled.
test('npm run e2e:qa-credential refuses an invitation for another role, and a file git would pick up', async ({
  page,
  authenticator,
}) => {
  const run = (...args: string[]) =>
    promisify(execFile)('node_modules/.bin/tsx', ['e2e/qa-credential.ts', ...args], { timeout: 60_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => ({ code: err.code, stderr: err.stderr }),
    );
  await asSuperadmin(page, authenticator);
  const email = uniqueEmail('qa-support');
  const link = await invite(page, { email, role: 'support' });

  // Inside this repository, where git would commit it: refused before anything else happens.
  const tracked = await run(link, '--out', 'qa-credential.json');
  expect(tracked.code).toBe(1);
  expect(tracked.stderr).toContain('is inside a git working tree and not ignored by git');
  expect(fs.existsSync('qa-credential.json')).toBe(false);

  // A support invitation: refused before enrolling, so the invitation is still unused.
  const out = `.e2e/qa-support-${Date.now()}.json`;
  const support = await run(link, '--out', out);
  expect(support.code).toBe(1);
  expect(support.stderr).toContain(
    "This invitation is for the role support. A QA credential must be an auditor's: ask for an auditor invitation. Nothing was enrolled.",
  );
  expect(fs.existsSync(out)).toBe(false);
  await page.goto(link);
  await expect(page.getByRole('button', { name: 'Register security key' })).toBeVisible();
});
