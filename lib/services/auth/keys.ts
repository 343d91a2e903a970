import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import { z } from 'zod';
import { staffCredentials } from '@/db/schema';
import { recordAudit, withAudit } from '@/lib/audit';
import { challengeOf, consumeChallenge } from '@/lib/auth/challenges';
import { requirePermission } from '@/lib/auth/permissions';
import { beginRegistration, storeRegistration } from '@/lib/auth/registration';
import { requireFreshAuth, type StaffCtx } from '@/lib/auth/session';
import { RegistrationResponse } from '@/lib/auth/webauthn-json';
import { AppError, NotFoundError, parseInput } from '@/lib/errors';
import { text } from '@/lib/text';

const Nickname = text().trim().min(1, 'Name this key, for example "YubiKey on my keyring".').max(60);
const CredentialId = text().regex(/^[A-Za-z0-9_-]{16,1400}$/, 'Not a credential id.');

/** Adding a key to your own account needs a recent security-key check, so a stolen session cannot. */
export async function beginAddKey(ctx: StaffCtx) {
  requireFreshAuth(ctx);
  const existing = await ctx.db
    .select({ id: staffCredentials.id, transports: staffCredentials.transports })
    .from(staffCredentials)
    .where(eq(staffCredentials.staffId, ctx.staffId));
  return beginRegistration(
    ctx.db,
    { staffId: ctx.staffId, email: ctx.email, displayName: ctx.displayName },
    existing,
  );
}

export async function finishAddKey(ctx: StaffCtx, raw: unknown) {
  requireFreshAuth(ctx);
  const input = parseInput(z.object({ nickname: Nickname, response: RegistrationResponse }), raw);
  const challenge = challengeOf(input.response);
  const entry = { action: 'staff.key.added', targetType: 'staff_credential' } as const;
  try {
    await consumeChallenge(ctx.db, challenge, 'registration', ctx.staffId);
    return await withAudit(ctx, entry, async (tx, audit) => {
      const { cred, fmt } = await storeRegistration(
        tx,
        ctx.staffId,
        input.response,
        challenge,
        input.nickname,
      );
      audit.target('staff_credential', cred.id);
      audit.detail({
        staff_id: ctx.staffId,
        aaguid: cred.aaguid,
        nickname: cred.nickname,
        attestation_format: fmt,
      });
      return { id: cred.id, nickname: cred.nickname };
    });
  } catch (err) {
    if (err instanceof AppError) {
      const reason = typeof err.extra.reason === 'string' ? err.extra.reason : err.code;
      await recordAudit(ctx, { ...entry, outcome: 'failure' }, { reason, message: err.message });
    }
    throw err;
  }
}

/** A key the caller may manage: their own, or anyone's with staff.manage. */
async function loadKey(ctx: StaffCtx, credentialId: string) {
  const [cred] = await ctx.db.select().from(staffCredentials).where(eq(staffCredentials.id, credentialId));
  if (!cred) throw new NotFoundError('No such security key.');
  if (cred.staffId !== ctx.staffId) {
    requirePermission(ctx, 'staff.manage');
    requireFreshAuth(ctx);
  }
  return cred;
}

export async function renameKey(ctx: StaffCtx, raw: unknown) {
  const input = parseInput(z.object({ credentialId: CredentialId, nickname: Nickname }), raw);
  const cred = await loadKey(ctx, input.credentialId);
  return withAudit(
    ctx,
    { action: 'staff.key.renamed', targetType: 'staff_credential', targetId: cred.id },
    async (tx, audit) => {
      await tx
        .update(staffCredentials)
        .set({ nickname: input.nickname })
        .where(eq(staffCredentials.id, cred.id));
      audit.diff({ nickname: cred.nickname }, { nickname: input.nickname });
    },
  );
}

/**
 * Revokes a key. Nobody can revoke a staff member's last usable key (not revoked, not locked): that
 * would lock them out, and only a new invitation could let them back in.
 */
export async function revokeKey(ctx: StaffCtx, raw: unknown) {
  const input = parseInput(z.object({ credentialId: CredentialId }), raw);
  const cred = await loadKey(ctx, input.credentialId);
  if (cred.revokedAt) throw new AppError(409, 'conflict', 'This key is already revoked.');
  return withAudit(
    ctx,
    { action: 'staff.key.revoked', targetType: 'staff_credential', targetId: cred.id },
    async (tx, audit) => {
      // Counted under a lock on the owner's keys, so two revocations at once cannot both pass the check.
      const others = await tx
        .select({ id: staffCredentials.id })
        .from(staffCredentials)
        .where(
          and(
            eq(staffCredentials.staffId, cred.staffId),
            ne(staffCredentials.id, cred.id),
            isNull(staffCredentials.revokedAt),
            isNull(staffCredentials.lockedAt),
          ),
        )
        .for('update');
      if (others.length === 0) {
        throw new AppError(
          409,
          'last_key',
          'This is the last usable security key on the account, so it cannot be revoked. Add another key first.',
        );
      }
      await tx
        .update(staffCredentials)
        .set({ revokedAt: sql`now()` })
        .where(eq(staffCredentials.id, cred.id));
      audit.detail({ staff_id: cred.staffId, nickname: cred.nickname, aaguid: cred.aaguid });
    },
  );
}

/**
 * Unlocks a key that a counter regression locked (superadmin, step-up). Its counter starts again from 0,
 * because the authenticator's own counter is below the stored one.
 */
export async function unlockKey(ctx: StaffCtx, raw: unknown) {
  requirePermission(ctx, 'staff.manage');
  requireFreshAuth(ctx);
  const input = parseInput(
    z.object({
      credentialId: CredentialId,
      reason: text().trim().min(10, 'Say why (at least 10 characters).').max(500),
    }),
    raw,
  );
  const [cred] = await ctx.db
    .select()
    .from(staffCredentials)
    .where(eq(staffCredentials.id, input.credentialId));
  if (!cred) throw new NotFoundError('No such security key.');
  if (!cred.lockedAt) throw new AppError(409, 'conflict', 'This key is not locked.');
  return withAudit(
    ctx,
    { action: 'staff.key.unlocked', targetType: 'staff_credential', targetId: cred.id },
    async (tx, audit) => {
      await tx
        .update(staffCredentials)
        .set({ lockedAt: null, lockedReason: null, counter: 0 })
        .where(eq(staffCredentials.id, cred.id));
      audit.diff(
        { locked_reason: cred.lockedReason, counter: cred.counter },
        { locked_reason: null, counter: 0 },
      );
      audit.detail({ staff_id: cred.staffId, reason: input.reason });
    },
  );
}
