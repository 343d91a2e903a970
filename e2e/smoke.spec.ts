import { expect, test } from './fixtures';

test(
  'a visitor without a session lands on the sign-in page, which serves no organisation data',
  { tag: '@deployed' },
  async ({ page }) => {
    const response = await page.goto('/');
    await expect(page).toHaveURL(/\/login$/);
    expect(response?.status()).toBe(200);
    await expect(page.getByRole('heading', { name: 'Staff sign-in' })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Sign in with security key' })).toBeVisible();
  },
);

test('a deep link keeps its same-origin path in next=', { tag: '@deployed' }, async ({ page }) => {
  await page.goto('/orgs?tier=team_saas');
  const url = new URL(page.url());
  expect(url.pathname).toBe('/login');
  expect(url.searchParams.get('next')).toBe('/orgs?tier=team_saas');
});

test(
  'a made-up session cookie does not get past the server',
  { tag: '@deployed' },
  async ({ page, context, baseURL }) => {
    // The portal's cookie name: `__Secure-` when it is served over HTTPS (lib/auth/session-cookie.ts).
    const name = baseURL!.startsWith('https://') ? '__Secure-portal.session' : 'portal.session';
    await context.addCookies([{ name, value: 'forged', url: baseURL! }]);
    await page.goto('/');
    await expect(page).toHaveURL(/\/login$/);
  },
);

test(
  'the API answers 401 JSON without a session, and health and readiness are public',
  { tag: '@deployed' },
  async ({ request }) => {
    const denied = await request.get('/api/orgs');
    expect(denied.status()).toBe(401);
    expect(await denied.json()).toMatchObject({ error: 'unauthenticated' });

    const health = await request.get('/api/health');
    expect(health.status()).toBe(200);
    const body = await health.json();
    expect(body.status).toBe('ok');
    // A deployed portal is always on PostgreSQL (production refuses PGlite).
    expect(body.db).toBe(process.env.E2E_BASE_URL || process.env.DATABASE_URL ? 'postgres' : 'pglite');

    // Readiness: the database, every key, and every migration this build ships.
    const ready = await request.get('/api/ready');
    expect(ready.status()).toBe(200);
    expect(await ready.json()).toEqual({
      status: 'ready',
      database: 'ok',
      keys: 'ok',
      migrations: 'ok',
      chain: 'ok',
    });
  },
);

test(
  'every answer carries the security headers, with a fresh CSP nonce each time',
  { tag: '@deployed' },
  async ({ request }) => {
    const nonces: string[] = [];
    for (const path of ['/login', '/login', '/api/health']) {
      const headers = (await request.get(path)).headers();
      const csp = headers['content-security-policy'] ?? '';
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
      nonces.push(/'nonce-([^']+)'/.exec(csp)![1]!);
      expect(headers['strict-transport-security']).toContain('max-age=');
      expect(headers['referrer-policy']).toBe('no-referrer');
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['permissions-policy']).toContain('camera=()');
      expect(headers['x-powered-by']).toBeUndefined();
    }
    expect(new Set(nonces).size).toBe(nonces.length);
  },
);

test(
  'the page scripts run under the CSP, and the virtual authenticator is attached',
  { tag: '@deployed' },
  async ({ page, authenticator }) => {
    const violations: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto('/login');
    // The nonce reached Next's own scripts: React hydrated and window.next exists.
    await expect.poll(() => page.evaluate(() => typeof (window as { next?: unknown }).next)).toBe('object');
    expect(violations).toEqual([]);
    expect(await page.evaluate(() => typeof window.PublicKeyCredential)).toBe('function');
    expect(await authenticator.credentials()).toEqual([]);
  },
);
