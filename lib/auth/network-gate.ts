import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import type { Config } from '@/lib/config';

/**
 * The network gate (DESIGN section 2): the portal answers only requests that come through the staff VPN
 * (trusted CIDRs) and/or Cloudflare Access (a signed JWT). Edge-safe: no Node modules, no Buffer.
 */
export type GateConfig = Pick<
  Config,
  | 'PORTAL_ENV'
  | 'TRUSTED_CIDRS'
  | 'TRUSTED_PROXY_COUNT'
  | 'CF_ACCESS_JWKS_URL'
  | 'CF_ACCESS_AUD'
  | 'CF_ACCESS_ISSUER'
>;

export type GateRequest = {
  headers: Headers;
  cookies: { get(name: string): { value: string } | undefined };
};

/** `clientIp`: the client's address as far as the gate can vouch for it, or null when it cannot. */
export type GateResult = { ok: true; clientIp: string | null } | { ok: false; reason: string };

/**
 * The request header that carries the gate's client address to the routes (lib/http/request-meta.ts).
 * Middleware sets or removes it on every request it lets through, so a client cannot choose it.
 */
export const CLIENT_IP_HEADER = 'x-portal-client-ip';

/** The cookie Cloudflare Access sets next to the header; the header wins when both are present. */
export const CF_ACCESS_COOKIE = 'CF_Authorization';

/** Both checks, when configured, must pass. The reason is for the server log only, never the client. */
export async function checkNetworkGate(req: GateRequest, gate: GateConfig): Promise<GateResult> {
  const useCidrs = gate.TRUSTED_CIDRS.length > 0;
  const useAccess = Boolean(gate.CF_ACCESS_JWKS_URL && gate.CF_ACCESS_AUD);
  // A half-configured Access setting would silently turn the check off: refuse rather than guess.
  if (!useAccess && (gate.CF_ACCESS_JWKS_URL || gate.CF_ACCESS_AUD || gate.CF_ACCESS_ISSUER))
    return refuse('cf_access_incomplete: set both CF_ACCESS_JWKS_URL and CF_ACCESS_AUD');
  if (!useCidrs && !useAccess)
    // config() already refuses to start production without a gate; this only backs that up.
    return gate.PORTAL_ENV === 'local'
      ? { ok: true, clientIp: clientAddress(req.headers, gate.TRUSTED_PROXY_COUNT) }
      : refuse('no_gate_configured');

  if (useCidrs) {
    const addr = clientAddress(req.headers, gate.TRUSTED_PROXY_COUNT);
    if (addr === null)
      return refuse(
        gate.TRUSTED_PROXY_COUNT === 0
          ? 'client_address_unknown: TRUSTED_PROXY_COUNT=0, and middleware cannot see the socket address'
          : 'client_address_missing: fewer X-Forwarded-For entries than TRUSTED_PROXY_COUNT',
      );
    if (!gate.TRUSTED_CIDRS.some((cidr) => inCidr(addr, cidr)))
      return refuse(`client_address_not_trusted: ${addr}`);
  }
  if (useAccess) {
    const token = req.headers.get('cf-access-jwt-assertion') ?? req.cookies.get(CF_ACCESS_COOKIE)?.value;
    if (!token) return refuse('access_jwt_missing');
    try {
      await jwtVerify(token, jwks(gate.CF_ACCESS_JWKS_URL!), {
        audience: gate.CF_ACCESS_AUD!,
        issuer: gate.CF_ACCESS_ISSUER,
        algorithms: ['RS256', 'ES256'],
        clockTolerance: 30,
        requiredClaims: ['exp'],
      });
    } catch (err) {
      return refuse(`access_jwt_invalid: ${describe(err)}`);
    }
    // Cloudflare sets CF-Connecting-IP; it is believed only on a request Access has vouched for.
    const cf = req.headers.get('cf-connecting-ip')?.trim() ?? '';
    if (parseIp(cf)) return { ok: true, clientIp: cf };
  }
  return { ok: true, clientIp: clientAddress(req.headers, gate.TRUSTED_PROXY_COUNT) };
}

