import NextAuth from 'next-auth';
import { authOptions } from '@/lib/auth/next-auth';
import { config } from '@/lib/config';

// next-auth v4 builds its callback URLs from NEXTAUTH_URL; the portal's own setting is PORTAL_URL.
process.env.NEXTAUTH_URL = config().PORTAL_URL;

function handler(req: Request, ctx: { params: Promise<{ nextauth: string[] }> }) {
  return NextAuth(authOptions())(req, ctx);
}

export { handler as GET, handler as POST };
