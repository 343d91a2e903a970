import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { NextRequest } from 'next/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { middleware } from '@/middleware';

// config() reads process.env once, on the first middleware call: the env is set before any test runs.
const AUD = 'aud-tag-mw';
let server: http.Server;
let token: string;
const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1' };
  server = http.createServer((_req, res) => res.end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  vi.stubEnv('PORTAL_ENV', 'local');
  vi.stubEnv('TRUSTED_CIDRS', '10.0.0.0/8');
  vi.stubEnv('TRUSTED_PROXY_COUNT', '1');
  vi.stubEnv('CF_ACCESS_JWKS_URL', `http://127.0.0.1:${(server.address() as AddressInfo).port}/certs`);
  vi.stubEnv('CF_ACCESS_AUD', AUD);
  token = await new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setAudience(AUD)
    .setExpirationTime('5m')
    .sign(privateKey);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  warn.mockRestore();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const through = (extra: Record<string, string> = {}) => ({
  'x-forwarded-for': '10.1.2.3',
  'cf-access-jwt-assertion': token,
  ...extra,
});
const call = (path: string, headers: Record<string, string> = {}) =>
  middleware(new NextRequest(`http://localhost${path}`, { headers }));

describe('middleware network gate', () => {
  it('refuses pages with a plain 403 that keeps the security headers and logs no token', async () => {
    const res = await call('/orgs', { 'x-forwarded-for': '203.0.113.9', 'cf-access-jwt-assertion': token });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toMatch(/staff VPN or Cloudflare Access/);
    expect(res.headers.get('content-security-policy')).toMatch(/frame-ancestors 'none'/);
    expect(res.headers.get('strict-transport-security')).toBeTruthy();
    expect(res.headers.get('cache-control')).toBe('no-store');
    const logged = String(warn.mock.calls.at(-1)?.[0]);
    expect(JSON.parse(logged)).toMatchObject({ reason: 'client_address_not_trusted: 203.0.113.9' });
    expect(logged).not.toContain(token);
  });

  it('refuses /api with JSON, without saying which check failed', async () => {
    const res = await call('/api/orgs', { 'x-forwarded-for': '10.1.2.3' });
    expect(res.status).toBe(403);
    const body = await res.json();
    expect(body).toEqual({ error: 'network_gate', message: expect.stringMatching(/Cloudflare Access/) });
    expect(JSON.stringify(body)).not.toMatch(/jwt|cidr|address/i);
  });

  it('gates /login and Next assets too', async () => {
    expect((await call('/login')).status).toBe(403);
    expect((await call('/_next/static/chunks/main.js')).status).toBe(403);
    expect((await call('/favicon.ico')).status).toBe(403);
  });

  it('leaves /api/health open for the probes', async () => {
    const res = await call('/api/health');
    expect(res.headers.get('x-middleware-next')).toBe('1');
  });

  it('passes the gate, then applies the session check', async () => {
    const page = await call('/orgs', through());
    expect(page.status).toBe(307);
    expect(page.headers.get('location')).toBe('http://localhost/login?next=%2Forgs');
    expect((await call('/api/orgs', through())).status).toBe(401);
    expect((await call('/login', through())).headers.get('x-middleware-next')).toBe('1');
    expect((await call('/_next/static/chunks/main.js', through())).headers.get('x-middleware-next')).toBe(
      '1',
    );
    const withSession = await call('/orgs', through({ cookie: 'portal.session=x' }));
    expect(withSession.headers.get('x-middleware-next')).toBe('1');
  });

  it('hands the routes the verified client address, never one the client sent', async () => {
    const res = await call(
      '/login',
      through({ 'x-portal-client-ip': '192.0.2.66', 'cf-connecting-ip': '198.51.100.7' }),
    );
    expect(res.headers.get('x-middleware-next')).toBe('1');
    expect(res.headers.get('x-middleware-request-x-portal-client-ip')).toBe('198.51.100.7');
    const health = await call('/api/health', { 'x-portal-client-ip': '192.0.2.66' });
    expect(health.headers.get('x-middleware-request-x-portal-client-ip')).toBeNull();
  });

  it('accepts the CF_Authorization cookie', async () => {
    const res = await call('/login', { 'x-forwarded-for': '10.1.2.3', cookie: `CF_Authorization=${token}` });
    expect(res.headers.get('x-middleware-next')).toBe('1');
  });
});

describe('middleware x-request-id', () => {
  const sentId = (res: Response) => res.headers.get('x-middleware-request-x-request-id');

  it('keeps a well-formed id the client sent, hands it to the handler and echoes it', async () => {
    const res = await call('/login', through({ 'x-request-id': 'edge-4f2a.9c_01' }));
    expect(res.headers.get('x-request-id')).toBe('edge-4f2a.9c_01');
    expect(sentId(res)).toBe('edge-4f2a.9c_01');
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['too short', 'abc'],
    ['outside the charset', 'id with spaces"{}'],
    ['a log-injection attempt', 'abcdefgh\\n{"level":"fatal"}'],
  ])('replaces an id that is %s with its own', async (_why, bad) => {
    const res = await call('/login', through({ 'x-request-id': bad }));
    const id = res.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(sentId(res)).toBe(id);
  });

  it('generates one when none is sent, also on refusals', async () => {
    const ok = await call('/login', through());
    expect(ok.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const refused = await call('/api/orgs', { 'x-forwarded-for': '203.0.113.9' });
    expect(refused.status).toBe(403);
    const id = refused.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(String(warn.mock.calls.at(-1)?.[0]))).toMatchObject({
      request_id: id,
      time: expect.stringMatching(/Z$/),
    });
  });

  it('leaves /api/ready open for the probes, like /api/health', async () => {
    expect((await call('/api/ready')).headers.get('x-middleware-next')).toBe('1');
  });
});
