/**
 * Every route under app/, found on the file system (so a new page or handler cannot escape), requested
 * without a session and with the sessions of two roles that lack most permissions. Each route needs an
 * entry in ROUTES; a route without one fails the test until someone writes down what it should answer.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { APIRequestContext, APIResponse, Page } from '@playwright/test';
import { expect, portalCredentialId, test } from './fixtures';
import { asSuperadmin, newStaffMember, signIn } from './staff';

/**
 * What a request answers, written compactly:
 * - `login`: a redirect to /login (with next= the path, except for /);
 * - `200`, `404`: the status (for pages: a 403 also shows the "Not allowed" page);
 * - `403 forbidden`: the status and the JSON `error` code (every JSON error must carry a `message`).
 */
type Outcome = string;

interface Samples {
  superadminId: string;
  superadminCredentialId: string;
  superadminSessionId: string;
  orgId: string;
}

interface Expectation {
  anonymous: Outcome;
  support: Outcome;
  auditor: Outcome;
  /**
   * The concrete path to request, for routes with a [param]; default: each [param] becomes a random UUID
   * (a catch-all, `sample`). Without a session the samples are made-up ids.
   */
  path?: (s: Samples) => string;
  /** The JSON body of a write; default `{}`. Writes aim at the superadmin's own things. */
  body?: (s: Samples) => unknown;
}

const TOKEN = 'A'.repeat(43);
/** Paths the crawl requests that are deliberately not routes of app/. */
const NOT_IN_APP = new Set(['GET /metrics']);
/** Role-protected writes checked before anything else, so `{}` is enough. */
const STAFF_ONLY = { anonymous: '401 unauthenticated' } as const;

