/**
 * Two replicas, one PostgreSQL database (the `replicas` project in playwright.config.ts): replica A is the
 * e2e portal on E2E_PORT, replica B a second `next start` on E2E_REPLICA_PORT. Both are configured with the
 * same public origin (A's address) and the same secret files, as replicas behind a load balancer are; the
 * browser's requests are spread over them by e2e/balancer.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { type Database, openDatabase, rows } from '../db/client';
import { parseKeyRing, verifyChain } from '../lib/audit';
import { parseCheckpointKeyRing, publicKeys } from '../lib/audit/checkpoint-keys';
import { balance, type Replica } from './balancer';
import { expect, test } from './fixtures';
import { openOrg, startActing } from './orgs';
import { e2eDatabaseUrl, PORTAL_ORIGIN, REPLICA_B_ORIGIN, SECRETS_DIR } from './portal-env';
import { asSuperadmin, backedUpCopy, newStaffMember, origin, signIn, signInError } from './staff';

let database: Database;
test.beforeAll(async () => {
  database = await openDatabase({ url: e2eDatabaseUrl()!, max: 2 });
});
test.afterAll(async () => {
  await database.close();
});
test.afterEach(async ({ page }) => {
  await page.context().unrouteAll({ behavior: 'ignoreErrors' });
});

/** The audit entries written while answering requests whose id starts with `prefix`. */
async function auditByRequest(prefix: string) {
  return rows<{ seq: string; action: string; request_id: string; acting_org_id: string | null }>(
    database.db,
    sql`select seq::text, action, request_id, acting_org_id::text from audit_log
        where request_id like ${`${prefix}%`} order by seq`,
  );
}

test('a sign-in ceremony started on replica A finishes on replica B', async ({ page, authenticator }) => {
  const balancer = await balance(page.context());
  // The challenge comes from A; the page, the assertion and everything after go to B.
  balancer.pick = (url) => (url.pathname === '/api/auth/webauthn/options' ? 'A' : 'B');
  await asSuperadmin(page, authenticator);

  const ceremony = balancer.served.filter((r) => r.method === 'POST').map((r) => `${r.path} ${r.replica}`);
  expect(ceremony).toEqual(
    expect.arrayContaining(['/api/auth/webauthn/options A', '/api/auth/callback/webauthn B']),
  );
  // B consumed the challenge A stored, and B wrote the sign-in's audit entry.
  const callback = balancer.served.find((r) => r.path === '/api/auth/callback/webauthn')!;
  expect((await auditByRequest(callback.requestId)).map((e) => e.action)).toEqual(['staff.signin.success']);
  const [challenge] = await rows<{ consumed: boolean }>(
    database.db,
    sql`select consumed_at is not null as consumed from webauthn_challenges
        where purpose = 'authentication' order by expires_at desc limit 1`,
  );
  expect(challenge?.consumed).toBe(true);

  // The session it made is good on either replica.
  for (const replica of ['A', 'B'] as const) {
    balancer.pick = () => replica;
    await page.goto('/account/keys');
    await expect(page).toHaveURL(/\/account\/keys$/);
    await expect(page.getByRole('banner')).toContainText('superadmin');
    expect(balancer.served.findLast((r) => r.path === '/account/keys')?.replica).toBe(replica);
  }
});

test('an acting context started on replica A is in force on replica B, and is stopped there', async ({
  page,
  authenticator,
  browser,
}) => {
  await asSuperadmin(page, authenticator);
  const support = await newStaffMember(browser, page, 'support');
  const p = support.page;
  const balancer = await balance(p.context());
  await signIn(p);

  const org = 'Bluewater Dental Group';
  const orgId = await openOrg(p, org);
  await startActing(p, org, 'SUP-8001');
  expect(balancer.served.some((r) => r.path === '/api/acting/start' && r.replica === 'A')).toBe(true);

  balancer.target = 'B';
  await p.goto(`/orgs/${orgId}`);
  const banner = p.getByRole('region', { name: 'Acting context' });
  await expect(banner).toContainText(`Acting for ${org}`);
  await p.getByLabel('Support note', { exact: true }).fill('Written through replica B.');
  const written = p.waitForResponse((r) => r.url().endsWith('/notes') && r.request().method() === 'POST');
  await p.getByRole('button', { name: 'Add note' }).click();
  expect((await written).status()).toBe(200);
  await expect(p.getByRole('main')).toContainText('Written through replica B.');
  const note = balancer.served.find((r) => r.path.endsWith('/notes'))!;
  expect(note.replica).toBe('B');
  expect(await auditByRequest(note.requestId)).toEqual([
    expect.objectContaining({ action: 'org.support_note.created', acting_org_id: orgId }),
  ]);

  await banner.getByRole('button', { name: 'Stop acting' }).click();
  await expect(banner).toBeHidden();
  balancer.target = 'A';
  await p.reload();
  await expect(p.getByRole('heading', { name: org, level: 1 })).toBeVisible();
  await expect(banner).toBeHidden();
  await balancer.stop();
  await support.close();
});

