import { expect, test } from './fixtures';
import { asSuperadmin } from './staff';

test('the organisation list: search by name, filter by tier and status, share the URL, page through', async ({
  page,
  authenticator,
}) => {
  await asSuperadmin(page, authenticator);
  await page.goto('/orgs');
  const rows = page.locator('main tbody tr');
  const names = () => rows.locator('td:first-child a').allTextContents();

  // A name prefix, typed and submitted with the keyboard; the URL carries the search.
  const search = page.getByRole('search', { name: 'Organisations' });
  await search.getByLabel('Name, slug or id').fill('harbor');
  await search.getByLabel('Name, slug or id').press('Enter');
  await expect(page).toHaveURL(/\/orgs\?q=harbor(&|$)/);
  await expect(rows).toHaveCount(1);
  const harbor = rows.first();
  await expect(harbor).toContainText('Harbor Point Credit Union');
  await expect(harbor).toContainText('harbor-point-cu');
  await expect(harbor).toContainText('Developer Free');
  await expect(harbor).toContainText('Required: any MFA');
  await expect(harbor).toContainText(/[\d,]+ \/ 100,000 \(\d+ %\)/);

  // The URL alone reproduces it, and the name opens the organisation.
  const shared = page.url();
  await page.goto('/');
  await page.goto(shared);
  await expect(page.getByLabel('Name, slug or id')).toHaveValue('harbor');
  await rows.first().getByRole('link', { name: 'Harbor Point Credit Union' }).click();
  await expect(page).toHaveURL(/\/orgs\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Harbor Point Credit Union');

  // A tier: only organisations on it. The exact slug finds its organisation too.
  await page.goto('/orgs');
  await page.getByLabel('Plan tier').selectOption('enterprise_outpost');
  await page.getByRole('button', { name: 'Search' }).press('Enter');
  await expect(page).toHaveURL(/tier=enterprise_outpost/);
  await expect(rows).toHaveCount(6);
  for (const cell of await rows.locator('td[data-tier]').all()) {
    await expect(cell).toHaveAttribute('data-tier', 'enterprise_outpost');
  }
  expect(await names()).toContain('National Reserve Trust Bank');
  await page.goto('/orgs?q=rhein-main-privatbank');
  expect(await names()).toEqual(['Rhein-Main Privatbank AG']);

  await page.goto('/orgs?status=suspended');
  expect(await names()).toContain('Summit Pharmacy Cooperative');
  for (const row of await rows.all()) await expect(row).toContainText('Suspended');

  // A bad filter is a message on the page, next to the field, not an error page.
  const bad = await page.goto('/orgs?tier=platinum');
  expect(bad?.status()).toBe(200);
  await expect(page.getByRole('main').getByRole('alert')).toContainText('The tier must be one of');
  await expect(page.getByLabel('Plan tier')).toHaveAttribute('aria-invalid', 'true');
  await expect(rows).toHaveCount(0);

  // Pages of 10, forward to the end and back again: every organisation once, in the same order.
  await page.goto('/orgs?size=100');
  const all = await names();
  expect(all.length).toBeGreaterThan(30);
  await page.goto('/orgs?size=10');
  const pager = page.getByRole('navigation', { name: 'Pages' });
  const next = pager.getByRole('link', { name: 'Next →' });
  const prev = pager.getByRole('link', { name: '← Previous' });
  /** Follows a pager link and waits for the other page. */
  const follow = async (link: typeof next) => {
    const first = (await rows.first().textContent())!;
    await link.click();
    await expect(rows.first()).not.toHaveText(first);
    await expect(page.getByLabel('Per page')).toHaveValue('10');
    return names();
  };
  const pages: string[][] = [await names()];
  await expect(prev).toHaveCount(0);
  while ((await next.count()) > 0) pages.push(await follow(next));
  expect(pages.flat()).toEqual(all);
  expect(pages.slice(0, -1).every((p) => p.length === 10)).toBe(true);
  for (let i = pages.length - 2; i >= 0; i--) expect(await follow(prev)).toEqual(pages[i]);
  await expect(prev).toHaveCount(0);
});
