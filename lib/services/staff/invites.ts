import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { staffInvites, staffUsers } from '@/db/schema';
import { type AuditCtx, withAudit } from '@/lib/audit';
import { requirePermission } from '@/lib/auth/permissions';
import { STAFF_ROLES } from '@/lib/auth/roles';
import type { StaffCtx } from '@/lib/auth/session';
import { config } from '@/lib/config';
import { AppError, parseInput } from '@/lib/errors';

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

/**
 * Creates a single-use enrolment invitation and returns its link. Used by superadmins from /staff and by
 * `npm run staff:invite` (which acts as the system).
 */
export async function createInvite(
  ctx: AuditCtx,
  raw: unknown,
  createdBy: string | null,
): Promise<CreatedInvite> {
  const input = parseInput(InviteInput, raw);
  const token = crypto.randomBytes(32).toString('base64url');
  const c = config();
  return withAudit(ctx, { action: 'staff.invited', targetType: 'staff_invite' }, async (tx, audit) => {
    const existing = await tx
      .select({ id: staffUsers.id })
      .from(staffUsers)
      .where(sql`lower(${staffUsers.email}) = lower(${input.email})`);
    if (existing.length > 0) throw new AppError(409, 'conflict', `${input.email} is already a staff member.`);
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
    return {
      url: `${c.PORTAL_URL}/enroll/${token}`,
      email: input.email,
      role: input.role,
      expiresAt: invite!.expiresAt,
    };
  });
}

export async function inviteStaff(ctx: StaffCtx, raw: unknown): Promise<CreatedInvite> {
  requirePermission(ctx, 'staff.manage');
  return createInvite(ctx, raw, ctx.staffId);
}
