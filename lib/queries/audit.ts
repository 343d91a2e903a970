import { and, desc, eq, lt, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { auditLog } from '@/db/schema';
import { AuditAction } from '@/lib/audit/actions';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { parseInput } from '@/lib/errors';

export const AuditFilter = z.object({
  action: AuditAction.optional(),
  actor: z.uuid().optional(),
  org: z.uuid().optional(),
  before: z.coerce.number().int().positive().optional(),
});

/** The newest audit entries, 50 at a time (keyset on seq), filtered by action, actor or organisation. */
export async function auditEntries(ctx: StaffCtx, raw: unknown) {
  requirePermission(ctx, 'audit.read');
  const f = parseInput(AuditFilter, raw);
  const where: SQL[] = [];
  if (f.action) where.push(eq(auditLog.action, f.action));
  if (f.actor) where.push(eq(auditLog.actorStaffId, f.actor));
  if (f.org) where.push(eq(auditLog.orgId, f.org));
  if (f.before) where.push(lt(auditLog.seq, f.before));
  return ctx.db
    .select()
    .from(auditLog)
    .where(and(...where))
    .orderBy(desc(auditLog.seq))
    .limit(50);
}
