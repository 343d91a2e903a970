import { cookies } from 'next/headers';
import { sessionCookieName } from '@/lib/auth/session-cookie';
import { staffRoute } from '@/lib/http/handler';
import { signOut } from '@/lib/services/staff/manage';

export const POST = staffRoute(async (ctx) => {
  await signOut(ctx);
  (await cookies()).delete(sessionCookieName());
});
