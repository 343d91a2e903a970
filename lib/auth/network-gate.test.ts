import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkNetworkGate, clientAddress, type GateConfig, inCidr } from './network-gate';

describe('inCidr', () => {
  it('matches IPv4', () => {
    expect(inCidr('10.1.2.3', '10.0.0.0/8')).toBe(true);
    expect(inCidr('11.1.2.3', '10.0.0.0/8')).toBe(false);
    expect(inCidr('192.168.1.255', '192.168.1.0/24')).toBe(true);
    expect(inCidr('192.168.2.0', '192.168.1.0/24')).toBe(false);
    expect(inCidr('172.31.255.255', '172.16.0.0/12')).toBe(true);
    expect(inCidr('172.32.0.0', '172.16.0.0/12')).toBe(false);
    // Host bits in the base are ignored, as most tools do.
    expect(inCidr('10.9.9.9', '10.1.2.3/8')).toBe(true);
  });

  it('handles /0 and /32', () => {
    expect(inCidr('203.0.113.9', '0.0.0.0/0')).toBe(true);
    expect(inCidr('203.0.113.9', '203.0.113.9/32')).toBe(true);
    expect(inCidr('203.0.113.8', '203.0.113.9/32')).toBe(false);
    // An IPv4 range never takes in a plain IPv6 address, not even /0.
    expect(inCidr('2001:db8::1', '0.0.0.0/0')).toBe(false);
  });

  it('matches IPv6', () => {
    expect(inCidr('2001:db8::1', '2001:db8::/32')).toBe(true);
    expect(inCidr('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db8::/32')).toBe(true);
    expect(inCidr('2001:db9::1', '2001:db8::/32')).toBe(false);
    expect(inCidr('fd00:1:2:3::4', 'fd00::/8')).toBe(true);
    expect(inCidr('fe80::1', 'fd00::/8')).toBe(false);
    expect(inCidr('::1', '::1/128')).toBe(true);
    expect(inCidr('::2', '::1/128')).toBe(false);
    expect(inCidr('2001:DB8:0:0:0:0:0:1', '2001:db8::1/128')).toBe(true);
    expect(inCidr('2001:db8::1', '::/0')).toBe(true);
    expect(inCidr('2001:db8:1::', '2001:db8::/47')).toBe(true);
    expect(inCidr('2001:db8:2::', '2001:db8::/47')).toBe(false);
  });

  it('treats IPv4-mapped IPv6 as the IPv4 address', () => {
    expect(inCidr('::ffff:10.1.2.3', '10.0.0.0/8')).toBe(true);
    expect(inCidr('::FFFF:127.0.0.1', '127.0.0.1/32')).toBe(true);
    expect(inCidr('::ffff:a01:203', '10.0.0.0/8')).toBe(true);
    expect(inCidr('::ffff:11.1.2.3', '10.0.0.0/8')).toBe(false);
    expect(inCidr('10.1.2.3', '::ffff:10.0.0.0/104')).toBe(true);
    // IPv4-compatible (::a.b.c.d, deprecated) is not IPv4-mapped.
    expect(inCidr('::10.1.2.3', '10.0.0.0/8')).toBe(false);
  });

  it('refuses malformed addresses and ranges', () => {
    for (const addr of [
      '',
      'localhost',
      '10.1.2',
      '10.1.2.3.4',
      '10.1.2.256',
      '010.1.2.3',
      '10.1.2.3 ',
      '0x0a.1.2.3',
      '-1.1.2.3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '1::2::3',
      ':::1',
      '2001:db8::g',
      '12345::1',
      'fe80::1%eth0',
      '::ffff:10.1.2.300',
      '10.1.2.3::',
      '1:2:3:4:5:6:7::8',
    ])
      expect(inCidr(addr, '0.0.0.0/0') || inCidr(addr, '::/0'), addr).toBe(false);
    for (const cidr of ['10.0.0.0', '10.0.0.0/33', '::/129', '10.0.0.0/-1', '10.0.0/8', '10.0.0.0/8/8', '/8'])
      expect(inCidr('10.1.2.3', cidr), cidr).toBe(false);
  });
});

