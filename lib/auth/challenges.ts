import { and, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Db, Tx } from '@/db/client';
import { webauthnChallenges } from '@/db/schema';
import { AppError } from '@/lib/errors';

export type ChallengePurpose = 'registration' | 'authentication' | 'step_up';

const TTL_S = 5 * 60;

/** Stores a ceremony's challenge; any replica can finish the ceremony. */
export async function storeChallenge(
  db: Db | Tx,
  challenge: string,
  purpose: ChallengePurpose,
  staffId: string | null,
): Promise<void> {
  // Expired challenges are useless; clearing them here keeps the table small without a job.
  await db.delete(webauthnChallenges).where(lt(webauthnChallenges.expiresAt, sql`now() - interval '1 hour'`));
  await db.insert(webauthnChallenges).values({
    challenge,
    purpose,
    staffId,
    expiresAt: sql`now() + make_interval(secs => ${TTL_S})`,
  });
}

/**
 * Consumes a challenge exactly once: the UPDATE matches only an unconsumed, unexpired challenge of this
 * purpose (and staff member, when given), so a replay or a late answer finds nothing.
 */
export async function consumeChallenge(
  db: Db | Tx,
  challenge: string,
  purpose: ChallengePurpose,
  staffId?: string,
): Promise<void> {
  const [used] = await db
    .update(webauthnChallenges)
    .set({ consumedAt: sql`now()` })
    .where(
      and(
        eq(webauthnChallenges.challenge, challenge),
        eq(webauthnChallenges.purpose, purpose),
        isNull(webauthnChallenges.consumedAt),
        gt(webauthnChallenges.expiresAt, sql`now()`),
        staffId === undefined ? undefined : eq(webauthnChallenges.staffId, staffId),
      ),
    )
    .returning({ id: webauthnChallenges.id });
  if (!used) {
    throw new AppError(
      400,
      'challenge_invalid',
      'This security-key request has expired or was already used. Start again.',
    );
  }
}

/** The challenge a WebAuthn response answers, read from its clientDataJSON. */
export function challengeOf(response: { response: { clientDataJSON: string } }): string {
  try {
    const clientData = JSON.parse(
      Buffer.from(response.response.clientDataJSON, 'base64url').toString('utf8'),
    ) as {
      challenge?: unknown;
    };
    if (typeof clientData.challenge === 'string' && clientData.challenge) return clientData.challenge;
  } catch {
    // fall through
  }
  throw new AppError(400, 'invalid', 'The security-key response is malformed.');
}
