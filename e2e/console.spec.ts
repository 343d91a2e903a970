/**
 * The console's shell, overview and lists (issue #16 items 2, 4 and 9): the grouped sidebar and its current
 * page, keyboard reach, the not-found page inside the shell, the overview's figures against the database, and
 * /orgs sorting, total and page number. Every new page and state is checked with axe.
 */
import { sql } from 'drizzle-orm';
import type { Page } from '@playwright/test';
import { type Database, openDatabase, rows } from '../db/client';
import { PLAN_TIERS } from '../lib/plans';
import { expectAccessible } from './a11y';
import { expect, test } from './fixtures';
import { openOrg, startActing, stopActing } from './orgs';
import { e2eDatabaseUrl } from './portal-env';
import { asSuperadmin, newStaffMember, signIn } from './staff';

const GROUPS = ['Home', 'Customers', 'Operations', 'Audit', 'Administration', 'Me'];
const THIS_MONTH = sql.raw(`(date_trunc('month', now() at time zone 'UTC'))::date`);

// The figures are compared with the database, which the spec can open only on PostgreSQL (PGlite is one process).
let database: Database | undefined;
test.beforeAll(async () => {
  const url = e2eDatabaseUrl();
  if (url) database = await openDatabase({ url, max: 2 });
});
test.afterAll(async () => {
  await database?.close();
});

async function count(query: ReturnType<typeof sql>): Promise<number> {
  const [r] = await rows<{ n: number }>(database!.db, query);
  return r!.n;
}

const sidebar = (page: Page) => page.getByRole('navigation', { name: 'Main' });

test('the sidebar: groups per role, the current page marked, every group reachable with Tab', async ({
  page,
  authenticator,
  browser,
}) => {
  await asSuperadmin(page, authenticator);
  const nav = sidebar(page);
  await expect(nav.getByRole('group')).toHaveCount(GROUPS.length);
  for (const name of GROUPS) await expect(nav.getByRole('group', { name, exact: true })).toBeVisible();
  await expect(nav.getByRole('group', { name: 'Administration', exact: true }).getByRole('link')).toHaveText([
    'Staff',
    'Audit keys',
  ]);

  // The overview is the current page on /, and only it.
  await expect(nav.locator('[aria-current]')).toHaveCount(1);
  await expect(nav.getByRole('link', { name: 'Overview' })).toHaveAttribute('aria-current', 'page');

  // Keyboard only: Tab from the top of the page reaches a link of every group, in order.
  await page.locator('body').focus();
  const reached: string[] = [];
  for (let i = 0; i < 40 && reached.length < GROUPS.length; i++) {
    await page.keyboard.press('Tab');
    const group = await page.evaluate(() => {
      const a = document.activeElement;
      const g = a?.closest('nav[aria-label="Main"] [role="group"]');
      return g ? document.getElementById(g.getAttribute('aria-labelledby') ?? '')?.textContent : null;
    });
    if (group && reached.at(-1) !== group) reached.push(group);
    // Enter on the Plans link opens it, and the sidebar marks it.
    if (
      (await page.evaluate(() => document.activeElement?.textContent)) === 'Plans' &&
      !page.url().endsWith('/plans')
    ) {
      await page.keyboard.press('Enter');
      await expect(page).toHaveURL(/\/plans$/);
      await expect(nav.getByRole('link', { name: 'Plans' })).toHaveAttribute('aria-current', 'page');
      await expect(nav.getByRole('link', { name: 'Plans' })).toBeFocused();
    }
  }
  expect(reached).toEqual(GROUPS);

  // A page of its own marks its entry; a page below an entry marks that entry as the current section.
  await page.goto('/audit/siem');
  await expect(nav.getByRole('link', { name: 'SIEM delivery' })).toHaveAttribute('aria-current', 'page');
  await expect(nav.getByRole('link', { name: 'Audit log' })).not.toHaveAttribute('aria-current');
  await openOrg(page, 'Harbor Point Credit Union');
  await expect(nav.getByRole('link', { name: 'Organisations' })).toHaveAttribute('aria-current', 'true');
  await expect(nav.locator('[aria-current]')).toHaveCount(1);
  await page.goto('/audit/keys');
  await expect(nav.getByRole('link', { name: 'Audit keys' })).toHaveAttribute('aria-current', 'page');
  await expectAccessible(page);

  // Support: no Administration group (no staff.read, no audit.verify), no acting list; the rest as before.
  const support = await newStaffMember(browser, page, 'support', { displayName: 'Sam Sidebar' });
  await signIn(support.page);
  const supportNav = sidebar(support.page);
  await expect(supportNav.getByRole('group')).toHaveCount(5);
  await expect(supportNav.getByRole('group', { name: 'Administration', exact: true })).toHaveCount(0);
  await expect(
    supportNav.getByRole('group', { name: 'Operations', exact: true }).getByRole('link'),
  ).toHaveText(['GPU pool', /^Approvals/]); // with a badge while a break-glass waits for review
  await expect(supportNav.getByRole('group', { name: 'Audit', exact: true }).getByRole('link')).toHaveText([
    'Audit log',
    'SIEM delivery',
    'Checkpoints',
  ]);
  await support.close();
});

