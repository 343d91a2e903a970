import { decode } from 'next-auth/jwt';
import { cookies, headers } from 'next/headers';
import { forbidden, redirect } from 'next/navigation';
import { cache } from 'react';
import { getDatabase } from '@/db/client';
import { can, type Permission } from '@/lib/auth/permissions';
import { BACKGROUND_HEADER } from '@/lib/auth/background';
import { sessionCookieName } from '@/lib/auth/session-cookie';
import { type StaffCtx, validateSession } from '@/lib/auth/session';
import { noteRequest } from '@/lib/http/access-log';
import { requestMeta } from '@/lib/http/request-meta';
import { readSecret } from '@/lib/secrets';

/**
 * The signed-in staff member of this request, or null. The cookie only names the session (`sid`); the
 * session row and the staff row decide, on every request. Once a request: the layout and the page both
 * ask, and React's cache() gives the page the answer the layout got.
 */
export const currentStaff = cache(async (): Promise<StaffCtx | null> => {
  const raw = (await cookies()).get(sessionCookieName())?.value;
  if (!raw) return null;
  const token = await decode({ token: raw, secret: readSecret('auth-secret') }).catch(() => null);
  if (typeof token?.sid !== 'string') return null;
  const { db } = await getDatabase();
  const acting = typeof token.acting_context_id === 'string' ? token.acting_context_id : null;
  const h = await headers();
  const result = await validateSession(
    db,
    token.sid,
    requestMeta(h),
    undefined,
    undefined,
    acting,
    // A poll the page makes by itself (components/api.ts apiGet background) leaves the idle deadline alone.
    h.get(BACKGROUND_HEADER) !== '1',
  );
  if (!result.ok) return null;
  // For the request's access line (lib/http/access-log.ts): pages, like route handlers, name who asked.
  noteRequest({ staffId: result.ctx.staffId, orgId: result.ctx.acting?.orgId ?? null });
  return result.ctx;
});

/**
 * For pages: the signed-in staff member with `permission`. Without a valid session it redirects to
 * /login (coming back here afterwards); without the permission the page answers 403.
 */
export async function requireStaffPage(permission?: Permission): Promise<StaffCtx> {
  const ctx = await currentStaff();
  if (!ctx) {
    const path = (await headers()).get('x-request-path') ?? '/';
    redirect(path === '/' ? '/login' : `/login?next=${encodeURIComponent(path)}`);
  }
  if (permission && !can(ctx.role, permission)) forbidden();
  return ctx;
}
