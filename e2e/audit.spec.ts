/**
 * The audit chain as staff read it: the explorer's filters in the URL, one entry with its neighbours, the OCSF
 * export downloaded and read line by line, and SIEM delivery to a Splunk HEC stand-in (test/hec-receiver.ts)
 * that the e2e portal sends to (e2e/serve.ts). Every page is checked with axe.
 */
import fs from 'node:fs';
import { hecReceiver } from '../test/hec-receiver';
import { expectAccessible } from './a11y';
import { expect, test } from './fixtures';
import { E2E_HEC_PORT, E2E_HEC_TOKEN } from './settings';
import { asSuperadmin } from './staff';

type Line = Record<string, unknown> & {
  type?: string;
  class_uid?: number;
  type_uid?: number;
  activity_id?: number;
  unmapped?: {
    seq: number;
    hmac: string;
    audit: { seq: number; action: string; prev_hmac: string; hmac: string };
  };
};

const parseLines = (text: string): Line[] =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);

test('filter the audit log, open an entry and walk the chain, download an export', async ({
  page,
  authenticator,
}) => {
  const me = await asSuperadmin(page, authenticator);
  await page.goto('/audit');
  await expect(page.getByRole('heading', { name: 'Audit log', level: 1 })).toBeVisible();
  await expectAccessible(page);
  const rows = page.locator('main tbody tr[data-action]');

  // Filters with the keyboard alone: an action and a staff member; the URL carries them.
  const search = page.getByRole('search', { name: 'Audit log' });
  await search.getByLabel('Action').selectOption('staff.signin.success');
  await search.getByLabel(/Staff member/).fill(me.email);
  await search.getByLabel(/Staff member/).press('Enter');
  await expect(page).toHaveURL(/action=staff.signin.success/);
  await expect(page).toHaveURL(new RegExp(`actor=${encodeURIComponent(me.email)}`));
  await expect(rows.first()).toBeVisible();
  for (const row of await rows.all()) {
    await expect(row).toHaveAttribute('data-action', 'staff.signin.success');
    await expect(row).toContainText(me.email);
  }
  await expect(search.getByLabel('Action')).toHaveValue('staff.signin.success');
  await expectAccessible(page);

  // A time range in the future finds nothing; a bad organisation is a message next to the field.
  await page.goto('/audit?from=2099-01-01T00:00');
  await expect(page.getByRole('main')).toContainText('No audit entry matches this search.');
  const bad = await page.goto('/audit?org=no-such-organisation');
  expect(bad?.status()).toBe(200);
  // Said once, next to the field; the alert says where to look.
  await expect(page.getByRole('main').getByRole('alert')).toHaveText(
    'The filter is not valid: correct the field marked above.',
  );
  await expect(page.getByLabel(/Organisation/)).toHaveAccessibleDescription(
    'No organisation has the slug “no-such-organisation”.',
  );
  await expect(page.getByLabel(/Organisation/)).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel(/Organisation/)).toHaveValue('no-such-organisation');
  await expectAccessible(page);
  await page.goto('/audit?outcome=maybe&from=yesterday');
  await expect(page.getByLabel('Outcome')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel(/^From/)).toHaveAttribute('aria-invalid', 'true');

  // Open the newest sign-in, then walk to the entry before it and back: prev_hmac is the previous hmac.
  await page.goto(`/audit?${new URLSearchParams({ action: 'staff.signin.success', actor: me.staffId! })}`);
  const seq = Number(await rows.first().getAttribute('data-seq'));
  await rows
    .first()
    .getByRole('link', { name: `Entry ${seq}` })
    .click();
  await expect(page).toHaveURL(new RegExp(`/audit/${seq}$`));
  await expect(page.getByRole('heading', { name: `Audit entry ${seq}`, level: 1 })).toBeVisible();
  const who = page.getByRole('region', { name: 'Who' });
  await expect(who).toContainText(me.email);
  const chain = page.getByRole('region', { name: 'Chain' });
  const field = (name: string) =>
    chain.locator('dt', { hasText: new RegExp(`^${name}$`) }).locator('xpath=following-sibling::dd');
  const prevHmac = (await field('prev_hmac').textContent())!.trim();
  const hmac = (await field('hmac').textContent())!.trim();
  expect(prevHmac).toMatch(/^[0-9a-f]{64}$/);
  expect(hmac).toMatch(/^[0-9a-f]{64}$/);
  await expect(field('hmac_key_id')).not.toBeEmpty();
  await expectAccessible(page);

  const entries = page.getByRole('navigation', { name: 'Entries' });
  await entries.getByRole('link', { name: `← Entry ${seq - 1}` }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: `Audit entry ${seq - 1}`, level: 1 })).toBeVisible();
  expect((await field('hmac').textContent())!.trim()).toBe(prevHmac);
  await entries.getByRole('link', { name: `Entry ${seq} →` }).click();
  await expect(page.getByRole('heading', { name: `Audit entry ${seq}`, level: 1 })).toBeVisible();

  // The export of the filtered log: a header, then one Authentication Logon event per sign-in.
  await page.goto(`/audit?${new URLSearchParams({ action: 'staff.signin.success' })}`);
  const shown = (
    await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-seq'))))
  ).reverse();
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download OCSF export (NDJSON)' }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/^arbitex-audit-\d{8}T\d{6}Z\.ndjson$/);
  const lines = parseLines(fs.readFileSync((await download.path())!, 'utf8'));
  const [header, ...rest] = lines;
  expect(header).toMatchObject({
    type: 'arbitex.audit.export',
    version: 1,
    contiguous: false,
    filters: { action: 'staff.signin.success' },
  });
  const events = rest.filter((l) => l.class_uid !== undefined);
  // The page shows the newest 50 at most; the export has all of them, oldest first.
  expect(events.map((e) => e.unmapped!.seq).slice(-shown.length)).toEqual(shown);
  for (const e of events) {
    expect(e).toMatchObject({ class_uid: 3002, activity_id: 1, type_uid: 300201 });
    expect(e.unmapped!.audit.action).toBe('staff.signin.success');
    expect(e.unmapped!.hmac).toBe(e.unmapped!.audit.hmac);
  }
  const seqs = events.map((e) => e.unmapped!.seq);
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));

  // The whole log: every seq from the first, each linked to the one before; the export's own entry last.
  const all = await page.request.get('/api/audit/export');
  expect(all.status()).toBe(200);
  expect(all.headers()['content-type']).toContain('application/x-ndjson');
  const whole = parseLines(await all.text());
  expect(whole[0]).toMatchObject({ type: 'arbitex.audit.export', contiguous: true, from_seq: 1 });
  const chained = whole.filter((l) => l.class_uid !== undefined).map((l) => l.unmapped!.audit);
  expect(chained.map((c) => c.seq)).toEqual(chained.map((_, i) => i + 1));
  for (let i = 1; i < chained.length; i++) expect(chained[i]!.prev_hmac).toBe(chained[i - 1]!.hmac);
  expect(chained.at(-1)).toMatchObject({ action: 'audit.exported' });

  // Both downloads are in the log, by this superadmin.
  await page.goto(`/audit?${new URLSearchParams({ action: 'audit.exported', actor: me.email })}`);
  await expect(rows).toHaveCount(2);
  await expect(rows.first()).toContainText('"format":"ocsf-ndjson"');
});

