import crypto from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { type Db, getDatabase } from '@/db/client';
import { staffInvites, staffUsers } from '@/db/schema';
import { type AuditCtx, type AuditEntryInput, recordAudit, withAudit } from '@/lib/audit';
import { challengeOf, consumeChallenge } from '@/lib/auth/challenges';
import { beginRegistration, storeRegistration } from '@/lib/auth/registration';
import type { RequestMeta } from '@/lib/auth/session';
import { RegistrationResponse } from '@/lib/auth/webauthn-json';
import { AppError, parseInput } from '@/lib/errors';
import { hashInviteToken } from '@/lib/services/staff/invites';
import { text } from '@/lib/text';

export type InviteState =
  | { state: 'valid'; email: string; role: string; expiresAt: Date }
  | { state: 'used' | 'revoked' | 'expired' | 'unknown' };

const Token = text().regex(/^[A-Za-z0-9_-]{20,100}$/, 'This enrolment link is not valid.');

/** What an enrolment link leads to. A forged token looks exactly like an unknown one. */
export async function inviteState(db: Db, token: string): Promise<InviteState> {
  if (!Token.safeParse(token).success) return { state: 'unknown' };
  const [invite] = await db
    .select()
    .from(staffInvites)
    .where(eq(staffInvites.tokenHash, hashInviteToken(token)));
  if (!invite) return { state: 'unknown' };
  if (invite.usedAt) return { state: 'used' };
  if (invite.revokedAt) return { state: 'revoked' };
  if (invite.expiresAt <= new Date()) return { state: 'expired' };
  return { state: 'valid', email: invite.email, role: invite.role, expiresAt: invite.expiresAt };
}

/** For the enrolment page, which has no session and no database of its own. */
export async function enrolmentInvite(token: string): Promise<InviteState> {
  return inviteState((await getDatabase()).db, token);
}

export const INVITE_MESSAGES = {
  used: 'This enrolment link has already been used. Ask a superadmin for a new invitation.',
  revoked: 'This enrolment link was withdrawn. Ask a superadmin for a new invitation.',
  expired: 'This enrolment link has expired. Ask a superadmin for a new invitation.',
  unknown: 'This enrolment link is not valid. Check that you copied all of it, or ask for a new invitation.',
} as const;

function refuse(state: 'used' | 'revoked' | 'expired' | 'unknown'): never {
  throw new AppError(state === 'unknown' ? 404 : 410, `invite_${state}`, INVITE_MESSAGES[state]);
}

const BeginInput = z.object({
  token: Token,
  displayName: text().trim().min(2, 'Enter your name (at least 2 characters).').max(100),
});

export async function beginEnrolment(db: Db, raw: unknown) {
  const input = parseInput(BeginInput, raw);
  const invite = await inviteState(db, input.token);
  if (invite.state !== 'valid') refuse(invite.state);
  return beginRegistration(db, { staffId: null, email: invite.email, displayName: input.displayName });
}

const FinishInput = BeginInput.extend({
  nickname: text().trim().min(1, 'Name this key, for example "YubiKey on my keyring".').max(60),
  response: RegistrationResponse,
});

/**
 * Registers the invited person's first key and creates their staff account, in one audited transaction
 * that also marks the invitation used. The invitation row is locked, so it can be used only once.
 */
export async function finishEnrolment(db: Db, meta: RequestMeta, raw: unknown) {
  const input = parseInput(FinishInput, raw);
  const staffId = crypto.randomUUID();
  const tokenHash = hashInviteToken(input.token);
  const [peek] = await db
    .select({ email: staffInvites.email })
    .from(staffInvites)
    .where(eq(staffInvites.tokenHash, tokenHash));
  const ctx = {
    db,
    actor: { staffId, email: peek?.email ?? null, actingOrgId: null, actingContextId: null },
    ...meta,
  };
  const challenge = challengeOf(input.response);
  const entry = { action: 'staff.enrolled', targetType: 'staff_user', targetId: staffId } as const;
  try {
    // Consumed before the transaction, so that a refused key still uses the challenge up; a refused
    // challenge is audited like any other refusal.
    await consumeChallenge(db, challenge, 'registration');
    return await enrol(ctx, entry, tokenHash, challenge, input);
  } catch (err) {
    if (err instanceof AppError) {
      // A refused key says why (lib/auth/registration.ts KeyRefusedError): backed_up, attestation_format, …
      const reason = typeof err.extra.reason === 'string' ? err.extra.reason : err.code;
      // No account was made, so the entry names the invited e-mail and no staff id.
      const failed = { ...ctx, actor: { ...ctx.actor, staffId: null } };
      await recordAudit(failed, { ...entry, outcome: 'failure' }, { reason, message: err.message });
    }
    throw err;
  }
}

function enrol(
  ctx: AuditCtx,
  entry: AuditEntryInput,
  tokenHash: string,
  challenge: string,
  input: z.infer<typeof FinishInput>,
) {
  const staffId = entry.targetId!;
  return withAudit(ctx, entry, async (tx, audit) => {
    const [invite] = await tx
      .select()
      .from(staffInvites)
      .where(eq(staffInvites.tokenHash, tokenHash))
      .for('update');
    if (!invite) refuse('unknown');
    if (invite.usedAt) refuse('used');
    if (invite.revokedAt) refuse('revoked');
    if (invite.expiresAt <= new Date()) refuse('expired');

    const taken = await tx
      .select({ id: staffUsers.id })
      .from(staffUsers)
      .where(sql`lower(${staffUsers.email}) = lower(${invite.email})`);
    if (taken.length > 0) throw new AppError(409, 'conflict', `${invite.email} is already a staff member.`);
    await tx.insert(staffUsers).values({
      id: staffId,
      email: invite.email,
      displayName: input.displayName,
      role: invite.role,
      createdBy: invite.createdBy,
    });
    const { cred, fmt } = await storeRegistration(tx, staffId, input.response, challenge, input.nickname);
    await tx
      .update(staffInvites)
      .set({ usedAt: sql`now()` })
      .where(eq(staffInvites.id, invite.id));
    audit.detail({
      invite_id: invite.id,
      role: invite.role,
      key: { id: cred.id, aaguid: cred.aaguid, nickname: cred.nickname, attestation_format: fmt },
    });
    return { staffId, email: invite.email, role: invite.role };
  });
}
