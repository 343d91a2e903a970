import { type NextRequest, NextResponse } from 'next/server';
import { checkNetworkGate, CLIENT_IP_HEADER } from '@/lib/auth/network-gate';
import { SESSION_COOKIES } from '@/lib/auth/session-cookie';
import { config as portalConfig } from '@/lib/config';
import { securityHeaders } from '@/lib/http/security-headers';

/**
 * Thin and edge-safe: the network gate first, then a redirect to /login (or 401 under /api) when there is
 * no session cookie at all, and security headers on every answer. It makes no role decisions; every page
 * and handler validates the session itself.
 *
 * There is no matcher: the gate covers every path, Next's own assets included. The only paths outside the
 * gate are /api/health and /api/ready, which the kubelet's probes call on the pod's own address.
 */
const GATE_EXEMPT = /^\/api\/(health|ready)$/;
/** Reachable without a session: sign-in, enrolment by invitation, and the ceremonies behind them. */
const PUBLIC_PATHS = [
  /^\/login$/,
  /^\/enroll\/[^/]+$/,
  /^\/api\/(health|ready)$/,
  /^\/api\/auth\//,
  /^\/api\/enroll\//,
  /^\/\.well-known\/jwks\.json$/,
];
/** An id the client sent is kept only when it looks like one; otherwise the portal makes its own. */
const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;
/** Build output and the icon: gated, but needed before sign-in, so no session check. */
const ASSETS = /^\/(_next\/static\/|_next\/image$|favicon\.ico$|icon\.svg$)/;

const REFUSAL = 'The staff portal is reachable only through the staff VPN or Cloudflare Access.';

export async function middleware(request: NextRequest) {
  const nonce = btoa(crypto.randomUUID());
  const headers = securityHeaders(nonce, { dev: process.env.NODE_ENV === 'development' });
  const { pathname, search } = request.nextUrl;
  const sent = request.headers.get('x-request-id');
  const requestId = sent && REQUEST_ID.test(sent) ? sent : crypto.randomUUID();

  const gate = GATE_EXEMPT.test(pathname)
    ? { ok: true as const, clientIp: null }
    : await checkNetworkGate(request, portalConfig());
  const hasSession = SESSION_COOKIES.some((name) => request.cookies.has(name));
  let response: NextResponse;
  if (!gate.ok) {
    // One JSON line for the log collector, shaped like lib/log.ts's (pino does not run here); the reason
    // stays on the server.
    console.warn(
      JSON.stringify({
        time: new Date().toISOString(),
        level: 'warn',
        msg: 'network gate refused',
        request_id: requestId,
        staff_id: null,
        org_id: null,
        reason: gate.reason,
        method: request.method,
        path: pathname,
      }),
    );
    response = pathname.startsWith('/api/')
      ? NextResponse.json({ error: 'network_gate', message: REFUSAL }, { status: 403 })
      : new NextResponse(`403 Forbidden. ${REFUSAL}\n`, {
          status: 403,
          headers: { 'Content-Type': 'text/plain; charset=utf-8' },
        });
    response.headers.set('Cache-Control', 'no-store');
  } else if (ASSETS.test(pathname)) {
    response = NextResponse.next();
  } else if (!hasSession && !PUBLIC_PATHS.some((p) => p.test(pathname))) {
    if (pathname.startsWith('/api/')) {
      response = NextResponse.json({ error: 'unauthenticated', message: 'Sign in first.' }, { status: 401 });
    } else {
      const login = new URL('/login', request.url);
      if (pathname !== '/') login.searchParams.set('next', `${pathname}${search}`);
      response = NextResponse.redirect(login);
    }
  } else {
    // Next reads the nonce from the request's CSP header and puts it on its own scripts.
    const requestHeaders = new Headers(request.headers);
    requestHeaders.set('x-nonce', nonce);
    requestHeaders.set('Content-Security-Policy', headers['Content-Security-Policy']!);
    requestHeaders.set('x-request-id', requestId);
    if (gate.clientIp) requestHeaders.set(CLIENT_IP_HEADER, gate.clientIp);
    else requestHeaders.delete(CLIENT_IP_HEADER);
    // Pages that redirect to /login use it for next=.
    requestHeaders.set('x-request-path', `${pathname}${search}`);
    response = NextResponse.next({ request: { headers: requestHeaders } });
  }
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  response.headers.set('x-request-id', requestId);
  return response;
}