describe('clientAddress', () => {
  const xff = (value?: string) => new Headers(value === undefined ? {} : { 'x-forwarded-for': value });

  it('takes the N-th entry from the right with N trusted proxies', () => {
    expect(clientAddress(xff('10.1.2.3'), 1)).toBe('10.1.2.3');
    expect(clientAddress(xff('10.1.2.3, 172.16.0.5'), 2)).toBe('10.1.2.3');
    expect(clientAddress(xff('10.1.2.3, 172.16.0.5'), 1)).toBe('172.16.0.5');
    expect(clientAddress(xff('2001:db8::1'), 1)).toBe('2001:db8::1');
  });

  it('never reads the entries a client put on the left', () => {
    // The client sent "10.0.0.1, 10.0.0.2"; the one proxy appended its real address.
    expect(clientAddress(xff('10.0.0.1, 10.0.0.2, 203.0.113.9'), 1)).toBe('203.0.113.9');
    // Two proxies: the first appended the client's address, the second the first proxy's.
    expect(clientAddress(xff('10.0.0.1,10.0.0.2, 203.0.113.9, 172.16.0.5'), 2)).toBe('203.0.113.9');
    expect(clientAddress(xff('10.0.0.1, , 203.0.113.9'), 1)).toBe('203.0.113.9');
  });

  it('gives null when the request came through fewer proxies than configured', () => {
    expect(clientAddress(xff(), 1)).toBeNull();
    expect(clientAddress(xff(''), 1)).toBeNull();
    expect(clientAddress(xff('203.0.113.9'), 2)).toBeNull();
    expect(clientAddress(xff('203.0.113.9, '), 1)).toBeNull();
  });

  it('gives null with no trusted proxy: the header may be entirely the client’s', () => {
    expect(clientAddress(xff('10.1.2.3'), 0)).toBeNull();
    expect(clientAddress(xff(), 0)).toBeNull();
  });

  it('drops a port a proxy appended', () => {
    expect(clientAddress(xff('10.1.2.3:51234'), 1)).toBe('10.1.2.3');
    expect(clientAddress(xff('[2001:db8::1]:443'), 1)).toBe('2001:db8::1');
    expect(clientAddress(xff('[2001:db8::1]'), 1)).toBe('2001:db8::1');
  });
});