/** Keyed by method and route as the file system spells it. */
const ROUTES: Record<string, Expectation> = {
  // Pages.
  'GET /': { anonymous: 'login', support: '200', auditor: '200' },
  'GET /account/keys': { anonymous: 'login', support: '200', auditor: '200' },
  'GET /acting': { anonymous: 'login', support: '403', auditor: '200' },
  'GET /approvals': { anonymous: 'login', support: '200', auditor: '200' },
  'GET /audit': { anonymous: 'login', support: '200', auditor: '200' },
  'GET /audit/[seq]': { anonymous: 'login', support: '200', auditor: '200', path: () => '/audit/1' },
  'GET /audit/siem': { anonymous: 'login', support: '200', auditor: '200' },
  'GET /audit/verify': { anonymous: 'login', support: '403', auditor: '200' },
  'GET /audit/checkpoints': { anonymous: 'login', support: '200', auditor: '200' },
  'GET /audit/keys': { anonymous: 'login', support: '403', auditor: '200' },
  'GET /orgs': { anonymous: 'login', support: '200', auditor: '200' },
  'GET /orgs/[id]': { anonymous: 'login', support: '200', auditor: '200', path: (s) => `/orgs/${s.orgId}` },
  'GET /plans': { anonymous: 'login', support: '200', auditor: '200' },
  'GET /pool': { anonymous: 'login', support: '200', auditor: '200' },
  'GET /staff': { anonymous: 'login', support: '403', auditor: '200' },
  'GET /staff/[id]': {
    anonymous: 'login',
    support: '403',
    auditor: '200',
    path: (s) => `/staff/${s.superadminId}`,
  },
  // Any other path: the not-found page inside the shell, after the session check.
  'GET /[...missing]': { anonymous: 'login', support: '404', auditor: '404', path: () => '/no-such-page' },
  'GET /login': { anonymous: '200', support: '200', auditor: '200' },
  'GET /enroll/[token]': { anonymous: '200', support: '200', auditor: '200', path: () => `/enroll/${TOKEN}` },

  // Not a route of app/: /metrics is served only on the internal METRICS_PORT (lib/metrics/server.ts).
  // On the portal's port it is an unknown path behind the gate and the session check.
  'GET /metrics': { anonymous: 'login', support: '404', auditor: '404' },

  // Public endpoints.
  'GET /.well-known/jwks.json': { anonymous: '200', support: '200', auditor: '200' },
  'GET /api/health': { anonymous: '200', support: '200', auditor: '200' },
  'GET /api/ready': { anonymous: '200', support: '200', auditor: '200' },
  'GET /api/auth/[...nextauth]': {
    anonymous: '200',
    support: '200',
    auditor: '200',
    path: () => '/api/auth/session',
  },
  // next-auth refuses a credentials callback without its CSRF token by sending the browser to sign in.
  'POST /api/auth/[...nextauth]': {
    anonymous: '302 → /api/auth/signin?csrf=true',
    support: '302 → /api/auth/signin?csrf=true',
    auditor: '302 → /api/auth/signin?csrf=true',
    path: () => '/api/auth/callback/webauthn',
  },
  'POST /api/auth/webauthn/options': { anonymous: '200', support: '200', auditor: '200' },
  'POST /api/enroll/options': {
    anonymous: '404 invite_unknown',
    support: '404 invite_unknown',
    auditor: '404 invite_unknown',
    body: () => ({ token: TOKEN, displayName: 'Crawler' }),
  },
  'POST /api/enroll/verify': { anonymous: '400 invalid', support: '400 invalid', auditor: '400 invalid' },

  // Staff endpoints.
  // The export streams NDJSON; support lacks audit.export. (Its 200 is checked by e2e/audit.spec.ts.)
  'GET /api/audit/export': { ...STAFF_ONLY, support: '403 forbidden', auditor: '200' },
  // The audit chain: auditors verify, sign checkpoints and export them; only superadmins rotate keys.
  'POST /api/audit/verify': { ...STAFF_ONLY, support: '403 forbidden', auditor: '200' },
  'GET /api/audit/verify/[id]': { ...STAFF_ONLY, support: '403 forbidden', auditor: '404 not_found' },
  'POST /api/audit/checkpoints': { ...STAFF_ONLY, support: '403 forbidden', auditor: '200' },
  'GET /api/audit/checkpoints/export': { ...STAFF_ONLY, support: '403 forbidden', auditor: '200' },
  // Every role may read proofs; without the query they answer 400 naming the field (e2e/audit-proof.spec.ts
  // downloads one).
  'GET /api/audit/proof/inclusion': { ...STAFF_ONLY, support: '400 invalid', auditor: '400 invalid' },
  'GET /api/audit/proof/consistency': { ...STAFF_ONLY, support: '400 invalid', auditor: '400 invalid' },
  'GET /api/audit/proof/download': { ...STAFF_ONLY, support: '400 invalid', auditor: '400 invalid' },
  'POST /api/audit/keys/hmac': { ...STAFF_ONLY, support: '403 forbidden', auditor: '403 forbidden' },
  'POST /api/audit/keys/checkpoint': { ...STAFF_ONLY, support: '403 forbidden', auditor: '403 forbidden' },
  'POST /api/acting/start': { ...STAFF_ONLY, support: '400 invalid', auditor: '403 forbidden' },
  'POST /api/acting/stop': { ...STAFF_ONLY, support: '409 not_acting', auditor: '409 not_acting' },
  'POST /api/acting/end': { ...STAFF_ONLY, support: '403 forbidden', auditor: '403 forbidden' },
  'GET /api/approvals/count': { ...STAFF_ONLY, support: '200', auditor: '200' },
  // A made-up request id: the input is checked first, then the request is looked up.
  'POST /api/approvals/[id]/approve': { ...STAFF_ONLY, support: '404 not_found', auditor: '404 not_found' },
  'POST /api/approvals/[id]/reject': { ...STAFF_ONLY, support: '400 invalid', auditor: '400 invalid' },
  'POST /api/approvals/[id]/withdraw': { ...STAFF_ONLY, support: '404 not_found', auditor: '404 not_found' },
  'POST /api/approvals/[id]/break-glass': { ...STAFF_ONLY, support: '400 invalid', auditor: '400 invalid' },
  'POST /api/approvals/[id]/review': { ...STAFF_ONLY, support: '403 forbidden', auditor: '403 forbidden' },
  'POST /api/keys/add/options': { ...STAFF_ONLY, support: '200', auditor: '200' },
  'POST /api/keys/add': { ...STAFF_ONLY, support: '400 invalid', auditor: '400 invalid' },
  'POST /api/keys/rename': {
    ...STAFF_ONLY,
    support: '403 forbidden',
    auditor: '403 forbidden',
    body: (s) => ({ credentialId: s.superadminCredentialId, nickname: 'Mine now' }),
  },
  'POST /api/keys/revoke': {
    ...STAFF_ONLY,
    support: '403 forbidden',
    auditor: '403 forbidden',
    body: (s) => ({ credentialId: s.superadminCredentialId }),
  },
  'POST /api/keys/unlock': {
    ...STAFF_ONLY,
    support: '403 forbidden',
    auditor: '403 forbidden',
    body: (s) => ({ credentialId: s.superadminCredentialId, reason: 'The crawler says so.' }),
  },
  'POST /api/orgs/[id]/entitlements': {
    ...STAFF_ONLY,
    support: '403 forbidden',
    auditor: '403 forbidden',
    path: (s) => `/api/orgs/${s.orgId}/entitlements`,
  },
  'POST /api/orgs/[id]/mfa-policy': {
    ...STAFF_ONLY,
    support: '403 forbidden',
    auditor: '403 forbidden',
    path: (s) => `/api/orgs/${s.orgId}/mfa-policy`,
  },
  'POST /api/orgs/[id]/notes': {
    ...STAFF_ONLY,
    support: '400 invalid',
    auditor: '403 forbidden',
    path: (s) => `/api/orgs/${s.orgId}/notes`,
  },
  'POST /api/orgs/[id]/plan-tier': {
    ...STAFF_ONLY,
    support: '403 forbidden',
    auditor: '403 forbidden',
    path: (s) => `/api/orgs/${s.orgId}/plan-tier`,
  },
  // A read: every role may preview what a tier would put in force; nothing is written.
  'GET /api/orgs/[id]/plan-tier/preview/[tier]': {
    ...STAFF_ONLY,
    support: '200',
    auditor: '200',
    path: (s) => `/api/orgs/${s.orgId}/plan-tier/preview/enterprise_saas`,
  },
  'POST /api/orgs/[id]/outposts/[outpostId]/inference-mode': {
    ...STAFF_ONLY,
    support: '403 forbidden',
    auditor: '403 forbidden',
    path: (s) => `/api/orgs/${s.orgId}/outposts/${crypto.randomUUID()}/inference-mode`,
  },
  'POST /api/orgs/[id]/rate-limits': {
    ...STAFF_ONLY,
    support: '403 forbidden',
    auditor: '403 forbidden',
    path: (s) => `/api/orgs/${s.orgId}/rate-limits`,
  },
  // Support may override rate limits, but only while acting for the organisation.
  'POST /api/orgs/[id]/rate-limit-overrides': {
    ...STAFF_ONLY,
    support: '400 invalid',
    auditor: '403 forbidden',
    path: (s) => `/api/orgs/${s.orgId}/rate-limit-overrides`,
  },
  'POST /api/orgs/[id]/rate-limit-overrides/[overrideId]/revoke': {
    ...STAFF_ONLY,
    support: '403 acting_required',
    auditor: '403 forbidden',
    path: (s) => `/api/orgs/${s.orgId}/rate-limit-overrides/${crypto.randomUUID()}/revoke`,
  },
  'POST /api/orgs/[id]/suspension': {
    ...STAFF_ONLY,
    support: '403 forbidden',
    auditor: '403 forbidden',
    path: (s) => `/api/orgs/${s.orgId}/suspension`,
  },
  'POST /api/plans': { ...STAFF_ONLY, support: '403 forbidden', auditor: '403 forbidden' },
  // Every role may read the pool; no Prometheus runs during the crawl (e2e/pool.spec.ts starts its own).
  'GET /api/pool': {
    ...STAFF_ONLY,
    support: '502 prometheus_unavailable',
    auditor: '502 prometheus_unavailable',
  },
  'GET /api/pool/history/[range]': {
    ...STAFF_ONLY,
    support: '400 invalid',
    auditor: '400 invalid',
    path: () => '/api/pool/history/7d',
  },
  'POST /api/platform-tokens': { ...STAFF_ONLY, support: '403 acting_required', auditor: '403 forbidden' },
  'POST /api/platform-tokens/rotate': { ...STAFF_ONLY, support: '403 forbidden', auditor: '403 forbidden' },
  'POST /api/sessions/revoke': {
    ...STAFF_ONLY,
    support: '403 forbidden',
    auditor: '403 forbidden',
    body: (s) => ({ sessionId: s.superadminSessionId }),
  },
  'POST /api/staff/invite': {
    ...STAFF_ONLY,
    support: '403 forbidden',
    auditor: '403 forbidden',
    body: () => ({ email: 'crawler@arbitex.local', role: 'superadmin' }),
  },
  'POST /api/staff/invite/revoke': {
    ...STAFF_ONLY,
    support: '403 forbidden',
    auditor: '403 forbidden',
    body: () => ({ inviteId: crypto.randomUUID() }),
  },
  'POST /api/staff/role': {
    ...STAFF_ONLY,
    support: '403 forbidden',
    auditor: '403 forbidden',
    body: (s) => ({ staffId: s.superadminId, role: 'support', version: 1 }),
  },
  'POST /api/staff/status': {
    ...STAFF_ONLY,
    support: '403 forbidden',
    auditor: '403 forbidden',
    body: (s) => ({ staffId: s.superadminId, status: 'disabled', version: 1 }),
  },
  'POST /api/step-up/options': { ...STAFF_ONLY, support: '200', auditor: '200' },
  'POST /api/step-up/verify': { ...STAFF_ONLY, support: '400 invalid', auditor: '400 invalid' },
  // Last in a signed-in crawl (see below): it ends the session.
  'POST /api/session/sign-out': { ...STAFF_ONLY, support: '200', auditor: '200' },
};

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** The HTTP methods a route.ts exports: `export const POST`, `export async function GET`, `export { h as GET }`. */
function exportedMethods(file: string): string[] {
  const source = fs.readFileSync(file, 'utf8');
  const found = new Set<string>();
  const declared = source.matchAll(/export\s+(?:const|let|(?:async\s+)?function)\s+([A-Z]+)\b/g);
  for (const [, name] of declared) found.add(name!);
  // `export { handler as GET, handler as POST }`: the name after `as`, or the name itself.
  for (const [, list] of source.matchAll(/export\s*\{([^}]*)\}/g)) {
    for (const [, name] of list!.matchAll(/(\w+)\s*(?:,|$)/g)) found.add(name!);
  }
  const methods = METHODS.filter((method) => found.has(method));
  if (methods.length === 0) throw new Error(`${file} exports no HTTP method the crawl recognises`);
  return methods;
}