test('SIEM delivery: failing while Splunk is away, then every entry delivered once, in order', async ({
  page,
  authenticator,
}) => {
  await asSuperadmin(page, authenticator);
  await page.goto('/audit/siem');
  await expect(page.getByRole('heading', { name: 'SIEM delivery', level: 1 })).toBeVisible();
  // No receiver yet: the deliverer keeps trying and says why.
  await expect(page.getByRole('main').getByRole('alert')).toContainText('Delivery is failing');
  await expectAccessible(page);

  const receiver = await hecReceiver({
    token: E2E_HEC_TOKEN,
    port: E2E_HEC_PORT,
    plan: (n) => (n === 1 ? '503' : 'ok'),
  });
  try {
    const status = page.getByTestId('siem-status');
    await expect(async () => {
      await page.reload();
      await expect(page.getByRole('main').getByRole('status').first()).toContainText('Caught up');
    }).toPass({ timeout: 30_000 });
    const delivered = Number(await status.locator('[data-delivered-seq]').getAttribute('data-delivered-seq'));
    await expect(status.locator('[data-lag]')).toHaveAttribute('data-lag', '0');
    expect(receiver.problems).toEqual([]);
    expect(receiver.refusedTokens).toBe(0);
    expect(receiver.accepted.slice(0, delivered)).toEqual(Array.from({ length: delivered }, (_, i) => i + 1));
    expect(new Set(receiver.accepted).size).toBe(receiver.accepted.length);
    expect(receiver.counts['503']).toBeGreaterThan(0);
    await expectAccessible(page);
  } finally {
    await receiver.close();
  }
});
