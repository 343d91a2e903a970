import { generateAuthenticationOptions } from '@simplewebauthn/server';
import { and, eq, isNull } from 'drizzle-orm';
import { staffCredentials, staffSessions } from '@/db/schema';
import { recordAudit, withAudit } from '@/lib/audit';
import { advanceCounter, AssertionError, verifyAssertion } from '@/lib/auth/assertion';
import { storeChallenge } from '@/lib/auth/challenges';
import type { StaffCtx } from '@/lib/auth/session';
import { AuthenticationResponse } from '@/lib/auth/webauthn-json';
import { config } from '@/lib/config';
import { WebAuthnPolicyError } from '@/lib/auth/webauthn-policy';
import { AppError, parseInput } from '@/lib/errors';

/** Options for a step-up: a fresh user-verified assertion with one of the caller's own keys. */
export async function beginStepUp(ctx: StaffCtx) {
  const keys = await ctx.db
    .select({ id: staffCredentials.id, transports: staffCredentials.transports })
    .from(staffCredentials)
    .where(
      and(
        eq(staffCredentials.staffId, ctx.staffId),
        isNull(staffCredentials.revokedAt),
        isNull(staffCredentials.lockedAt),
      ),
    );
  const options = await generateAuthenticationOptions({
    rpID: config().WEBAUTHN_RP_ID,
    userVerification: 'required',
    timeout: 120_000,
    allowCredentials: keys.map((k) => ({ id: k.id, transports: k.transports })),
  });
  await storeChallenge(ctx.db, options.challenge, 'step_up', ctx.staffId);
  return options;
}

/**
 * Verifies the step-up assertion and stamps the session, so sensitive writes pass requireFreshAuth. A
 * refused assertion is audited (`staff.step_up`, outcome failure, with the reason) and answers 403.
 */
export async function finishStepUp(ctx: StaffCtx, raw: unknown): Promise<{ stepUpAt: Date }> {
  const response = parseInput(AuthenticationResponse, raw);
  try {
    const verified = await verifyAssertion(ctx.db, ctx, response, 'step_up', { staffId: ctx.staffId });
    const at = new Date();
    await withAudit(
      ctx,
      { action: 'staff.step_up', targetType: 'staff_credential', targetId: verified.cred.id },
      async (tx) => {
        await advanceCounter(tx, verified, at);
        await tx.update(staffSessions).set({ stepUpAt: at }).where(eq(staffSessions.id, ctx.sessionId));
      },
    );
    return { stepUpAt: at };
  } catch (err) {
    const reason =
      err instanceof AssertionError || err instanceof WebAuthnPolicyError
        ? err.reason
        : err instanceof AppError
          ? err.code
          : null;
    if (reason === null) throw err;
    await recordAudit(
      ctx,
      {
        action: 'staff.step_up',
        outcome: 'failure',
        targetType: 'staff_credential',
        targetId: response.id,
      },
      { reason },
    );
    throw new AppError(
      403,
      'step_up_failed',
      `The security-key check failed: ${(err as Error).message} The change was not made.`,
      { reason },
    );
  }
}
