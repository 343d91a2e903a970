import { eq, sql } from 'drizzle-orm';
import type { Db, Tx } from '@/db/client';
import { signinThrottle } from '@/db/schema';
import { config } from '@/lib/config';
import { TooManyRequestsError } from '@/lib/errors';

/** Sign-in limits: failed attempts per client address and per credential, counted in Postgres. */
export interface ThrottleLimits {
  perIp: number;
  perCredential: number;
  windowS: number;
}

export function throttleLimits(): ThrottleLimits {
  const c = config();
  return {
    perIp: c.SIGNIN_MAX_FAILURES_PER_IP,
    perCredential: c.SIGNIN_MAX_FAILURES_PER_CREDENTIAL,
    windowS: c.SIGNIN_WINDOW_S,
  };
}

export const ipKey = (ip: string) => `ip:${ip}`;
export const credentialKey = (id: string) => `cred:${id}`;

/** A sign-in refused by a limit (429); `limit` says which: the client's address or the credential. */
export class SignInThrottledError extends TooManyRequestsError {
  constructor(
    readonly limit: 'client_address' | 'credential',
    retryAfterS: number,
  ) {
    super(
      `Too many failed sign-in attempts. Try again in ${Math.ceil(retryAfterS / 60)} minute(s).`,
      retryAfterS,
    );
  }
}

/** Throws 429 with the seconds to wait when any of the keys is over its limit. */
export async function checkThrottle(
  db: Db | Tx,
  keys: Array<{ key: string; max: number }>,
  windowS: number,
): Promise<void> {
  for (const { key, max } of keys) {
    const [row] = await db
      .select({
        failures: signinThrottle.failures,
        retryAfterS: sql<number>`ceil(extract(epoch from (${signinThrottle.windowStartedAt} + make_interval(secs => ${windowS}) - now())))::int`,
      })
      .from(signinThrottle)
      .where(eq(signinThrottle.key, key));
    if (row && row.failures >= max && row.retryAfterS > 0) {
      throw new SignInThrottledError(
        key.startsWith('ip:') ? 'client_address' : 'credential',
        row.retryAfterS,
      );
    }
  }
}

/** Counts one failure against each key, starting a new window when the old one has passed. */
export async function recordFailure(db: Db | Tx, keys: string[], windowS: number): Promise<void> {
  for (const key of keys) {
    await db
      .insert(signinThrottle)
      .values({ key, windowStartedAt: sql`now()`, failures: 1 })
      .onConflictDoUpdate({
        target: signinThrottle.key,
        set: {
          failures: sql`case when ${signinThrottle.windowStartedAt} + make_interval(secs => ${windowS}) <= now() then 1 else ${signinThrottle.failures} + 1 end`,
          windowStartedAt: sql`case when ${signinThrottle.windowStartedAt} + make_interval(secs => ${windowS}) <= now() then now() else ${signinThrottle.windowStartedAt} end`,
        },
      });
  }
}