test('not found, inside the shell, saying what was not found', async ({ page, authenticator }) => {
  await asSuperadmin(page, authenticator);
  const res = await page.goto('/no-such-page/here');
  expect(res?.status()).toBe(404);
  await expect(sidebar(page)).toBeVisible();
  await expect(page.getByRole('main')).toContainText('There is no page at /no-such-page/here');
  await expectAccessible(page);

  const missing = crypto.randomUUID();
  expect((await page.goto(`/orgs/${missing}`))?.status()).toBe(404);
  await expect(page.getByRole('main')).toContainText(`There is no organisation ${missing}`);
  await expect(sidebar(page).getByRole('link', { name: 'Organisations' })).toHaveAttribute(
    'aria-current',
    'true',
  );
  await page.getByRole('link', { name: 'Back to the organisation list' }).click();
  await expect(page).toHaveURL(/\/orgs$/);
});

test('the overview shows only what the role may read', async ({ page, authenticator, browser }) => {
  await asSuperadmin(page, authenticator);
  const support = await newStaffMember(browser, page, 'support', { displayName: 'Sam Overview' });
  await signIn(support.page);
  await support.page.goto('/');
  const main = support.page.getByRole('main');
  await expect(main.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  await expect(main.getByRole('heading', { level: 2 })).toHaveText([
    'Suspended or blocked organisations',
    'Two-person approvals',
    'GPU pool alerts',
    'Audit chain',
    'SIEM delivery',
    'Newest audit entries',
  ]);
  // No acting list (acting.list) and no verification runs (audit.verify) for support.
  await expect(support.page.getByTestId('chain-last-run')).toHaveCount(0);
  await expectAccessible(support.page);
  await support.close();
});

test('/orgs: the total and the page number, sorted by name, tier or usage, one line a row', async ({
  page,
  authenticator,
}) => {
  await asSuperadmin(page, authenticator);
  await page.goto('/orgs?size=10');
  const rows_ = page.locator('main tbody tr');
  const total = Number((await page.getByTestId('orgs-total').textContent())!.replaceAll(',', ''));
  if (database) expect(total).toBe(await count(sql`select count(*)::int as n from organizations`));
  const pages = Math.ceil(total / 10);
  await expect(page.getByTestId('orgs-summary')).toHaveText(
    `${total.toLocaleString('en')} organisations match · page 1 of ${pages}`,
  );
  // Cells keep to one line: every row is as tall as the first.
  const heights = await rows_.evaluateAll((trs) =>
    trs.map((tr) => Math.round(tr.getBoundingClientRect().height)),
  );
  expect(new Set(heights).size).toBe(1);

  // By tier, with the column header; the header says how the table is sorted.
  await page.getByRole('link', { name: /^Tier, sort by tier/ }).click();
  await expect(page).toHaveURL(/sort=tier/);
  await expect(page.getByRole('columnheader', { name: /Tier/ })).toHaveAttribute('aria-sort', 'ascending');
  await expect(page.getByRole('columnheader', { name: /^Name/ })).not.toHaveAttribute('aria-sort');
  const tiers = await page
    .locator('main tbody td[data-tier]')
    .evaluateAll((tds) => tds.map((td) => td.getAttribute('data-tier')!));
  const order = tiers.map((t) => PLAN_TIERS.indexOf(t as (typeof PLAN_TIERS)[number]));
  expect(order).toEqual([...order].sort((a, b) => a - b));
  await expectAccessible(page);

  // By usage, every page from the first to the last: each organisation once, most requests first, and
  // among them the organisations over quota this month (the demo data has some).
  await page.goto('/orgs?sort=usage&size=10');
  await expect(page.getByRole('columnheader', { name: /Requests \/ quota/ })).toHaveAttribute(
    'aria-sort',
    'descending',
  );
  const seen: string[] = [];
  const requests: number[] = [];
  let over = 0;
  for (let n = 1; ; n++) {
    await expect(page.getByTestId('orgs-page')).toHaveText(String(n));
    seen.push(...(await rows_.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-org-id')!))));
    over += await page.locator('main tbody tr[data-over-quota]').count();
    requests.push(
      ...(await page
        .locator('main tbody td[data-requests]')
        .evaluateAll((tds) =>
          tds.map((td) =>
            td.getAttribute('data-requests') === '' ? -1 : Number(td.getAttribute('data-requests')),
          ),
        )),
    );
    const next = page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: 'Next →' });
    if ((await next.count()) === 0) break;
    await next.click();
    await expect(page.getByTestId('orgs-page')).toHaveText(String(n + 1));
  }
  expect(seen.length).toBe(total);
  expect(new Set(seen).size).toBe(total);
  expect(requests).toEqual([...requests].sort((a, b) => b - a));
  expect(over).toBeGreaterThanOrEqual(2);
  if (database) {
    const want = await rows<{ id: string }>(
      database.db,
      sql`select o.id::text as id from organizations o
          left join usage_monthly u on u.org_id = o.id and u.month = ${THIS_MONTH}
          order by (u.requests is null), u.requests desc, (case when u.requests is not null then o.id end) desc,
                   lower(o.name) collate "C", o.id`,
    );
    expect(seen).toEqual(want.map((r) => r.id));
  }

  // A sort the list does not have is a message next to the search, not an error page; so is an empty result.
  const bad = await page.goto('/orgs?sort=revenue');
  expect(bad?.status()).toBe(200);
  await expect(page.getByRole('main').getByRole('alert')).toContainText(
    'The sort must be one of name, tier, usage',
  );
  await page.goto('/orgs?q=zzzz-no-such-organisation');
  await expect(page.locator('[data-empty-state]')).toContainText('No organisation matches this search.');
  await expectAccessible(page);
});

test('/acting shows expiry and links organisations; /plans is one table', async ({ page, authenticator }) => {
  await asSuperadmin(page, authenticator);
  await openOrg(page, 'Meadowbrook Family Clinic');
  await startActing(page, 'Meadowbrook Family Clinic', 'SUP-7102');
  await page.goto('/acting');
  const row = page.locator('tr[data-context-id]').filter({ hasText: 'SUP-7102' }).first();
  await expect(row.locator('td[data-expires]')).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
  await expect(row.getByRole('link', { name: 'Meadowbrook Family Clinic' })).toHaveAttribute(
    'href',
    /^\/orgs\/[0-9a-f-]{36}$/,
  );
  await expectAccessible(page);
  await stopActing(page);

  await page.goto('/plans');
  const table = page.getByRole('table', { name: 'Plan tier defaults, one tier a column' });
  await expect(table.getByRole('columnheader')).toHaveCount(1 + PLAN_TIERS.length);
  const quota = table.getByRole('row', { name: /Monthly request quota/ });
  await expect(quota.getByRole('cell').first()).toHaveText(/^\d{1,3}(,\d{3})*$/);
  await expectAccessible(page);
});
