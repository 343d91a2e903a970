/**
 * The GPU pool view against a real Prometheus: this file starts one (test/prometheus.ts, the Debian
 * package's binary) on the fixture exporters, on the port the e2e portal's PROMETHEUS_URL names, and stops
 * it at the end. The page's figures are compared with the same PromQL evaluated by that Prometheus at the
 * moment the page shows; then Prometheus is stopped (the unreachable state) and started again. The "not
 * configured" state needs a portal without PROMETHEUS_URL: an embedded `npm start` of its own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import type { Page } from '@playwright/test';
import * as fmt from '../lib/format';
import { BLOCKED_BY, EXPECTED, NODES, STICKY_XID, SYSTEM_NODE, XID_CYCLE } from './fixtures/metrics/model';
import { BURN_PAIRS, burnRate } from '../lib/pool/burn';
import { instantQueries } from '../lib/pool/promql';
import { type PoolHarness, startPoolHarness } from '../test/prometheus';
import { expectAccessible } from './a11y';
import { expect, test } from './fixtures';
import { actFor, approve, pendingRequestId, REQUESTED } from './approvals';
import { openOrg, startActing, stopActing, withStepUp } from './orgs';
import {
  BARE_PORTAL_PORT,
  FIXTURE_PORT,
  POOL_P95_TARGET_MS,
  POOL_REFRESH_S,
  PROMETHEUS_PORT,
} from './settings';
import { asSuperadmin, enrol, newStaffBrowser, newStaffMember, signIn } from './staff';
import { ENROL_LINE } from '../scripts/enrol-banner';

test.describe.configure({ mode: 'serial' });

let harness: PoolHarness;

test.beforeAll(async () => {
  test.setTimeout(180_000);
  harness = await startPoolHarness({ prometheusPort: PROMETHEUS_PORT, fixturePort: FIXTURE_PORT });
});

test.afterAll(async () => {
  await harness?.stop();
});

/** One instant query straight to Prometheus, at `time` (unix seconds): every sample, with its labels. */
async function prometheusVector(expr: string, time: number) {
  const res = await fetch(`${harness.url}/api/v1/query`, {
    method: 'POST',
    body: new URLSearchParams({ query: expr, time: String(time) }),
  });
  const body = (await res.json()) as {
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  return body.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}

/** The first sample's value, or null for no sample (or NaN, a quantile of nothing). */
async function prometheus(expr: string, time: number): Promise<number | null> {
  const [first] = await prometheusVector(expr, time);
  return first && Number.isFinite(first.value) ? first.value : null;
}

/** Opens /pool, waits for the figures, and pauses the refresh so that they stay put; returns their time. */
async function openPaused(page: Page): Promise<number> {
  await page.goto('/pool');
  await expect(page.getByTestId('pool-figures')).toBeVisible();
  await page.getByRole('button', { name: 'Pause auto-refresh' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Auto-refresh paused' })).not.toContainText(
    'refreshing',
  );
  const asOf = await page.getByTestId('as-of').locator('time').getAttribute('datetime');
  return Date.parse(asOf!) / 1000;
}

test('/pool shows the figures Prometheus computes for the same PromQL, with the alerts', async ({
  page,
  authenticator,
}) => {
  await asSuperadmin(page, authenticator);
  const time = await openPaused(page);
  const q = instantQueries({ nodePattern: 'aks-gpupool-.*' });
  const figure = (metric: string) => page.locator(`[data-metric="${metric}"]`);
  const at = (key: keyof typeof q) => prometheus(q[key], time);

  // Each figure is the same PromQL evaluated by Prometheus at the moment the page says.
  await expect(figure('ready-nodes')).toHaveText(fmt.count(await at('readyNodes')));
  await expect(figure('not-ready-nodes')).toHaveText(fmt.count(await at('notReadyNodes')));
  await expect(figure('gpu-util')).toHaveText(fmt.percent(await at('servingUtilMean'), 1));
  await expect(figure('fb-used')).toHaveText(fmt.gib(await at('fbUsedMiB')));
  await expect(figure('hottest')).toHaveText(fmt.celsius(await at('hottestTempC')));
  await expect(figure('queue')).toHaveText(fmt.count(await at('queueDepth')));
  await expect(figure('request-rate')).toHaveText(fmt.perSecond(await at('requestRate')));
  const p50 = await at('p50Seconds');
  const p95 = await at('p95Seconds');
  await expect(figure('p50')).toHaveText(fmt.ms(p50 === null ? null : p50 * 1000));
  await expect(figure('p95')).toHaveText(fmt.ms(p95 === null ? null : p95 * 1000));
  await expect(figure('error-ratio')).toHaveText(fmt.share(await at('errorRatio')));
  // The latency breakdown by stage, and the batch size.
  for (const stage of ['queue', 'tokenization', 'inference'] as const) {
    const cells = page.locator(`tr[data-stage="${stage}"] td`);
    for (const [i, key] of [
      [1, `${stage}P50Seconds`],
      [2, `${stage}P95Seconds`],
    ] as const) {
      const v = await at(key);
      await expect(cells.nth(i)).toHaveText(fmt.ms(v === null ? null : v * 1000));
    }
    await expect(cells.nth(1)).not.toHaveText(fmt.NOT_REPORTED);
  }
  await expect(figure('batch-mean')).toHaveText(fmt.decimal(await at('batchSizeMean')));
  await expect(figure('batch-p95')).toHaveText(fmt.decimal(await at('batchSizeP95')));
  // The burn rate of each window, from the buckets Prometheus has over it; both pairs fire here.
  for (const pair of BURN_PAIRS) {
    const row = page.locator(`tr[data-burn-pair="${pair.long}-${pair.short}"] td`);
    for (const [i, w] of [
      [1, pair.long],
      [2, pair.short],
    ] as const) {
      const rate = burnRate(await prometheusVector(q[`durationBuckets${w}`], time), POOL_P95_TARGET_MS);
      expect(rate).toBeGreaterThan(pair.threshold);
      await expect(row.nth(i)).toHaveText(fmt.burn(rate));
    }
    await expect(row.nth(4)).toHaveText('Fires');
  }
  await expect(figure('fail-closed-rate')).toHaveText(fmt.perSecond(await at('failClosedRate')));
  await expect(figure('fail-closed-15m')).toHaveText(fmt.count(await at('failClosed15m')));
  await expect(figure('fail-closed-24h')).toHaveText(fmt.count(await at('failClosed24h')));

  // And what the fixtures were built to show.
  await expect(figure('ready-nodes')).toHaveText(String(EXPECTED.ready));
  await expect(figure('not-ready-nodes')).toHaveText(String(EXPECTED.notReady));
  await expect(figure('xid')).toHaveText(fmt.count(await prometheus(`sum(${q.xidEvents})`, time)));
  await expect(page.locator('[data-node]')).toHaveCount(NODES.length);
  await expect(page.locator(`[data-node="${SYSTEM_NODE}"]`)).toHaveCount(0);
  await expect(page.locator(`[data-node="${NODES[2]}"]`)).toContainText('NotReady');
  // Both host labels (Hostname on node 0's older exporter, hostname on node 1's) name the GPU's node.
  for (const node of [NODES[0], NODES[1]]) {
    await expect(page.locator(`[data-node="${node}"]`)).toContainText('Ready');
    await expect(page.locator('[data-gpu]').filter({ hasText: node })).toHaveCount(1);
  }
  // T4s report no DCGM_FI_PROF_* metrics: "not reported", not 0 %.
  for (const row of await page.locator('[data-gpu]').all()) {
    await expect(row.locator('td').last()).toHaveText(fmt.NOT_REPORTED);
  }
  // Memory and throttling: node 1's exporter enables the counters default-counters.csv leaves off, node 0's
  // does not ("not reported"). Only node 1's GPU has the power counter, so the query answers its figure.
  const health = (node: string) => page.locator('[data-gpu-health]').filter({ hasText: node }).locator('td');
  await expect(health(NODES[1]).nth(2)).toHaveText('2');
  await expect(health(NODES[1]).nth(3)).toHaveText('1');
  await expect(health(NODES[1]).nth(4)).toHaveText(fmt.share(await at('powerThrottle')));
  for (const i of [2, 3, 4, 5]) await expect(health(NODES[0]).nth(i)).toHaveText(fmt.NOT_REPORTED);
  await expect(health(NODES[0]).nth(6)).toHaveText('0');
  // Every input is present and fresh: no alert "cannot tell", and every job is up.
  await expect(page.locator('[data-alert-unknown]')).toHaveCount(0);
  await expect(page.locator('[data-alert="scrape"]')).toHaveCount(0);
  await expect(figure('gpus-serving')).toHaveText(`${EXPECTED.ready} of ${EXPECTED.ready}`);

  // Both counter names of the gateway's two replicas are counted.
  await expect(page.locator('[data-reason="no_gpu_capacity"]')).toBeVisible();

  const alerts = page.locator('[data-alert]');
  await expect(alerts).toHaveCount(4);
  await expect(page.locator('[data-alert="xid"]')).toContainText('XID 31 ');
  await expect(page.locator('[data-alert="xid"]')).not.toContainText('XID 43 ');

  // XIDs of the last hour, per code with NVIDIA's bucket, counted as Prometheus counts them.
  const xids = await prometheusVector(`sum by (xid) (${q.xidEvents})`, time);
  for (const xid of XID_CYCLE) {
    const row = page.locator(`tr[data-xid="${xid}"]`);
    await expect(row.locator('td').nth(3)).toHaveText(
      fmt.count(xids.find((x) => x.labels.xid === String(xid))!.value),
    );
  }
  await expect(page.locator('tr[data-xid="31"]')).toHaveAttribute('data-xid-bucket', 'RESTART_APP');
  await expect(page.locator('tr[data-xid="31"]')).toContainText('application error: restart the application');
  await expect(page.locator('tr[data-xid="43"]')).toHaveAttribute('data-xid-bucket', 'IGNORE');
  await expect(page.locator(`tr[data-xid="${STICKY_XID}"]`)).toHaveCount(0);
  // Node 0's gauge still holds an old XID: shown as its last XID, not counted, no alert.
  await expect(page.locator('[data-gpu]').filter({ hasText: NODES[0] })).toContainText(
    `XID ${STICKY_XID}not in the last hour`,
  );
  await expect(page.locator('[data-alert="gpu_memory"]')).toBeVisible();
  await expect(page.locator('[data-alert="p95"]')).toContainText(`${POOL_P95_TARGET_MS} ms target`);
  await expect(page.locator('[data-alert="fail_closed"]')).toBeVisible();
  await expect(page.locator('[data-alert="not_ready"]')).toHaveCount(0);
  await expect(page.getByText('Demo data.')).toBeVisible();

  // The charts over the last hour, then the last day.
  await expect(page.locator('[data-chart-loaded="true"]')).toHaveCount(4);
  await expect(page.getByRole('figure').filter({ hasText: 'Nodes' })).toContainText('Ready (latest): 2');
  const day = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/pool/history/24h');
  await page.getByRole('button', { name: '24 h' }).click();
  expect((await day).status()).toBe(200);
  await expect(page.getByRole('heading', { name: 'Last 24 hours' })).toBeVisible();
  await expect(page.locator('[data-chart-loaded="true"]')).toHaveCount(4);
  await expectAccessible(page);

  // Resumed, it refreshes by itself every POOL_REFRESH_S seconds.
  await page.getByRole('button', { name: 'Resume auto-refresh' }).click();
  await expect(
    page.getByRole('status').filter({ hasText: `Refreshes every ${POOL_REFRESH_S} s` }),
  ).toBeVisible();
  const before = await page.getByTestId('as-of').locator('time').getAttribute('datetime');
  await expect(page.getByTestId('as-of').locator('time')).not.toHaveAttribute('datetime', before!, {
    timeout: (POOL_REFRESH_S + 10) * 1000,
  });
});

test('/pool names who is blocked, by organisation and Outpost, each linked to its organisation page', async ({
  page,
  authenticator,
}) => {
  await asSuperadmin(page, authenticator);
  const time = await openPaused(page);
  const q = instantQueries({ nodePattern: 'aks-gpupool-.*' });
  const [day, quarter] = [
    await prometheusVector(q.failClosed24hByOrg, time),
    await prometheusVector(q.failClosed15mByOrg, time),
  ];
  const blocked = (xs: typeof day, org: string, outpost = '') =>
    xs.find((x) => (x.labels.org ?? '') === org && (x.labels.outpost ?? '') === outpost)!.value;
  const panel = page.getByRole('region', { name: 'Who is blocked (fail-closed)' });
  for (const b of BLOCKED_BY) {
    const cells = panel.locator(
      `tr[data-blocked-org="${b.org}"][data-blocked-outpost="${b.outpost ?? ''}"] td`,
    );
    await expect(cells.nth(1)).toHaveText(b.outpost ?? 'SaaS');
    await expect(cells.nth(2)).toHaveText(fmt.count(blocked(quarter, b.org, b.outpost)));
    await expect(cells.nth(3)).toHaveText(fmt.count(blocked(day, b.org, b.outpost)));
    await expect(cells.nth(0).getByRole('link')).toHaveAttribute('href', /^\/orgs\/[0-9a-f-]{36}$/);
  }
  // The older gateway build labels no organisation: its blocks are listed, not dropped.
  const unlabelled = panel.locator('tr[data-blocked-org=""] td');
  await expect(unlabelled.nth(0)).toContainText('not labelled');
  await expect(unlabelled.nth(3)).toHaveText(fmt.count(blocked(day, '')));
  await expectAccessible(page);

  // Each row leads to the organisation's page.
  const link = panel
    .locator('tr[data-blocked-org="national-reserve-trust"]')
    .getByRole('link', { name: 'National Reserve Trust Bank' });
  const href = (await link.getAttribute('href'))!;
  await link.click();
  await expect(page).toHaveURL(new RegExp(`${href}$`));
  await expect(page.getByRole('heading', { name: 'National Reserve Trust Bank', level: 1 })).toBeVisible();
});

test('with kube-state-metrics down, /pool gives no all-clear: the node alert says "cannot tell" and the scrape health names the job', async ({
  page,
  authenticator,
}) => {
  await asSuperadmin(page, authenticator);
  // All clear of unknowns first: every alert's inputs are there and fresh.
  await openPaused(page);
  await expect(page.locator('[data-alert-unknown]')).toHaveCount(0);
  await expect(page.locator('tr[data-job="kube-state-metrics"]')).toContainText('1 of 1');

  await harness.setJob('kube-state-metrics', 'down');
  try {
    // The page evaluates its figures EVALUATION_LAG_S (2 s) in the past: wait until that is after the change.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const time = await openPaused(page);
    const q = instantQueries({ nodePattern: 'aks-gpupool-.*' });
    // Prometheus itself has no node figure now, and `up` of the job is 0.
    expect(await prometheus(q.readyNodes, time)).toBeNull();
    expect(await prometheus('sum(up{job="kube-state-metrics"})', time)).toBe(0);
    await expect(page.locator('[data-metric="ready-nodes"]')).toHaveText(fmt.NOT_REPORTED);

    const unknown = page.locator('[data-alert-unknown="not_ready"]');
    await expect(unknown).toContainText('Cannot tell');
    await expect(unknown).toContainText('cannot tell: no node data from kube-state-metrics');
    await expect(page.locator('[data-alert-unknown="missing_gpu"]')).toBeVisible();
    await expect(page.getByTestId('no-alerts')).toHaveCount(0);
    await expect(page.locator('[data-alert="scrape"]')).toContainText('kube-state-metrics (1 of 1 down');
    const job = page.locator('tr[data-job="kube-state-metrics"]');
    await expect(job).toContainText('0 of 1');
    await expect(job).toContainText('10.244.0.9:8080');
    // The other alerts are still evaluated and still fire.
    await expect(page.locator('[data-alert="xid"]')).toBeVisible();
    await expectAccessible(page);
  } finally {
    await harness.setJob('kube-state-metrics', 'up');
  }
  await new Promise((resolve) => setTimeout(resolve, 3000));
  await openPaused(page);
  await expect(page.locator('[data-alert-unknown]')).toHaveCount(0);
  await expect(page.locator('[data-alert="scrape"]')).toHaveCount(0);
});

test('a superadmin acting for the organisation switches an Outpost from the pool view, through the audited service', async ({
  page,
  authenticator,
  browser,
}) => {
  // The switch now waits for an approval in a second browser: longer than the default minute on a loaded
  // two-core machine.
  test.setTimeout(150_000);
  const org = 'National Reserve Trust Bank';
  const first = await asSuperadmin(page, authenticator);
  const member = await newStaffMember(browser, page, 'superadmin', { displayName: 'Pia Pool' });
  const p = member.page;
  await signIn(p);

  // Not acting: every Outpost is listed, each with the way to its organisation.
  await p.goto('/pool');
  const panel = p.getByRole('region', { name: 'Outposts' });
  const row = panel.locator('tr[data-outpost="dr-centralus"]');
  await expect(row.getByTestId('inference-mode')).toHaveText('GPU');
  await expect(panel.locator('tr[data-outpost="pilot-westus3"]').getByTestId('inference-mode')).toHaveText(
    'CPU trial',
  );
  await expect(row.getByRole('link', { name: `Act for ${org} to switch` })).toBeVisible();
  await expect(panel.locator('tr[data-outpost="trial-dublin"]')).toContainText('(silent)');

  const orgId = await openOrg(p, org);
  await startActing(p, org, 'OPS-5211');
  await p.goto('/pool');
  await row.getByRole('button', { name: 'Switch dr-centralus to CPU trial…' }).click();
  await row
    .getByLabel(/^Reason for switching dr-centralus/)
    .fill('DR GPU node pool drained for the AKS upgrade');
  // Switching to the CPU trial needs a second person (#15): the pool view says a request waits, and the
  // Outpost stays on GPU until the first superadmin, acting for the organisation, approves it.
  await withStepUp(p, () => row.getByRole('button', { name: 'Switch to CPU trial' }).click(), REQUESTED);
  await expect(row.getByTestId('inference-mode')).toHaveText('GPU');
  await expectAccessible(p);
  await p.goto(`/orgs/${orgId}`);
  const requestId = await pendingRequestId(p.getByRole('region', { name: 'Outposts', exact: true }));
  await actFor(page, org, 'OPS-5212');
  await approve(page, requestId);
  await p.goto('/pool');
  await expect(row.getByTestId('inference-mode')).toHaveText('CPU trial');
  await expectAccessible(p);

  // The same audited service as the organisation page's Outposts section wrote it, as the approver, with
  // the requester named beside them.
  await p.goto(`/audit?${new URLSearchParams({ action: 'org.outpost.inference_mode.updated', org: orgId })}`);
  const entry = p.locator('tr[data-action="org.outpost.inference_mode.updated"]').first();
  await expect(entry).toContainText(first.email);
  await expect(entry).toContainText(`"requested_by_email":"${member.email}"`);
  await expect(entry).toContainText(`"approval_request_id":"${requestId}"`);
  await expect(entry).toContainText('DR GPU node pool drained for the AKS upgrade');

  // Back to GPU, so that the demo data stays as it was.
  await p.goto('/pool');
  await row.getByRole('button', { name: 'Switch dr-centralus to GPU…' }).click();
  await row.getByLabel(/^Reason for switching dr-centralus/).fill('AKS upgrade done; DR pool is back');
  await withStepUp(
    p,
    () => row.getByRole('button', { name: 'Switch to GPU' }).click(),
    'dr-centralus now runs in GPU mode.',
  );
  await expect(row.getByTestId('inference-mode')).toHaveText('GPU');

  // Both switches are marked on the charts' time axis, and listed with the organisation's link.
  await p.goto('/pool');
  const marks = p.getByTestId('staff-actions').locator('li[data-mark="org.outpost.inference_mode.updated"]');
  await expect(marks.filter({ hasText: 'dr-centralus' })).toHaveCount(2);
  await expect(marks.last()).toContainText(member.email);
  await expect(marks.last().getByRole('link', { name: org })).toHaveAttribute('href', `/orgs/${orgId}`);
  await expect(p.locator('[data-chart-loaded="true"]')).toHaveCount(4);
  for (const chart of await p.locator('[data-marks]').all())
    expect(Number(await chart.getAttribute('data-marks'))).toBeGreaterThanOrEqual(2);
  await expectAccessible(p);

  await p.goto(`/orgs/${orgId}`);
  await stopActing(p);
  await page.goto(`/orgs/${orgId}`);
  await stopActing(page);
  await member.close();
});

test('with Prometheus stopped, /pool names its URL and the error, and marks the last figures stale', async ({
  page,
  authenticator,
}) => {
  await asSuperadmin(page, authenticator);
  await page.goto('/pool');
  const figures = page.getByTestId('pool-figures');
  await expect(figures).toHaveAttribute('data-stale', 'false');
  const readyBefore = await page.locator('[data-metric="ready-nodes"]').textContent();

  await harness.stopPrometheus();
  await page.getByRole('button', { name: 'Refresh now' }).click();
  const error = page.getByTestId('pool-error');
  await expect(error).toContainText(`Prometheus at ${harness.url}: unreachable`);
  await expect(error).toContainText('ECONNREFUSED');
  await expect(page.getByRole('main').getByRole('alert')).toContainText('The figures below are stale');
  await expect(figures).toHaveAttribute('data-stale', 'true');
  await expect(page.getByRole('heading', { name: 'Nodes (stale)' })).toBeVisible();
  await expect(page.locator('[data-metric="ready-nodes"]')).toHaveText(readyBefore!);
  await expectAccessible(page);

  // Opened while Prometheus is down: the error, no figures, and no endless spinner.
  await page.reload();
  await expect(error).toContainText(`Prometheus at ${harness.url}: unreachable`);
  await expect(page.getByRole('main').getByRole('alert')).toContainText(
    `No figures could be read from ${harness.url}`,
  );
  await expect(figures).toHaveCount(0);
  await expect(page.getByTestId('as-of')).toHaveText('No figures yet');
  await expectAccessible(page);

  // Back up: the next refresh shows fresh figures again.
  await harness.startPrometheus();
  await expect(figures).toHaveAttribute('data-stale', 'false', { timeout: (POOL_REFRESH_S + 15) * 1000 });
  await expect(error).toHaveCount(0);
});

test('an embedded `npm start` without PROMETHEUS_URL shows the not-configured state with the variable to set', async ({
  browser,
}) => {
  test.setTimeout(240_000);
  const dataDir = '.e2e/bare-data';
  fs.rmSync(dataDir, { recursive: true, force: true });
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(BARE_PORTAL_PORT), DATA_DIR: dataDir };
  for (const name of ['PROMETHEUS_URL', 'DATABASE_URL', 'PORTAL_URL', 'SECRETS_BACKEND']) delete env[name];
  const portal: ChildProcess = spawn('node_modules/.bin/tsx', ['scripts/start.ts'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const link = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`no enrolment link from npm start:\n${out}`)), 200_000);
      const read = (chunk: Buffer) => {
        out += chunk.toString();
        const found = ENROL_LINE.exec(out);
        if (found) {
          clearTimeout(timer);
          resolve(found[1]!);
        }
      };
      portal.stdout!.on('data', read);
      portal.stderr!.on('data', read);
      portal.once('exit', (code) => reject(new Error(`npm start exited (${code}):\n${out}`)));
    });
    const origin = `http://localhost:${BARE_PORTAL_PORT}`;
    await expect
      .poll(
        () =>
          fetch(`${origin}/api/health`).then(
            (r) => r.status,
            () => 0,
          ),
        { timeout: 60_000 },
      )
      .toBe(200);
    const { context, page } = await newStaffBrowser(browser, origin);
    await enrol(page, link, { displayName: 'Embedded Admin', nickname: 'Embedded key' });
    await signIn(page);
    await page.goto('/pool');
    const panel = page.getByTestId('pool-not-configured');
    await expect(panel).toContainText('Not configured');
    await expect(panel).toContainText('Set PROMETHEUS_URL');
    await expect(page.getByTestId('pool-figures')).toHaveCount(0);
    // The Outposts still list, from the database.
    await expect(
      page.getByRole('region', { name: 'Outposts' }).locator('tr[data-outpost]').first(),
    ).toBeVisible();
    await expectAccessible(page);
    const api = await page.request.get('/api/pool');
    expect(api.status()).toBe(503);
    expect(await api.json()).toMatchObject({ error: 'pool_not_configured', variable: 'PROMETHEUS_URL' });
    await context.close();
  } finally {
    const exited = new Promise((resolve) => portal.once('exit', resolve));
    portal.kill('SIGTERM');
    await exited;
  }
});