/** `GET /staff/[id]`, `POST /api/keys/add`, …: every page.tsx and route.ts under app/, route groups removed. */
function discoverRoutes(dir = 'app', segments: string[] = []): string[] {
  const routes: string[] = [];
  const route = `/${segments.join('/')}`;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name.startsWith('_')) continue; // a private folder: never a route
      if (/^(@|\(\.)/.test(entry.name)) {
        throw new Error(
          `${file}: parallel and intercepting routes are not crawled yet; teach e2e/crawl.spec.ts`,
        );
      }
      const group = /^\(.+\)$/.test(entry.name);
      routes.push(...discoverRoutes(file, group ? segments : [...segments, entry.name]));
    } else if (/^page\.(tsx|ts|jsx|js|mdx)$/.test(entry.name)) {
      routes.push(`GET ${route}`);
    } else if (/^route\.(ts|js)$/.test(entry.name)) {
      routes.push(...exportedMethods(file).map((method) => `${method} ${route}`));
    }
  }
  return routes;
}

/** Ids of nothing, for the crawl without a session: it never gets as far as looking them up. */
function madeUpSamples(): Samples {
  return {
    superadminId: crypto.randomUUID(),
    superadminCredentialId: crypto.randomBytes(32).toString('base64url'),
    superadminSessionId: crypto.randomUUID(),
    orgId: crypto.randomUUID(),
  };
}

