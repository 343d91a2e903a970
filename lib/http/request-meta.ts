import type { RequestMeta } from '@/lib/auth/session';
import { clientAddress } from '@/lib/auth/network-gate';
import { config } from '@/lib/config';

/** Request id, client address (after the trusted proxies) and user agent, from the request headers. */
export function requestMeta(headers: Headers): RequestMeta {
  return {
    requestId: headers.get('x-request-id'),
    ip: clientAddress(headers, config().TRUSTED_PROXY_COUNT),
    userAgent: headers.get('user-agent')?.slice(0, 500) ?? null,
  };
}