test('a session revoked on replica A is refused on replica B', async ({ page, authenticator, browser }) => {
  await asSuperadmin(page, authenticator);
  const member = await newStaffMember(browser, page, 'auditor');
  const balancer = await balance(member.page.context());
  balancer.target = 'B';
  await signIn(member.page);
  await member.page.goto('/audit');
  await expect(member.page.getByRole('heading', { name: 'Audit log' })).toBeVisible();

  // The superadmin's browser talks to A only (no balancer: A is the public origin's own address).
  await page.goto(`/staff/${member.staffId}`);
  const sessions = page.locator('tr[data-session-id]');
  await sessions.getByRole('button', { name: 'Revoke session' }).click();
  await expect(page.getByRole('main').getByRole('status')).toHaveText('The session is revoked.');

  await member.page.reload();
  await expect(member.page).toHaveURL(/\/login\?next=%2Faudit$/);
  expect(balancer.served.at(-1)?.replica).toBe('B');
  const api = await member.page.request.post(`${REPLICA_B_ORIGIN}/api/step-up/options`, {
    headers: origin(page),
  });
  expect(api.status()).toBe(401);
  await balancer.stop();
  await member.close();
});

test('sign-in limits are counted once for both replicas', async ({ page, authenticator, browser }) => {
  await asSuperadmin(page, authenticator);
  const member = await newStaffMember(browser, page, 'billing');
  const [credential] = await member.authenticator.credentials();
  // The key in another browser, now reporting backup flags: each sign-in is signed by the key, then refused.
  const copy = await backedUpCopy(browser, PORTAL_ORIGIN, credential!);
  // Five refusals (SIGNIN_MAX_FAILURES_PER_CREDENTIAL): the assertions go to A, B, A, B, A.
  const balancer = await balance(copy.context);
  const order: Replica[] = ['A', 'B', 'A', 'B', 'A'];
  let next = 0;
  balancer.pick = (url) => (url.pathname === '/api/auth/callback/webauthn' ? order[next++]! : 'A');
  for (let i = 0; i < order.length; i++) {
    expect(await signInError(copy.page)).toMatch(/no longer bound to one security key/);
  }
  expect(
    balancer.served.filter((r) => r.path === '/api/auth/callback/webauthn').map((r) => r.replica),
  ).toEqual(order);
  await balancer.stop();
  await copy.context.close();

  // Neither replica lets the key sign in now, from the owner's own browser.
  const owner = await balance(member.page.context());
  for (const replica of ['A', 'B'] as const) {
    owner.target = replica;
    expect(await signInError(member.page)).toMatch(/Too many failed sign-in attempts/);
  }
  expect(owner.served.filter((r) => r.path === '/api/auth/callback/webauthn').map((r) => r.replica)).toEqual([
    'A',
    'B',
  ]);
  await owner.stop();
  await member.close();
});

test('audited writes from both replicas at once keep one valid chain', async ({
  page,
  authenticator,
  browser,
}) => {
  await asSuperadmin(page, authenticator);
  const support = await newStaffMember(browser, page, 'support');
  const p = support.page;
  await signIn(p);
  const org = 'Cedar Valley Community Bank';
  const orgId = await openOrg(p, org);
  await startActing(p, org, 'SUP-8002');

  const tag = `chain-${Date.now()}`;
  const writes = Array.from({ length: 12 }, (_, i) => {
    const replica = i % 2 === 0 ? PORTAL_ORIGIN : REPLICA_B_ORIGIN;
    const name = replica === PORTAL_ORIGIN ? 'a' : 'b';
    return p.request.post(`${replica}/api/orgs/${orgId}/notes`, {
      data: { body: `Concurrent note ${i} through replica ${name.toUpperCase()}.` },
      headers: { ...origin(p), 'x-request-id': `${tag}-${name}-${i}` },
    });
  });
  for (const res of await Promise.all(writes)) expect(res.status(), await res.text()).toBe(200);

  expect(await auditByRequest(`${tag}-a-`)).toHaveLength(6);
  expect(await auditByRequest(`${tag}-b-`)).toHaveLength(6);
  // The whole chain, every replica's entries and every spec's before them, verifies as one.
  // The portal's own keys (its secret files): the HMAC ring, and the public keys of its signed checkpoints.
  const secret = (name: string) => fs.readFileSync(path.join(SECRETS_DIR, name), 'utf8');
  const keys = parseKeyRing(secret('audit-hmac-keys'));
  const checkpointKeys = publicKeys(parseCheckpointKeyRing(secret('audit-checkpoint-keys')));
  const result = await verifyChain(database.db, { keys, checkpoints: { publicKeys: checkpointKeys } });
  const [head] = await rows<{ seq: string }>(database.db, sql`select max(seq)::text as seq from audit_log`);
  expect(result).toMatchObject({ ok: true, checked: Number(head!.seq) });
  await support.close();
});