function samplePath(route: string): string {
  return route.replace(/\[\[?\.{3}[^\]]+\]\]?/g, 'sample').replace(/\[[^\]]+\]/g, () => crypto.randomUUID());
}

/** The Outcome a response is, in ROUTES' notation. */
async function outcomeOf(res: APIResponse, requestedPath: string): Promise<Outcome> {
  const status = res.status();
  if (status >= 300 && status < 400) {
    const location = new URL(res.headers()['location'] ?? '', res.url());
    if (location.pathname === '/login' && !location.searchParams.has('csrf')) {
      const next = location.searchParams.get('next');
      return next === (requestedPath === '/' ? null : requestedPath) ? 'login' : `login (next=${next})`;
    }
    return `${status} → ${location.pathname}${location.search}`;
  }
  const type = res.headers()['content-type'] ?? '';
  if (type.includes('json') && status >= 400) {
    const body = (await res.json()) as { error?: unknown; message?: unknown };
    return `${status} ${String(body.error)}${typeof body.message === 'string' ? '' : ' (no message)'}`;
  }
  if (type.includes('text/html') && status === 403) {
    return (await res.text()).includes('Not allowed') ? '403' : '403 (not the "Not allowed" page)';
  }
  return String(status);
}

/** Requests every route of ROUTES; returns what each answered. */
async function crawl(
  request: APIRequestContext,
  origin: string,
  samples: Samples,
): Promise<Record<string, Outcome>> {
  const answers: Record<string, Outcome> = {};
  // The sign-out comes last: it ends the crawler's session.
  const keys = Object.keys(ROUTES).sort(
    (a, b) => Number(a.endsWith('/sign-out')) - Number(b.endsWith('/sign-out')),
  );
  for (const key of keys) {
    const [method, route] = key.split(' ') as [string, string];
    const spec = ROUTES[key]!;
    const url = spec.path ? spec.path(samples) : samplePath(route);
    const res = await request.fetch(url, {
      method,
      maxRedirects: 0,
      ...(method !== 'GET' && {
        headers: { Origin: origin },
        data: spec.body ? spec.body(samples) : {},
      }),
    });
    answers[key] = await outcomeOf(res, url);
  }
  return answers;
}

