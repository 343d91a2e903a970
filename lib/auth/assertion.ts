import { and, eq, sql } from 'drizzle-orm';
import type { Db, Tx } from '@/db/client';
import { staffCredentials, staffUsers } from '@/db/schema';
import { type AuditCtx, withAudit } from '@/lib/audit';
import { challengeOf, type ChallengePurpose, consumeChallenge } from '@/lib/auth/challenges';
import type { AuthenticationResponse } from '@/lib/auth/webauthn-json';
import { verifyAuthentication } from '@/lib/auth/webauthn-policy';
import { AppError } from '@/lib/errors';

/** A refused assertion; `reason` goes into the audit entry. */
export class AssertionError extends AppError {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(401, 'assertion_refused', message, { reason });
  }
}

export interface VerifiedAssertion {
  cred: typeof staffCredentials.$inferSelect;
  staff: typeof staffUsers.$inferSelect;
  newCounter: number;
}

/**
 * Checks a WebAuthn assertion (sign-in or step-up) against the stored credential: the challenge is
 * consumed once, the key is enrolled, not revoked or locked, its owner is active (and is `staffId` when
 * given), the policy holds, and the signature counter did not go backwards. A regression locks the key
 * and is audited. `onIdentified` learns whose key it was before any later check fails.
 */
export async function verifyAssertion(
  db: Db,
  ctx: AuditCtx,
  response: AuthenticationResponse,
  purpose: ChallengePurpose,
  opts: {
    staffId?: string;
    onIdentified?: (staff: { id: string; email: string }) => void;
    /** Called once the signature verified with this credential's key: a refusal after it is the key holder's. */
    onSignatureVerified?: () => void;
  } = {},
): Promise<VerifiedAssertion> {
  // The key is looked up first, so that every refusal below is audited against its owner.
  const [row] = await db
    .select({ cred: staffCredentials, staff: staffUsers })
    .from(staffCredentials)
    .innerJoin(staffUsers, eq(staffUsers.id, staffCredentials.staffId))
    .where(eq(staffCredentials.id, response.id));
  if (!row)
    throw new AssertionError('unknown_credential', 'This security key is not enrolled for the staff portal.');
  const { cred, staff } = row;
  opts.onIdentified?.(staff);
  const challenge = challengeOf(response);
  await consumeChallenge(db, challenge, purpose, opts.staffId);
  if (opts.staffId && staff.id !== opts.staffId) {
    throw new AssertionError(
      'wrong_staff',
      'This security key belongs to someone else. Use one of your own keys.',
    );
  }
  if (cred.revokedAt)
    throw new AssertionError('revoked', 'This security key has been revoked. Use another enrolled key.');
  if (cred.lockedAt) {
    throw new AssertionError(
      'locked',
      'This security key is locked after a security check failed. Ask a superadmin to review and unlock it.',
    );
  }
  if (staff.status !== 'active') throw new AssertionError('disabled', 'This staff account is disabled.');

  const info = await verifyAuthentication({
    response,
    expectedChallenge: challenge,
    // The counter rule is applied below, so that a regression locks the key instead of only failing.
    credential: {
      id: cred.id,
      publicKey: Buffer.from(cred.publicKey, 'base64url'),
      counter: 0,
      transports: cred.transports,
    },
    onSignatureVerified: opts.onSignatureVerified,
  });
  if ((info.newCounter !== 0 || cred.counter !== 0) && info.newCounter <= cred.counter) {
    await withAudit(
      { ...ctx, actor: { ...ctx.actor, staffId: staff.id, email: staff.email } },
      { action: 'staff.key.locked', outcome: 'denied', targetType: 'staff_credential', targetId: cred.id },
      async (tx, audit) => {
        await tx
          .update(staffCredentials)
          .set({
            lockedAt: sql`now()`,
            lockedReason: `counter regression: stored ${cred.counter}, reported ${info.newCounter}`,
          })
          .where(eq(staffCredentials.id, cred.id));
        audit.detail({
          reason: 'counter_regression',
          stored_counter: cred.counter,
          reported_counter: info.newCounter,
        });
      },
    );
    throw new AssertionError(
      'counter_regression',
      'This security key reported a signature counter that went backwards, a sign that it may have been cloned. It is now locked; a superadmin must review and unlock it.',
    );
  }
  return { cred, staff, newCounter: info.newCounter };
}

/** Stores the new counter with compare-and-swap: two uses of one assertion cannot both succeed. */
export async function advanceCounter(tx: Tx, verified: VerifiedAssertion, at: Date): Promise<void> {
  const moved = await tx
    .update(staffCredentials)
    .set({ counter: verified.newCounter, lastUsedAt: at })
    .where(
      and(eq(staffCredentials.id, verified.cred.id), eq(staffCredentials.counter, verified.cred.counter)),
    )
    .returning({ id: staffCredentials.id });
  if (moved.length === 0)
    throw new AssertionError('counter_race', 'This security key was used twice at once. Try again.');
}
