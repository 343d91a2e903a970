import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '@/db/client';
import { webauthnChallenges } from '@/db/schema';
import { testDatabase } from '@/test/db';
import { challengeOf, consumeChallenge, storeChallenge } from './challenges';
import { checkThrottle, recordFailure } from './throttle';

let database: Database;
beforeAll(async () => {
  database = await testDatabase();
});
afterAll(() => database.close());

const fresh = () => crypto.randomUUID().replaceAll('-', '');

describe('ceremony challenges', () => {
  it('are consumed exactly once, even by two at the same moment', async () => {
    const challenge = fresh();
    await storeChallenge(database.db, challenge, 'authentication', null);
    const results = await Promise.allSettled([
      consumeChallenge(database.db, challenge, 'authentication'),
      consumeChallenge(database.db, challenge, 'authentication'),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    await expect(consumeChallenge(database.db, challenge, 'authentication')).rejects.toThrow(
      /expired or was already used/,
    );
  });

  it('are refused once expired', async () => {
    const challenge = fresh();
    await storeChallenge(database.db, challenge, 'authentication', null);
    await database.db
      .update(webauthnChallenges)
      .set({ expiresAt: sql`now() - interval '1 second'` })
      .where(eq(webauthnChallenges.challenge, challenge));
    // What the sign-in page then shows (e2e/refusals.spec.ts sees the same message for a replay).
    await expect(consumeChallenge(database.db, challenge, 'authentication')).rejects.toMatchObject({
      status: 400,
      code: 'challenge_invalid',
      message: 'This security-key request has expired or was already used. Start again.',
    });
  });

  it('serve only their own purpose and staff member', async () => {
    const challenge = fresh();
    await storeChallenge(database.db, challenge, 'registration', null);
    await expect(consumeChallenge(database.db, challenge, 'authentication')).rejects.toThrow();
    const stepUp = fresh();
    const staffId = crypto.randomUUID();
    await storeChallenge(database.db, stepUp, 'step_up', null);
    await expect(consumeChallenge(database.db, stepUp, 'step_up', staffId)).rejects.toThrow();
  });

  it('are read from clientDataJSON, and a malformed one is a clear 400', () => {
    const clientDataJSON = Buffer.from(
      JSON.stringify({ type: 'webauthn.get', challenge: 'abc123' }),
    ).toString('base64url');
    expect(challengeOf({ response: { clientDataJSON } })).toBe('abc123');
    expect(() => challengeOf({ response: { clientDataJSON: 'not-json' } })).toThrow(/malformed/);
  });
});

describe('sign-in limits', () => {
  it('answer 429 with the seconds left once a key reaches its limit, and reset after the window', async () => {
    const key = `ip:203.0.113.${Math.floor(Math.random() * 200)}`;
    await checkThrottle(database.db, [{ key, max: 3 }], 60);
    await recordFailure(database.db, [key], 60);
    await recordFailure(database.db, [key], 60);
    await checkThrottle(database.db, [{ key, max: 3 }], 60);
    await recordFailure(database.db, [key], 60);
    const err = await checkThrottle(database.db, [{ key, max: 3 }], 60).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 429, retryAfterS: expect.any(Number) });
    expect((err as { retryAfterS: number }).retryAfterS).toBeGreaterThan(50);
    expect((err as { retryAfterS: number }).retryAfterS).toBeLessThanOrEqual(60);

    // A window of one second has passed by now: the next failure starts a new window at 1.
    await new Promise((r) => setTimeout(r, 1100));
    await recordFailure(database.db, [key], 1);
    await checkThrottle(database.db, [{ key, max: 2 }], 1);
  });
});
