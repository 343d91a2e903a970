/**
 * The overview's figures against the database beside the portal. The spec opens the e2e database, which
 * only PostgreSQL allows (PGlite is one process): it runs in the PostgreSQL-only `replicas` project
 * (playwright.config.ts), as the multi-replica spec does, and `npm test` says so when DATABASE_URL is unset.
 */
import { sql } from 'drizzle-orm';
import { type Database, openDatabase, rows } from '../db/client';
import { expectAccessible } from './a11y';
import { expect, test } from './fixtures';
import { openOrg, startActing, stopActing } from './orgs';
import { e2eDatabaseUrl } from './portal-env';
import { asSuperadmin } from './staff';

let database: Database;
test.beforeAll(async () => {
  const url = e2eDatabaseUrl();
  if (!url) throw new Error('overview-figures.spec.ts needs DATABASE_URL (the replicas project)');
  database = await openDatabase({ url, max: 2 });
});
test.afterAll(async () => {
  await database?.close();
});

async function count(query: ReturnType<typeof sql>): Promise<number> {
  const [r] = await rows<{ n: number }>(database.db, query);
  return r!.n;
}

test("the overview's figures are the database's, each linked to its page", async ({
  page,
  authenticator,
}) => {
  const db = database.db;
  await asSuperadmin(page, authenticator);
  // An acting context of this spec, so that the count is not zero by accident.
  await openOrg(page, 'Harbor Point Credit Union');
  await startActing(page, 'Harbor Point Credit Union', 'SUP-7101');

  const before = await count(sql`select coalesce(max(seq), 0)::int as n from audit_log`);
  await page.goto('/');
  const main = page.getByRole('main');
  await expect(main.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  const after = await count(sql`select coalesce(max(seq), 0)::int as n from audit_log`);
  const figure = async (id: string) =>
    Number((await page.getByTestId(id).textContent())!.replaceAll(',', ''));

  expect(await figure('acting-open')).toBe(
    await count(
      sql`select count(*)::int as n from acting_contexts where ended_at is null and expires_at > now()`,
    ),
  );
  // The card lists the contexts that expire first (this spec's may be beyond the list when the suite has
  // left others open): exactly those of the database, in its order.
  const soonest = await rows<{ id: string }>(
    database.db,
    sql`select id::text from acting_contexts where ended_at is null and expires_at > now()
        order by expires_at, id limit 5`,
  );
  await expect(page.locator('[data-card="acting"] [data-context-id]')).toHaveCount(soonest.length);
  expect(
    await page
      .locator('[data-card="acting"] [data-context-id]')
      .evaluateAll((items) => items.map((i) => i.getAttribute('data-context-id'))),
  ).toEqual(soonest.map((r) => r.id));
  expect(await figure('orgs-suspended')).toBe(
    await count(sql`select count(*)::int as n from organizations where status = 'suspended'`),
  );
  expect(await figure('orgs-blocked')).toBe(
    await count(sql`select count(*)::int as n from platform_org_config
      where 0 in (requests_per_minute, tokens_per_minute, concurrent_requests, monthly_request_quota)`),
  );
  await expect(
    page.locator('[data-card="orgs"]').getByRole('link', { name: 'Summit Pharmacy Cooperative' }),
  ).toHaveAttribute('href', /^\/orgs\/[0-9a-f-]{36}$/);

  // The chain's head and SIEM lag move with every audited request: the page's figure lies between the
  // head before the request and after it.
  const head = await figure('chain-head');
  expect(head).toBeGreaterThanOrEqual(before);
  expect(head).toBeLessThanOrEqual(after);
  const [cursor] = await rows<{ seq: number }>(
    db,
    sql`select coalesce(max(delivered_seq), 0)::int as seq from siem_cursor`,
  );
  expect(await figure('siem-lag')).toBe(head - cursor!.seq);
  await expect(page.getByTestId('chain-head-state')).toHaveText('verifies');

  // Prometheus is not running for this spec: the pool card says it cannot tell, never "No alerts".
  await expect(page.getByTestId('pool-state')).toContainText('Cannot tell');
  await expect(page.locator('[data-card="pool"]')).not.toContainText('No alerts');

  // The newest entries, newest first, are the log's newest (up to the head the page read).
  const seqs = (await page
    .locator('[data-card="audit"] tbody tr')
    .evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-seq'))))) as number[];
  const newest = await rows<{ seq: number }>(
    db,
    sql`select seq::int as seq from audit_log where seq <= ${head} order by seq desc limit ${seqs.length}`,
  );
  expect(seqs).toEqual(newest.map((r) => r.seq));

  // Each card's title links to its page.
  const links = {
    'Staff acting for organisations': '/acting',
    'Suspended or blocked organisations': '/orgs?status=suspended',
    'GPU pool alerts': '/pool',
    'Audit chain': '/audit/verify',
    'SIEM delivery': '/audit/siem',
    'Newest audit entries': '/audit',
  };
  for (const [name, href] of Object.entries(links))
    await expect(main.getByRole('heading', { level: 2, name }).getByRole('link')).toHaveAttribute(
      'href',
      href,
    );
  await expectAccessible(page);
  await page.locator('[data-card="audit"] tbody tr').first().getByRole('link').first().click();
  await expect(page).toHaveURL(new RegExp(`/audit/${seqs[0]}$`));
  await page.goto('/');
  await stopActing(page);
  await expect(page.getByTestId('acting-open')).toHaveText(
    String(
      await count(
        sql`select count(*)::int as n from acting_contexts where ended_at is null and expires_at > now()`,
      ),
    ),
  );
  await expectAccessible(page);
});
