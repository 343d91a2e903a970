import type { NextAuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import { getDatabase } from '@/db/client';
import { sessionClaims } from '@/lib/auth/session';
import { sessionCookieName } from '@/lib/auth/session-cookie';
import { config } from '@/lib/config';
import { AppError } from '@/lib/errors';
import { requestMeta } from '@/lib/http/request-meta';
import { readSecret } from '@/lib/secrets';
import { finishSignIn } from '@/lib/services/auth/sign-in';

declare module 'next-auth' {
  interface User {
    role: string;
    sid: string;
    authTime: number;
  }
}

/**
 * next-auth issues the session cookie after a WebAuthn assertion verifies. There is no other provider:
 * no password, e-mail link or test login. The JWT carries `sub`, `sid`, `role` and `auth_time`, but
 * every request re-reads the session and staff rows (lib/auth/current.ts); the claims decide nothing.
 */
export function authOptions(): NextAuthOptions {
  const c = config();
  const secure = c.PORTAL_URL.startsWith('https://');
  return {
    secret: readSecret('auth-secret'),
    session: { strategy: 'jwt', maxAge: c.SESSION_ABSOLUTE_TIMEOUT_S },
    cookies: {
      sessionToken: {
        name: sessionCookieName(),
        options: { httpOnly: true, sameSite: 'strict', path: '/', secure },
      },
    },
    pages: { signIn: '/login', error: '/login' },
    providers: [
      CredentialsProvider({
        id: 'webauthn',
        name: 'Security key',
        credentials: { response: { type: 'text' } },
        async authorize(credentials, req) {
          let response: unknown;
          try {
            response = JSON.parse(credentials?.response ?? '');
          } catch {
            throw new Error('The security-key response is malformed.');
          }
          const { db } = await getDatabase();
          const meta = requestMeta(new Headers(req.headers as Record<string, string>));
          try {
            const s = await finishSignIn(db, meta, response);
            return {
              id: s.staffId,
              email: s.email,
              name: s.displayName,
              role: s.role,
              sid: s.sessionId,
              authTime: s.authTime.getTime(),
            };
          } catch (err) {
            // next-auth hands this message to the sign-in page as it is.
            if (err instanceof AppError) throw new Error(err.message);
            throw err;
          }
        },
      }),
    ],
    callbacks: {
      async jwt({ token, user, trigger }) {
        if (user) {
          token.sid = user.sid;
          token.role = user.role;
          token.auth_time = Math.floor(user.authTime / 1000);
        }
        if (trigger === 'update' && typeof token.sid === 'string') {
          // The acting claims come from the database; whatever the client sent with update() is ignored.
          const { db } = await getDatabase();
          const state = await sessionClaims(db, token.sid);
          token.role = state?.role;
          token.acting_org_id = state?.acting?.orgId ?? null;
          token.acting_context_id = state?.acting?.id ?? null;
          token.acting_expires_at = state?.acting
            ? Math.floor(state.acting.expiresAt.getTime() / 1000)
            : null;
        }
        return token;
      },
    },
  };
}