/**
 * The client's address, as the first of TRUSTED_PROXY_COUNT proxies saw it: each proxy appends the address
 * it received the request from to X-Forwarded-For, so it is the N-th entry from the right. Entries further
 * left are whatever the client sent and are never read.
 *
 * With no trusted proxy this returns null (so the CIDR check refuses everything). Middleware has no socket
 * (NextRequest lost `ip` in Next 15), and `next start` fills X-Forwarded-For with the socket address only
 * when the request carries none (`req.headers['x-forwarded-for'] ??= socket.remoteAddress` in
 * next/dist/server/base-server.js): a client that connects directly can send its own and pick any address.
 */
export function clientAddress(headers: Headers, proxyCount: number): string | null {
  if (proxyCount < 1) return null;
  const entries = (headers.get('x-forwarded-for') ?? '').split(',').map((s) => s.trim());
  const entry = entries[entries.length - proxyCount];
  return entry ? withoutPort(entry) : null;
}

/** Some proxies (Azure Application Gateway among them) append `1.2.3.4:port` or `[::1]:port`. */
function withoutPort(entry: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(entry) ?? /^([\d.]+):\d+$/.exec(entry);
  return m?.[1] ?? entry;
}

/** Whether `addr` is inside `cidr`. IPv4, IPv6 and IPv4-mapped IPv6; anything malformed is outside. */
export function inCidr(addr: string, cidr: string): boolean {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr);
  if (!m) return false;
  const base = m[1]!;
  const v4 = !base.includes(':');
  const prefix = Number(m[2]);
  if (prefix > (v4 ? 32 : 128)) return false;
  const a = parseIp(addr);
  const b = parseIp(base);
  if (!a || !b) return false;
  // IPv4 is compared as IPv4-mapped IPv6, so 10.0.0.0/8 is ::ffff:10.0.0.0/104.
  const bits = v4 ? prefix + 96 : prefix;
  for (let i = 0; i < 16; i++) {
    const mask = (0xff << (8 - Math.min(8, Math.max(0, bits - 8 * i)))) & 0xff;
    if ((a[i]! & mask) !== (b[i]! & mask)) return false;
  }
  return true;
}

/** 16 bytes; IPv4 becomes ::ffff:a.b.c.d. Zone IDs (`%eth0`) and anything unusual are refused. */
function parseIp(s: string): number[] | null {
  if (s.includes(':')) return parseIpv6(s);
  const v4 = parseIpv4(s);
  return v4 && [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4];
}

function parseIpv4(s: string): number[] | null {
  const parts = s.split('.');
  // No leading zeros: some parsers read 010 as octal.
  if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p))) return null;
  const bytes = parts.map(Number);
  return bytes.every((b) => b <= 255) ? bytes : null;
}

function parseIpv6(s: string): number[] | null {
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  if (halves.length === 1) {
    const bytes = groupBytes(groups(s), true);
    return bytes?.length === 16 ? bytes : null;
  }
  const head = groupBytes(groups(halves[0]!), false);
  const tail = groupBytes(groups(halves[1]!), true);
  if (!head || !tail || head.length + tail.length > 14) return null;
  return [...head, ...Array<number>(16 - head.length - tail.length).fill(0), ...tail];
}

/** Hex groups to bytes; the last group may be dotted IPv4 when `v4Last`. */
function groupBytes(groups: string[], v4Last: boolean): number[] | null {
  const out: number[] = [];
  for (const [i, g] of groups.entries()) {
    if (v4Last && i === groups.length - 1 && g.includes('.')) {
      const v4 = parseIpv4(g);
      if (!v4) return null;
      out.push(...v4);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
      const n = parseInt(g, 16);
      out.push(n >> 8, n & 0xff);
    } else return null;
  }
  return out;
}

// One key set per URL, kept for the life of the process: jose caches the keys (10 min) and refetches
// when it sees an unknown `kid`, at most every 30 s.
const keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
function jwks(url: string): ReturnType<typeof createRemoteJWKSet> {
  let set = keySets.get(url);
  if (!set) keySets.set(url, (set = createRemoteJWKSet(new URL(url))));
  return set;
}

/** jose's error code (and claim); never the token. */
function describe(err: unknown): string {
  if (err instanceof errors.JWTClaimValidationFailed || err instanceof errors.JWTExpired)
    return `${err.code} (${err.claim})`;
  if (err instanceof errors.JOSEError) return err.code;
  return err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error';
}

function refuse(reason: string): GateResult {
  return { ok: false, reason };
}
