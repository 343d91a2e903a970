/**
 * A load balancer in front of the two replicas, inside the browser: every request the browser makes to
 * the portal's public origin (replica A's address, which both replicas have as PORTAL_URL) is answered by
 * the replica `pick` names. Requests for B are re-sent to B's own address with the browser's headers
 * (Origin, cookies) unchanged, as a reverse proxy would forward them, plus an x-request-id naming the
 * replica, and B's absolute redirects are mapped back to the public origin.
 */
import crypto from 'node:crypto';
import type { BrowserContext } from '@playwright/test';
import { PORTAL_ORIGIN, REPLICA_B_ORIGIN } from './portal-env';

export type Replica = 'A' | 'B';

export interface Balancer {
  /** Which replica answers a request; by default, `target`. */
  pick: (url: URL, method: string) => Replica;
  target: Replica;
  /** Every request answered, in order: method, path, replica and the x-request-id it was sent with. */
  served: { method: string; path: string; replica: Replica; requestId: string }[];
  /** Takes the balancer away, letting requests still in flight finish quietly (call before closing). */
  stop(): Promise<void>;
}

export async function balance(context: BrowserContext): Promise<Balancer> {
  const balancer: Balancer = {
    target: 'A',
    pick: () => balancer.target,
    served: [],
    stop: () => context.unrouteAll({ behavior: 'ignoreErrors' }),
  };
  await context.route(`${PORTAL_ORIGIN}/**`, async (route) => {
    const request = route.request();
    const url = new URL(request.url());
    const replica = balancer.pick(url, request.method());
    const requestId = `replica-${replica.toLowerCase()}-${crypto.randomUUID()}`;
    balancer.served.push({ method: request.method(), path: url.pathname, replica, requestId });
    const target = replica === 'A' ? PORTAL_ORIGIN : REPLICA_B_ORIGIN;
    const response = await route.fetch({
      url: `${target}${url.pathname}${url.search}`,
      headers: { ...(await request.allHeaders()), 'x-request-id': requestId },
      maxRedirects: 0,
    });
    const headers = response.headers();
    if (headers.location?.startsWith(REPLICA_B_ORIGIN))
      headers.location = PORTAL_ORIGIN + headers.location.slice(REPLICA_B_ORIGIN.length);
    await route.fulfill({ response, headers });
  });
  return balancer;
}