describe('checkNetworkGate', () => {
  const AUD = 'aud-tag-0123456789';
  const ISS = 'https://team.cloudflareaccess.com';
  const KID = 'key-1';
  let server: http.Server;
  let jwksUrl: string;
  let key: CryptoKey;
  let otherKey: CryptoKey;
  let publicJwk: JWK;
  let jwksHits = 0;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    key = pair.privateKey;
    otherKey = (await generateKeyPair('RS256')).privateKey;
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: KID, alg: 'RS256', use: 'sig' };
    server = http.createServer((req, res) => {
      jwksHits++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [publicJwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cdn-cgi/access/certs`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function sign(
    opts: { aud?: string; iss?: string; exp?: number | string; key?: CryptoKey; kid?: string } = {},
  ) {
    return new SignJWT({ email: 'staff@example.com' })
      .setProtectedHeader({ alg: 'RS256', kid: opts.kid ?? KID })
      .setAudience(opts.aud ?? AUD)
      .setIssuer(opts.iss ?? ISS)
      .setIssuedAt()
      .setExpirationTime(opts.exp ?? '5m')
      .sign(opts.key ?? key);
  }

  const gate = (over: Partial<GateConfig> = {}): GateConfig => ({
    PORTAL_ENV: 'production',
    TRUSTED_CIDRS: [],
    TRUSTED_PROXY_COUNT: 0,
    CF_ACCESS_JWKS_URL: jwksUrl,
    CF_ACCESS_AUD: AUD,
    CF_ACCESS_ISSUER: ISS,
    ...over,
  });

  function request(headers: Record<string, string> = {}, cookies: Record<string, string> = {}) {
    return {
      headers: new Headers(headers),
      cookies: { get: (name: string) => (name in cookies ? { value: cookies[name]! } : undefined) },
    };
  }

  const withToken = async (token: string | Promise<string>, g = gate()) =>
    checkNetworkGate(request({ 'Cf-Access-Jwt-Assertion': await token }), g);

  describe('Cloudflare Access JWT against a JWKS served over HTTP', () => {
    it('accepts a valid token', async () => {
      expect(await withToken(sign())).toMatchObject({ ok: true });
      expect(jwksHits).toBeGreaterThan(0);
    });

    it('takes the client address from CF-Connecting-IP only once the Access token verified', async () => {
      const ip = { 'CF-Connecting-IP': '198.51.100.7' };
      expect(
        await checkNetworkGate(request({ ...ip, 'Cf-Access-Jwt-Assertion': await sign() }), gate()),
      ).toEqual({ ok: true, clientIp: '198.51.100.7' });
      // Without a proxy count there is no other source: unknown, never a header the client chose.
      expect(
        await checkNetworkGate(
          request({ 'CF-Connecting-IP': 'not-an-ip', 'Cf-Access-Jwt-Assertion': await sign() }),
          gate(),
        ),
      ).toEqual({ ok: true, clientIp: null });
      // CIDRs alone: a client-sent CF-Connecting-IP is ignored, X-Forwarded-For after the proxies counts.
      const cidrs = gate({
        CF_ACCESS_JWKS_URL: undefined,
        CF_ACCESS_AUD: undefined,
        CF_ACCESS_ISSUER: undefined,
        TRUSTED_CIDRS: ['10.0.0.0/8'],
        TRUSTED_PROXY_COUNT: 1,
      });
      expect(await checkNetworkGate(request({ ...ip, 'x-forwarded-for': '10.1.2.3' }), cidrs)).toEqual({
        ok: true,
        clientIp: '10.1.2.3',
      });
    });

    it('accepts the CF_Authorization cookie when there is no header', async () => {
      expect(await checkNetworkGate(request({}, { CF_Authorization: await sign() }), gate())).toMatchObject({
        ok: true,
      });
    });

    it('uses the header, not the cookie, when both are present', async () => {
      const r = await checkNetworkGate(
        request(
          { 'Cf-Access-Jwt-Assertion': await sign({ aud: 'other' }) },
          { CF_Authorization: await sign() },
        ),
        gate(),
      );
      expect(r.ok).toBe(false);
    });

    it('refuses a request without a token', async () => {
      expect(await checkNetworkGate(request(), gate())).toEqual({ ok: false, reason: 'access_jwt_missing' });
      expect(await checkNetworkGate(request({ 'Cf-Access-Jwt-Assertion': '' }), gate())).toMatchObject({
        ok: false,
      });
    });

    it('refuses an expired token, allowing 30 s of clock skew', async () => {
      const now = Math.floor(Date.now() / 1000);
      expect(await withToken(sign({ exp: now - 10 }))).toMatchObject({ ok: true });
      expect(await withToken(sign({ exp: now - 60 }))).toEqual({
        ok: false,
        reason: 'access_jwt_invalid: ERR_JWT_EXPIRED (exp)',
      });
    });

    it('refuses a token without exp', async () => {
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: KID })
        .setAudience(AUD)
        .setIssuer(ISS)
        .sign(key);
      expect(await withToken(token)).toMatchObject({ ok: false, reason: expect.stringContaining('(exp)') });
    });

    it('refuses the wrong audience', async () => {
      expect(await withToken(sign({ aud: 'another-app' }))).toEqual({
        ok: false,
        reason: 'access_jwt_invalid: ERR_JWT_CLAIM_VALIDATION_FAILED (aud)',
      });
    });

    it('refuses the wrong issuer when one is configured, and ignores it when not', async () => {
      const token = sign({ iss: 'https://evil.cloudflareaccess.com' });
      expect(await withToken(token)).toEqual({
        ok: false,
        reason: 'access_jwt_invalid: ERR_JWT_CLAIM_VALIDATION_FAILED (iss)',
      });
      expect(await withToken(token, gate({ CF_ACCESS_ISSUER: undefined }))).toMatchObject({ ok: true });
    });

    it('refuses a token signed by another key', async () => {
      expect(await withToken(sign({ key: otherKey }))).toEqual({
        ok: false,
        reason: 'access_jwt_invalid: ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
      });
      expect(await withToken(sign({ key: otherKey, kid: 'unknown' }))).toEqual({
        ok: false,
        reason: 'access_jwt_invalid: ERR_JWKS_NO_MATCHING_KEY',
      });
    });

    it('refuses unsigned tokens and garbage', async () => {
      const unsigned = new UnsecuredJWT({}).setAudience(AUD).setIssuer(ISS).setExpirationTime('5m').encode();
      expect((await withToken(unsigned)).ok).toBe(false);
      expect((await withToken('not.a.jwt')).ok).toBe(false);
    });

    it('refuses, without throwing, when the key set cannot be fetched', async () => {
      const closed = http.createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));
      const r = await withToken(sign(), gate({ CF_ACCESS_JWKS_URL: `http://127.0.0.1:${port}/certs` }));
      expect(r.ok).toBe(false);
    });
  });

  describe('trusted CIDRs', () => {
    const cidrs = gate({
      CF_ACCESS_JWKS_URL: undefined,
      CF_ACCESS_AUD: undefined,
      CF_ACCESS_ISSUER: undefined,
      TRUSTED_CIDRS: ['10.0.0.0/8', 'fd00::/8'],
      TRUSTED_PROXY_COUNT: 1,
    });

    it('lets in an address inside a trusted range, and nothing else', async () => {
      expect(await checkNetworkGate(request({ 'x-forwarded-for': '10.1.2.3' }), cidrs)).toMatchObject({
        ok: true,
      });
      expect(await checkNetworkGate(request({ 'x-forwarded-for': 'fd00::5' }), cidrs)).toMatchObject({
        ok: true,
      });
      expect(await checkNetworkGate(request({ 'x-forwarded-for': '203.0.113.9' }), cidrs)).toEqual({
        ok: false,
        reason: 'client_address_not_trusted: 203.0.113.9',
      });
      expect((await checkNetworkGate(request(), cidrs)).ok).toBe(false);
    });

    it('cannot be spoofed with extra X-Forwarded-For entries', async () => {
      const r = await checkNetworkGate(request({ 'x-forwarded-for': '10.1.2.3, 203.0.113.9' }), cidrs);
      expect(r.ok).toBe(false);
    });

    it('refuses everything with no trusted proxy, since the address cannot be known', async () => {
      const r = await checkNetworkGate(request({ 'x-forwarded-for': '10.1.2.3' }), {
        ...cidrs,
        TRUSTED_PROXY_COUNT: 0,
      });
      expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/^client_address_unknown/) });
    });
  });

  describe('both configured', () => {
    // A function: jwksUrl is only known once beforeAll has run.
    const both = () => gate({ TRUSTED_CIDRS: ['10.0.0.0/8'], TRUSTED_PROXY_COUNT: 1 });

    it('needs both the address and the token', async () => {
      const token = await sign();
      expect(
        await checkNetworkGate(
          request({ 'x-forwarded-for': '10.1.2.3', 'cf-access-jwt-assertion': token }),
          both(),
        ),
      ).toMatchObject({ ok: true });
      expect(await checkNetworkGate(request({ 'x-forwarded-for': '10.1.2.3' }), both())).toMatchObject({
        ok: false,
        reason: 'access_jwt_missing',
      });
      expect(
        await checkNetworkGate(
          request({ 'x-forwarded-for': '203.0.113.9', 'cf-access-jwt-assertion': token }),
          both(),
        ),
      ).toMatchObject({ ok: false, reason: expect.stringMatching(/^client_address_not_trusted/) });
    });
  });

  describe('neither configured', () => {
    const none = { TRUSTED_CIDRS: [], CF_ACCESS_JWKS_URL: undefined, CF_ACCESS_AUD: undefined };

    it('is open locally and closed otherwise', async () => {
      const open = gate({ ...none, PORTAL_ENV: 'local', CF_ACCESS_ISSUER: undefined });
      expect(await checkNetworkGate(request(), open)).toMatchObject({ ok: true });
      const closed = gate({ ...none, PORTAL_ENV: 'production', CF_ACCESS_ISSUER: undefined });
      expect(await checkNetworkGate(request(), closed)).toEqual({ ok: false, reason: 'no_gate_configured' });
    });

    it('refuses a half-configured Access setting instead of skipping it', async () => {
      for (const half of [
        { CF_ACCESS_AUD: undefined },
        { CF_ACCESS_JWKS_URL: undefined },
        { CF_ACCESS_JWKS_URL: undefined, CF_ACCESS_AUD: undefined },
      ]) {
        const r = await withToken(sign(), gate({ PORTAL_ENV: 'local', ...half }));
        expect(r).toMatchObject({ ok: false, reason: expect.stringMatching(/^cf_access_incomplete/) });
      }
    });
  });
});
