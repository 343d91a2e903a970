import { config } from '@/lib/config';

/** The session cookie's names. `__Secure-` needs HTTPS, so plain-HTTP local runs use the bare name. */
export const SESSION_COOKIES = ['__Secure-portal.session', 'portal.session'] as const;

export function sessionCookieName(): (typeof SESSION_COOKIES)[number] {
  return config().PORTAL_URL.startsWith('https://') ? SESSION_COOKIES[0] : SESSION_COOKIES[1];
}
