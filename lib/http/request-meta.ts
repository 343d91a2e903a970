import type { RequestMeta } from '@/lib/auth/session';
import { CLIENT_IP_HEADER } from '@/lib/auth/network-gate';

/**
 * Request id, client address and user agent, from the request headers. The address is the one the network
 * gate in middleware.ts vouched for (CF-Connecting-IP behind a verified Access token, else the entry after
 * the trusted proxies), or null.
 */
export function requestMeta(headers: Headers): RequestMeta {
  return {
    requestId: headers.get('x-request-id'),
    ip: headers.get(CLIENT_IP_HEADER),
    userAgent: headers.get('user-agent')?.slice(0, 500) ?? null,
  };
}
