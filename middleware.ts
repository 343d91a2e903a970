import { type NextRequest, NextResponse } from 'next/server';
import { SESSION_COOKIES } from '@/lib/auth/session-cookie';
import { securityHeaders } from '@/lib/http/security-headers';

/**
 * Thin and edge-safe: security headers, and a redirect to /login (or 401 under /api) when there is no
 * session cookie at all. It makes no role decisions; every page and handler validates the session itself.
 */
const PUBLIC_PATHS = [/^\/login$/, /^\/api\/health$/];

export function middleware(request: NextRequest) {
  const nonce = btoa(crypto.randomUUID());
  const headers = securityHeaders(nonce, { dev: process.env.NODE_ENV === 'development' });
  const { pathname, search } = request.nextUrl;

  const hasSession = SESSION_COOKIES.some((name) => request.cookies.has(name));
  let response: NextResponse;
  if (!hasSession && !PUBLIC_PATHS.some((p) => p.test(pathname))) {
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
    response = NextResponse.next({ request: { headers: requestHeaders } });
  }
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

export const config = {
  matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'],
};
