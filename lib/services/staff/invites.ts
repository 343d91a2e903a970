import crypto from 'node:crypto';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { staffInvites, staffUsers } from '@/db/schema';
import { dualControlled, requireSecondPerson } from '@/lib/approvals/gate';
import { type AuditCtx, type AuditRecorder, withAudit } from '@/lib/audit';
import { requirePermission } from '@/lib/auth/permissions';
import { STAFF_ROLES } from '@/lib/auth/roles';
import { requireFreshAuth, type StaffCtx } from '@/lib/auth/session';
import { config } from '@/lib/config';
import { AppError, parseInput } from '@/lib/errors';
import { utc } from '@/lib/format';

export const InviteInput = z.object({
  email: z.email('Enter the e-mail address of the person to invite.').max(254),
  role: z.enum(STAFF_ROLES, 'Choose one of the roles.'),
});

export interface CreatedInvite {
  url: string;
  email: string;
  role: (typeof STAFF_ROLES)[number];
  expiresAt: Date;
}

/** Only the SHA-256 of an invitation token is stored; the token itself is shown once, in the link. */
export function hashInviteToken(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}

/** An invitation that can still be used: not used, not revoked, not expired. */
const pending = and(
  isNull(staffInvites.usedAt),
  isNull(staffInvites.revokedAt),
  gt(staffInvites.expiresAt, sql`now()`),
);

/**
 * Creates a single-use enrolment invitation and returns its link. Used by superadmins from /staff and by
 * `npm run staff:invite` (which acts as the system).
 */
export async function createInvite(
  ctx: AuditCtx,
  raw: unknown,
  createdBy: string | null,
  /** Runs at the end of the write, before the commit: inviteStaff's second-person rule. */
  check: (audit: AuditRecorder) => void = () => {},
): Promise<CreatedInvite> {
  const input = parseInput(InviteInput, raw);
  const token = crypto.randomBytes(32).toString('base64url');
  const c = config();
  return withAudit(ctx, { action: 'staff.invited', targetType: 'staff_invite' }, async (tx, audit) => {
    // Serialises invitations for one address, so that two at once cannot both be pending.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(lower(${input.email})))`);
    const existing = await tx
      .select({ id: staffUsers.id })
      .from(staffUsers)
      .where(sql`lower(${staffUsers.email}) = lower(${input.email})`);
    if (existing.length > 0) throw new AppError(409, 'conflict', `${input.email} is already a staff member.`);
    const [open] = await tx
      .select({ expiresAt: staffInvites.expiresAt })
      .from(staffInvites)
      .where(and(sql`lower(${staffInvites.email}) = lower(${input.email})`, pending));
    if (open) {
      throw new AppError(
        409,
        'invite_pending',
        `There is already a pending invitation for ${input.email} (it expires ${utc(open.expiresAt)}). Revoke it on /staff to send a new one.`,
      );
    }
    const [invite] = await tx
      .insert(staffInvites)
      .values({
        tokenHash: hashInviteToken(token),
        email: input.email,
        role: input.role,
        expiresAt: sql`now() + make_interval(secs => ${c.INVITE_TTL_S})`,
        createdBy,
      })
      .returning();
    audit.target('staff_invite', invite!.id);
    audit.detail({ email: input.email, role: input.role, expires_at: invite!.expiresAt });
    check(audit);
    return {
      url: `${c.PORTAL_URL}/enroll/${token}`,
      email: input.email,
      role: input.role,
      expiresAt: invite!.expiresAt,
    };
  });
}

/**
 * An invitation grants a role, so it needs the same fresh security-key check as a role change, and for
 * admin or superadmin a second person (lib/approvals). The approver gets the link to hand on.
 */
export const inviteStaff = dualControlled('staff.invite', async (ctx: StaffCtx, raw: unknown) => {
  requirePermission(ctx, 'staff.manage');
  const input = parseInput(InviteInput, raw);
  requireFreshAuth(ctx);
  return createInvite(ctx, input, ctx.staffId, () =>
    requireSecondPerson(
      ctx,
      input.role === 'admin' || input.role === 'superadmin' ? 'privileged_staff' : 'staff_invite',
      {
        permission: 'staff.manage',
        summary: `Invite ${input.email} as ${input.role}`,
        diff: { after: { email: input.email, role: input.role } },
      },
    ),
  );
});

/** Withdraws a pending invitation: its link stops working at once. */
export async function revokeInvite(ctx: StaffCtx, raw: unknown) {
  requirePermission(ctx, 'staff.manage');
  const { inviteId } = parseInput(z.object({ inviteId: z.uuid('Not an invitation id.') }), raw);
  return withAudit(
    ctx,
    { action: 'staff.invite_revoked', targetType: 'staff_invite', targetId: inviteId },
    async (tx, audit) => {
      const [revoked] = await tx
        .update(staffInvites)
        .set({ revokedAt: sql`now()`, revokedBy: ctx.staffId })
        .where(and(eq(staffInvites.id, inviteId), pending))
        .returning({ email: staffInvites.email, role: staffInvites.role });
      if (!revoked) {
        throw new AppError(
          409,
          'invite_not_pending',
          'This invitation is no longer pending: it was used, revoked or has expired.',
        );
      }
      audit.detail({ email: revoked.email, role: revoked.role });
    },
  );
}
