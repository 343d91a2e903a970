import { generateAuthenticationOptions } from '@simplewebauthn/server';
import { z } from 'zod';
import type { Db } from '@/db/client';
import { staffSessions } from '@/db/schema';
import { type AuditCtx, recordAudit, withAudit } from '@/lib/audit';
import { advanceCounter, AssertionError, verifyAssertion } from '@/lib/auth/assertion';
import { storeChallenge } from '@/lib/auth/challenges';
import type { StaffRole } from '@/lib/auth/roles';
import { type RequestMeta, sessionDeadlines, type SessionLimits, sessionLimits } from '@/lib/auth/session';
import {
  checkThrottle,
  credentialKey,
  ipKey,
  recordFailure,
  SignInThrottledError,
  type ThrottleLimits,
  throttleLimits,
} from '@/lib/auth/throttle';
import { AuthenticationResponse } from '@/lib/auth/webauthn-json';
import { WebAuthnPolicyError } from '@/lib/auth/webauthn-policy';
import { config } from '@/lib/config';
import { AppError, parseInput } from '@/lib/errors';

export interface SignedIn {
  staffId: string;
  email: string;
  displayName: string;
  role: StaffRole;
  sessionId: string;
  authTime: Date;
}

export class SignInError extends AppError {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(401, 'signin_failed', message, { reason });
  }
}

interface SignInDeps {
  limits?: SessionLimits;
  throttle?: ThrottleLimits;
}

// The ceremony names no one: the browser offers the discoverable credentials it holds for this site. Nothing
// here tells whether an address is staff, or hands out anyone's credential ids.
const BeginInput = z.strictObject({});

/** Options for the sign-in ceremony: no e-mail, no `allowCredentials`. Refused while the client is over its limit. */
export async function beginSignIn(db: Db, meta: RequestMeta, raw: unknown, deps: SignInDeps = {}) {
  parseInput(BeginInput, raw ?? {});
  const throttle = deps.throttle ?? throttleLimits();
  await throttled(anonymousCtx(db, meta), clientLimit(meta, throttle), throttle.windowS, null);
  const options = await generateAuthenticationOptions({
    rpID: config().WEBAUTHN_RP_ID,
    userVerification: 'required',
    timeout: 120_000,
  });
  await storeChallenge(db, options.challenge, 'authentication', null);
  return options;
}

/**
 * Verifies a sign-in assertion and opens a session. Every refusal is audited with its reason and counted
 * against the client address. It counts against the credential only when the refusal came after the
 * signature verified with that credential's key: an answer anyone could make up (naming a victim's key id)
 * must not lock the key's owner out. A refusal by a limit (429) is audited too.
 */
export async function finishSignIn(
  db: Db,
  meta: RequestMeta,
  raw: unknown,
  deps: SignInDeps = {},
): Promise<SignedIn> {
  const response = parseInput(AuthenticationResponse, raw);
  const throttle = deps.throttle ?? throttleLimits();
  const limits = deps.limits ?? sessionLimits();
  const anonymous = anonymousCtx(db, meta);
  await throttled(
    anonymous,
    [...clientLimit(meta, throttle), { key: credentialKey(response.id), max: throttle.perCredential }],
    throttle.windowS,
    response.id,
  );

  let ctx = anonymous;
  let signed = false;
  try {
    const verified = await verifyAssertion(db, anonymous, response, 'authentication', {
      onIdentified: (staff) => {
        ctx = { ...anonymous, actor: { ...anonymous.actor, staffId: staff.id, email: staff.email } };
      },
      onSignatureVerified: () => {
        signed = true;
      },
    });
    const { staff, cred } = verified;
    const deadlines = sessionDeadlines(limits);
    const sessionId = await withAudit(
      ctx,
      { action: 'staff.signin.success', targetType: 'staff_credential', targetId: cred.id },
      async (tx, audit) => {
        await advanceCounter(tx, verified, deadlines.createdAt);
        const [session] = await tx
          .insert(staffSessions)
          .values({ staffId: staff.id, ...deadlines, ip: meta.ip, userAgent: meta.userAgent })
          .returning({ id: staffSessions.id });
        audit.detail({ session_id: session!.id });
        return session!.id;
      },
    );
    return {
      staffId: staff.id,
      email: staff.email,
      displayName: staff.displayName,
      role: staff.role,
      sessionId,
      authTime: deadlines.createdAt,
    };
  } catch (err) {
    const failure = asSignInError(err);
    await recordFailure(
      db,
      [...(meta.ip ? [ipKey(meta.ip)] : []), ...(signed ? [credentialKey(response.id)] : [])],
      throttle.windowS,
    );
    await recordAudit(
      ctx,
      {
        action: 'staff.signin.failure',
        outcome: 'failure',
        targetType: 'staff_credential',
        targetId: response.id,
      },
      { reason: failure.reason, verified_by_key: signed },
    );
    throw failure;
  }
}

function anonymousCtx(db: Db, meta: RequestMeta): AuditCtx {
  return { db, actor: { staffId: null, email: null, actingOrgId: null, actingContextId: null }, ...meta };
}

function clientLimit(meta: RequestMeta, throttle: ThrottleLimits) {
  return meta.ip ? [{ key: ipKey(meta.ip), max: throttle.perIp }] : [];
}

/** checkThrottle, with a refusal audited (`staff.signin.failure`, outcome denied, reason throttled). */
async function throttled(
  ctx: AuditCtx,
  keys: Array<{ key: string; max: number }>,
  windowS: number,
  credentialId: string | null,
): Promise<void> {
  try {
    await checkThrottle(ctx.db, keys, windowS);
  } catch (err) {
    if (!(err instanceof SignInThrottledError)) throw err;
    await recordAudit(
      ctx,
      {
        action: 'staff.signin.failure',
        outcome: 'denied',
        ...(credentialId ? { targetType: 'staff_credential', targetId: credentialId } : {}),
      },
      { reason: 'throttled', limit: err.limit, retry_after_s: err.retryAfterS },
    );
    throw err;
  }
}

function asSignInError(err: unknown): SignInError {
  if (err instanceof SignInError) return err;
  if (err instanceof AssertionError || err instanceof WebAuthnPolicyError)
    return new SignInError(err.reason, err.message);
  if (err instanceof AppError) return new SignInError(err.code, err.message);
  throw err;
}
