import { generateAuthenticationOptions } from '@simplewebauthn/server';
import { and, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db } from '@/db/client';
import { staffCredentials, staffSessions, staffUsers } from '@/db/schema';
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

const BeginInput = z.object({
  email: z
    .union([z.literal(''), z.email('Enter a valid e-mail address, or leave it empty.')])
    .optional()
    .transform((v) => v || undefined),
});

/**
 * Options for the sign-in ceremony. Without an e-mail the browser offers every discoverable credential
 * for this site; with one, only that staff member's keys.
 */
export async function beginSignIn(db: Db, meta: RequestMeta, raw: unknown, deps: SignInDeps = {}) {
  const { email } = parseInput(BeginInput, raw);
  const throttle = deps.throttle ?? throttleLimits();
  const keys = meta.ip ? [{ key: ipKey(meta.ip), max: throttle.perIp }] : [];
  let allowCredentials: Array<{ id: string; transports?: string[] }> | undefined;
  if (email) {
    const creds = await db
      .select({ id: staffCredentials.id, transports: staffCredentials.transports })
      .from(staffCredentials)
      .innerJoin(staffUsers, eq(staffUsers.id, staffCredentials.staffId))
      .where(and(sql`lower(${staffUsers.email}) = lower(${email})`, isNull(staffCredentials.revokedAt)));
    allowCredentials = creds.map((c) => ({ id: c.id, transports: c.transports }));
    keys.push(...creds.map((c) => ({ key: credentialKey(c.id), max: throttle.perCredential })));
  }
  await checkThrottle(db, keys, throttle.windowS);
  const options = await generateAuthenticationOptions({
    rpID: config().WEBAUTHN_RP_ID,
    userVerification: 'required',
    timeout: 120_000,
    ...(allowCredentials?.length ? { allowCredentials } : {}),
  });
  await storeChallenge(db, options.challenge, 'authentication', null);
  return options;
}

/**
 * Verifies a sign-in assertion and opens a session. Every refusal is audited with its reason and counted
 * against the client address and the credential; a counter regression also locks the credential.
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
  const anonymous: AuditCtx = {
    db,
    actor: { staffId: null, email: null, actingOrgId: null, actingContextId: null },
    ...meta,
  };
  await checkThrottle(
    db,
    [
      ...(meta.ip ? [{ key: ipKey(meta.ip), max: throttle.perIp }] : []),
      { key: credentialKey(response.id), max: throttle.perCredential },
    ],
    throttle.windowS,
  );

  let ctx = anonymous;
  try {
    const verified = await verifyAssertion(db, anonymous, response, 'authentication', {
      onIdentified: (staff) => {
        ctx = { ...anonymous, actor: { ...anonymous.actor, staffId: staff.id, email: staff.email } };
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
      [...(meta.ip ? [ipKey(meta.ip)] : []), credentialKey(response.id)],
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
      { reason: failure.reason },
    );
    throw failure;
  }
}

function asSignInError(err: unknown): SignInError {
  if (err instanceof SignInError) return err;
  if (err instanceof AssertionError || err instanceof WebAuthnPolicyError)
    return new SignInError(err.reason, err.message);
  if (err instanceof AppError) return new SignInError(err.code, err.message);
  throw err;
}
