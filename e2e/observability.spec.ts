/**
 * Issue #19 item 8: one JSON access line per request, whatever serves it (a page, the liveness probe,
 * next-auth's own route), and the internal /metrics listener of replica A (METRICS_PORT) after them.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from './fixtures';
import { LOG_DIR, METRICS_PORT, PORT } from './portal-env';
import { asSuperadmin } from './staff';

const METRICS = `http://127.0.0.1:${METRICS_PORT}/metrics`;

/** Replica A's JSON lines that carry `requestId`. */
function linesFor(requestId: string): Record<string, unknown>[] {
  return fs
    .readFileSync(path.join(LOG_DIR, 'replica-a.log'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(requestId))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function scrape(): Promise<string> {
  const res = await fetch(METRICS);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  return res.text();
}

/** The value of one sample line, `name{labels}`, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('a page, /api/health and a next-auth route each write exactly one access line with status and duration', async ({
  page,
  authenticator,
}) => {
  const before = await scrape();
  const saved = await asSuperadmin(page, authenticator);
  const id = (what: string) => `e2e-${what}-${crypto.randomBytes(6).toString('hex')}`;
  const ids = { page: id('page'), health: id('health'), auth: id('auth'), query: id('query') };

  // A page, signed in: the access line names the staff member.
  const pageRes = await page.request.get('/orgs', { headers: { 'x-request-id': ids.page } });
  expect(pageRes.status()).toBe(200);
  // The liveness probe, outside the gate and without a session.
  const health = await page.request.get('/api/health', { headers: { 'x-request-id': ids.health } });
  expect(health.status()).toBe(200);
  // next-auth's own route handler (app/api/auth/[...nextauth]).
  const auth = await page.request.get('/api/auth/session', { headers: { 'x-request-id': ids.auth } });
  expect(auth.status()).toBe(200);
  // A callback with a query string: the line's path has none of it.
  const callback = await page.request.get('/api/auth/callback/credentials?code=e2e-secret-code&state=s', {
    headers: { 'x-request-id': ids.query },
    maxRedirects: 0,
  });
  expect(callback.status()).toBeGreaterThanOrEqual(200);

  for (const [what, requestId] of Object.entries(ids)) {
    // The line is written when the answer has gone out: give the log a moment to reach the file.
    await expect.poll(() => linesFor(requestId).filter((l) => l.msg === 'request').length).toBe(1);
    const lines = linesFor(requestId);
    const access = lines.filter((l) => l.msg === 'request');
    expect(access, what).toHaveLength(1);
    expect(access[0]).toMatchObject({
      level: 'info',
      request_id: requestId,
      method: 'GET',
      status: expect.any(Number),
      duration_ms: expect.any(Number),
    });
    expect(access[0]!.duration_ms as number).toBeGreaterThan(0);
    expect(JSON.stringify(lines)).not.toContain('e2e-secret-code');
  }
  const [pageLine] = linesFor(ids.page).filter((l) => l.msg === 'request');
  expect(pageLine).toMatchObject({ path: '/orgs', status: 200, staff_id: saved.staffId });
  const [healthLine] = linesFor(ids.health).filter((l) => l.msg === 'request');
  expect(healthLine).toMatchObject({ path: '/api/health', status: 200, staff_id: null });
  const [authLine] = linesFor(ids.auth).filter((l) => l.msg === 'request');
  expect(authLine).toMatchObject({ path: '/api/auth/session', status: 200 });
  const [queryLine] = linesFor(ids.query).filter((l) => l.msg === 'request');
  expect(queryLine).toMatchObject({ path: '/api/auth/callback/credentials' });

  // /metrics counted them, by class, never by path; and it shows the pool and the audit figures.
  const after = await scrape();
  const health2xx = 'portal_http_request_duration_seconds_count{method="GET",route="health",status="2xx"}';
  expect(sample(after, health2xx)!).toBeGreaterThanOrEqual((sample(before, health2xx) ?? 0) + 1);
  const pages = 'portal_http_request_duration_seconds_count{method="GET",route="page",status="2xx"}';
  expect(sample(after, pages)!).toBeGreaterThanOrEqual((sample(before, pages) ?? 0) + 1);
  expect(after).not.toMatch(/\/orgs|\/api\/auth\/session/);
  expect(sample(after, 'portal_metrics_database_up')).toBe(1);
  expect(sample(after, 'portal_audit_inbox_rows')).toBeGreaterThanOrEqual(0);
  expect(sample(after, 'portal_audit_checkpoint_age_seconds')).toBeGreaterThanOrEqual(0);
  expect(sample(after, 'portal_siem_lag_entries')).toBeGreaterThanOrEqual(0);
  if (process.env.DATABASE_URL) expect(sample(after, 'portal_db_pool_max')).toBe(10);
  else expect(after).not.toContain('portal_db_pool_max');
});

test('/metrics is served only on the internal port, and its own requests write no access line', async ({
  request,
}) => {
  // On the portal's port it is an ordinary unknown path behind the gate: the sign-in page without a session.
  const onPortal = await request.get(`http://localhost:${PORT}/metrics`, { maxRedirects: 0 });
  expect(onPortal.status()).toBe(307);
  const scrapeId = `e2e-scrape-${crypto.randomBytes(6).toString('hex')}`;
  const res = await fetch(METRICS, { headers: { 'x-request-id': scrapeId } });
  expect(res.status).toBe(200);
  expect((await fetch(METRICS.replace('/metrics', '/other'))).status).toBe(404);
  await new Promise((r) => setTimeout(r, 500));
  expect(linesFor(scrapeId)).toEqual([]);
});
