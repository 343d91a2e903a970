import { expect, type Page } from '@playwright/test';
import { confirmStepUp } from './staff';

/** Opens an organisation from the /orgs list by its name; returns its id. */
export async function openOrg(page: Page, name: string): Promise<string> {
  await page.goto('/orgs');
  await page.getByRole('link', { name, exact: true }).click();
  await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
  return new URL(page.url()).pathname.split('/').at(-1)!;
}

/** Starts acting for the organisation whose page is open. */
export async function startActing(page: Page, orgName: string, ticket = 'SUP-2041') {
  await page.getByLabel('Reason').fill('Customer reported rate-limit errors during onboarding');
  await page.getByLabel('Ticket reference').fill(ticket);
  await page.getByRole('button', { name: `Start acting for ${orgName}` }).click();
  await expect(page.getByRole('region', { name: 'Acting context' })).toContainText(`Acting for ${orgName}`);
}

/** Stops the acting context shown in the banner. */
export async function stopActing(page: Page) {
  const banner = page.getByRole('region', { name: 'Acting context' });
  await banner.getByRole('button', { name: 'Stop acting' }).click();
  await expect(banner).toBeHidden();
}

/**
 * Runs a sensitive write's `submit`, confirming the step-up dialog if the portal asks for it (the sign-in
 * is older than STEP_UP_MAX_AGE_S), and waits for `done`.
 */
export async function withStepUp(page: Page, submit: () => Promise<void>, done: RegExp | string) {
  await submit();
  const success = page.getByText(done);
  const stepUp = page.getByRole('dialog', { name: 'Confirm with your security key' });
  await expect(success.or(stepUp)).toBeVisible();
  if (await stepUp.isVisible()) await confirmStepUp(page);
  await expect(success).toBeVisible();
}
