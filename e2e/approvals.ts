/**
 * Two-person approval (issue #15) from the browser: a dual-controlled write stores a request (202) that
 * another staff member applies on /approvals, or its superadmin requester applies alone under break-glass.
 */
import { expect, type Locator, type Page } from '@playwright/test';
import { openOrg, startActing, withStepUp } from './orgs';
import { E2E_INCIDENT_TICKET, signIn } from './staff';

/** What a form shows instead of its done message when the write became a request (lib/approvals/gate.ts). */
export const REQUESTED = /^Nothing is changed yet: this needs a second person\. Request [0-9a-f]{8} waits/;

/**
 * Opens `path` on the staff member's page, signing in again with the page's key when its session idled
 * out meanwhile (the e2e idle timeout is short, and an approver waits while the requester works). True when
 * it signed in again, which is a fresh key check.
 */
export async function visit(page: Page, path: string): Promise<boolean> {
  await page.goto(path);
  if (new URL(page.url()).pathname !== '/login') return false;
  await signIn(page, { next: path });
  return true;
}

/** The pending request a section of the organisation page shows (`[data-pending-request]`): its id. */
export async function pendingRequestId(section: Locator): Promise<string> {
  const notice = section.locator('[data-pending-request]');
  await expect(notice).toHaveCount(1);
  return (await notice.getAttribute('data-pending-request'))!;
}

/** One request on /approvals. */
export const requestItem = (page: Page, id: string) => page.locator(`li[data-request-id="${id}"]`);

/**
 * Acting for the organisation, as the approver of one of its writes must be: the approved write runs as the
 * approver and checks the acting context. Returns the organisation's id.
 */
export async function actFor(page: Page, orgName: string, ticket: string): Promise<string> {
  await visit(page, '/orgs');
  const orgId = await openOrg(page, orgName);
  const banner = page.getByRole('region', { name: 'Acting context' });
  if ((await banner.filter({ hasText: `Acting for ${orgName}` }).count()) === 0) {
    await startActing(page, orgName, ticket);
  }
  return orgId;
}

/**
 * Approves request `id` on /approvals as the staff member signed in on `page`, with the step-up the portal
 * asks for when the last key check is older than STEP_UP_MAX_AGE_S; the request leaves the pending list.
 */
export async function approve(page: Page, id: string) {
  await visit(page, '/approvals');
  const item = requestItem(page, id);
  await expect(item).toBeVisible();
  await withStepUp(
    page,
    () => item.getByRole('button', { name: 'Approve and apply' }).click(),
    /^Approved and applied: /,
  );
  await expect(item).toHaveCount(0);
}

/** Applies the signed-in superadmin's own request `id` alone, under break-glass, on /approvals. */
export async function breakGlassOnPage(page: Page, id: string, reason: string) {
  await visit(page, '/approvals');
  const item = requestItem(page, id);
  await item.getByRole('button', { name: 'Break glass…' }).click();
  await item.getByLabel('Why this cannot wait (at least 20 characters)').fill(reason);
  await item.getByLabel('Incident ticket').fill(E2E_INCIDENT_TICKET);
  await withStepUp(
    page,
    () => item.getByRole('button', { name: 'Apply without a second person' }).click(),
    /^Applied under break-glass \(another superadmin must review it\): /,
  );
  await expect(item).toHaveCount(0);
}