function expected(who: 'anonymous' | 'support' | 'auditor'): Record<string, Outcome> {
  return Object.fromEntries(Object.entries(ROUTES).map(([key, spec]) => [key, spec[who]]));
}

test('every route under app/ has an expectation in the crawl', { tag: '@deployed' }, () => {
  const discovered = discoverRoutes().sort();
  expect(discovered.length).toBeGreaterThan(20);
  expect(
    discovered.filter((key) => !(key in ROUTES)),
    'routes without an expectation: add them to ROUTES in e2e/crawl.spec.ts',
  ).toEqual([]);
  expect(
    Object.keys(ROUTES).filter((key) => !discovered.includes(key) && !NOT_IN_APP.has(key)),
    'expectations for routes that no longer exist',
  ).toEqual([]);
});

test(
  'without a session, every page sends the browser to /login and every staff API answers 401',
  { tag: '@deployed' },
  async ({ request, baseURL }) => {
    expect(await crawl(request, new URL(baseURL!).origin, madeUpSamples())).toEqual(expected('anonymous'));
  },
);

async function samplesFrom(page: Page, superadminId: string, credentialId: string): Promise<Samples> {
  await page.goto(`/staff/${superadminId}`);
  const session = page.locator('tr[data-session-id]', { hasText: 'Active' }).first();
  const superadminSessionId = (await session.getAttribute('data-session-id'))!;
  await page.goto('/orgs');
  const href = await page.locator('main a[href^="/orgs/"]').first().getAttribute('href');
  return {
    superadminId,
    superadminCredentialId: credentialId,
    superadminSessionId,
    orgId: href!.split('/')[2]!,
  };
}

for (const role of ['support', 'auditor'] as const) {
  test(`${role === 'auditor' ? 'an' : 'a'} ${role} is refused (403) every page and write the role lacks`, async ({
    page,
    authenticator,
    browser,
    baseURL,
  }) => {
    const saved = await asSuperadmin(page, authenticator);
    const samples = await samplesFrom(page, saved.staffId!, portalCredentialId(saved.credential));
    const member = await newStaffMember(browser, page, role);
    await signIn(member.page);
    const answers = await crawl(member.page.request, new URL(baseURL!).origin, samples);
    expect(answers).toEqual(expected(role));

    // Nothing the crawler was refused happened: the superadmin's session and key still work.
    await page.goto(`/staff/${saved.staffId}`);
    await expect(page.locator(`tr[data-session-id="${samples.superadminSessionId}"]`)).toContainText(
      'Active',
    );
    await expect(page.locator(`tr[data-key-id="${samples.superadminCredentialId}"]`)).toContainText('Active');
    // The crawl ended with the sign-out: the member's cookie opens nothing now.
    await member.page.goto('/');
    await expect(member.page).toHaveURL(/\/login$/);
    await member.close();
  });
}
