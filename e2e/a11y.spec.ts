/**
 * Every portal page, as a superadmin sees it (who sees the most), checked with axe-core for serious and
 * critical WCAG 2.1 A/AA violations: the organisation page both before and inside an acting context, with a
 * form's field errors and the step-up dialog open; then the pages anyone may open without a session.
 */
import { expectAccessible } from './a11y';
import { expect, test } from './fixtures';
import { openOrg, startActing, stopActing } from './orgs';
import { STEP_UP_MAX_AGE_S } from './settings';
import { asSuperadmin, invite, newStaffMember, signIn, signOut, uniqueEmail } from './staff';

/** An enterprise_outpost organisation in the demo data: every section of its page renders. */
const ORG = 'Rhein-Main Privatbank AG';

test('every portal page passes axe (WCAG 2.1 A/AA, no serious or critical violations)', async ({
  page,
  authenticator,
  browser,
}) => {
  // About twenty pages, each judged by axe, plus a wait past the step-up age: on a loaded two-core machine
  // this has taken just over the default minute.
  test.setTimeout(120_000);
  const first = await asSuperadmin(page, authenticator);
  // A superadmin of its own, so that its acting context never touches another spec's.
  const member = await newStaffMember(browser, page, 'superadmin', { displayName: 'Ada Axe' });
  const unusedInvite = await invite(page, { email: uniqueEmail('a11y-invitee'), role: 'auditor' });
  const p = member.page;
  await signIn(p);
  const signedInAt = Date.now();

  // Its own staff page, and another superadmin's, with the role and status forms.
  const pages = ['/', '/orgs', '/plans', '/staff', `/staff/${member.staffId}`, `/staff/${first.staffId}`];
  // /approvals with its list, and the break-glass one with the red banner (this spec's own invitation of the
  // member was applied under break-glass by e2e/staff.ts invite, and nobody has reviewed it).
  for (const path of [...pages, '/account/keys', '/approvals', '/approvals?status=break_glass']) {
    await p.goto(path);
    await expect(p.getByRole('heading', { level: 1 })).toBeVisible();
    if (path === '/approvals?status=break_glass') {
      await expect(p.locator('li[data-request-id]').first()).toBeVisible();
      await expect(p.getByRole('main').getByRole('alert')).toContainText('applied under break-glass');
    }
    await expectAccessible(p);
  }
  await p.goto('/audit');
  await expect(p.locator('tr[data-action]').first()).toBeVisible();
  await expectAccessible(p);

  // The organisation page, read-only with the "Act for" form, then with every form.
  await openOrg(p, ORG);
  await expect(p.getByRole('region', { name: 'Outposts' })).toBeVisible();
  await expectAccessible(p);
  await startActing(p, ORG, 'A11Y-1');
  await expect(p.getByRole('button', { name: 'Save entitlements' })).toBeVisible();
  await expectAccessible(p);

  // The override form's field errors, and an Outpost's mode switch opened.
  await p.getByRole('button', { name: 'Add override' }).click();
  await expect(p.locator('#override-reason')).toHaveAttribute('aria-invalid', 'true');
  await p.getByRole('button', { name: /^Switch frankfurt-prod to/ }).click();
  await expect(p.getByLabel(/Reason for switching frankfurt-prod/)).toBeFocused();
  await expectAccessible(p);

  // The step-up dialog, once the sign-in is older than the portal allows for sensitive writes; cancelled.
  await p.waitForTimeout(Math.max(0, signedInAt + (STEP_UP_MAX_AGE_S + 1) * 1000 - Date.now()));
  await p.getByLabel(/Reason for switching frankfurt-prod/).fill('Checking the step-up dialog only');
  await p.getByRole('button', { name: /^Switch to / }).click();
  const dialog = p.getByRole('dialog', { name: 'Confirm with your security key' });
  await expect(dialog).toBeVisible();
  await expectAccessible(p);
  // Modal for the keyboard too: Tab never reaches the page behind the dialog, which is inert. (Past the
  // last button, focus may leave the document for the browser's own UI, as the HTML spec allows.)
  await expect(dialog.getByRole('button', { name: 'Use security key' })).toBeFocused();
  const focusBehind = () =>
    dialog.evaluate((d) => {
      const a = document.activeElement;
      return a !== null && a !== document.body && !d.contains(a);
    });
  for (let i = 0; i < 5; i++) {
    await p.keyboard.press('Tab');
    expect(await focusBehind()).toBe(false);
  }
  await p.keyboard.press('Shift+Tab');
  expect(await focusBehind()).toBe(false);
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(p.getByText('Cancelled: the change was not made.')).toBeVisible();
  await expect(p.locator('tr[data-outpost="frankfurt-prod"] [data-testid="inference-mode"]')).toHaveText(
    'GPU',
  );

  // The acting overview, with this superadmin's context listed.
  await p.goto('/acting');
  await expect(p.getByRole('heading', { level: 1 })).toBeVisible();
  await expectAccessible(p);
  await stopActing(p);

  // The pages without a session: sign-in; enrolment, with a valid and a bad link.
  await signOut(p);
  await expectAccessible(p);
  await p.goto(unusedInvite);
  await expect(p.getByRole('button', { name: 'Register security key' })).toBeVisible();
  await expectAccessible(p);
  await p.goto(`/enroll/${'A'.repeat(43)}`);
  await expect(p.getByRole('main').getByRole('alert')).toBeVisible();
  await expectAccessible(p);
  await member.close();
});
