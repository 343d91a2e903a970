import { and, desc, eq, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Tx } from '@/db/client';
import { actingContexts, organizations, staffUsers } from '@/db/schema';
import { type AuditRecorder, withAudit } from '@/lib/audit';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { config } from '@/lib/config';
import { AppError, NotFoundError, parseInput } from '@/lib/errors';
import { text } from '@/lib/text';

function StartInput() {
  const c = config();
  return z.object({
    orgId: z.uuid('Choose an organisation.'),
    reason: text().trim().min(10, 'Say why you act for this organisation (at least 10 characters).').max(500),
    ticketRef: text()
      .trim()
      .regex(
        new RegExp(c.ACTING_TICKET_PATTERN),
        // People read this: an example of a reference, never the regular expression itself.
        new RegExp(c.ACTING_TICKET_PATTERN).test(c.ACTING_TICKET_EXAMPLE)
          ? `Give the ticket reference as your ticket system writes it, such as ${c.ACTING_TICKET_EXAMPLE}.`
          : 'Give the ticket reference as your ticket system writes it.',
      ),
    durationMinutes: z.coerce
      .number()
      .int('Give the duration in whole minutes.')
      .min(1, 'At least 1 minute.')
      .max(c.ACTING_MAX_MINUTES, `At most ${c.ACTING_MAX_MINUTES} minutes.`)
      .default(c.ACTING_DEFAULT_MINUTES),
  });
}

type ContextRow = typeof actingContexts.$inferSelect;

/** Ends the context a new one replaces, in the same transaction, with its own audit entry. */
async function supersede(tx: Tx, audit: AuditRecorder, ac: ContextRow): Promise<void> {
  await tx
    .update(actingContexts)
    .set({ endedAt: sql`now()`, endedBy: ac.staffId, endReason: 'superseded' })
    .where(eq(actingContexts.id, ac.id));
  audit.also(
    { action: 'acting.superseded', orgId: ac.orgId, targetType: 'acting_context', targetId: ac.id },
    { ticket_ref: ac.ticketRef },
  );
}

/**
 * Starts acting for an organisation: the context row and its audit entry in one transaction. An open
 * context of the same staff member is ended first (superseded), and that is audited too.
 */
export async function startActing(ctx: StaffCtx, raw: unknown) {
  requirePermission(ctx, 'acting.start');
  const input = parseInput(StartInput(), raw);
  const [org] = await ctx.db.select().from(organizations).where(eq(organizations.id, input.orgId));
  if (!org) throw new NotFoundError('No such organisation.');
  return withAudit(
    ctx,
    { action: 'acting.started', orgId: org.id, targetType: 'acting_context' },
    async (tx, audit) => {
      const open = await tx
        .select()
        .from(actingContexts)
        .where(and(eq(actingContexts.staffId, ctx.staffId), isNull(actingContexts.endedAt)))
        .for('update');
      for (const ac of open) await supersede(tx, audit, ac);
      const [ac] = await tx
        .insert(actingContexts)
        .values({
          staffId: ctx.staffId,
          orgId: org.id,
          reason: input.reason,
          ticketRef: input.ticketRef,
          expiresAt: sql`now() + make_interval(mins => ${input.durationMinutes})`,
        })
        .returning();
      audit.target('acting_context', ac!.id);
      audit.detail({
        org_slug: org.slug,
        reason: input.reason,
        ticket_ref: input.ticketRef,
        expires_at: ac!.expiresAt,
      });
      return { id: ac!.id, orgId: org.id, expiresAt: ac!.expiresAt };
    },
  );
}

/** Stops the caller's own acting context. */
export async function stopActing(ctx: StaffCtx) {
  const open = ctx.openActing;
  if (!open) throw new AppError(409, 'not_acting', 'You are not acting for an organisation.');
  return withAudit(
    ctx,
    { action: 'acting.stopped', orgId: open.orgId, targetType: 'acting_context', targetId: open.id },
    async (tx, audit) => {
      const ended = await tx
        .update(actingContexts)
        .set({ endedAt: sql`now()`, endedBy: ctx.staffId, endReason: 'stopped' })
        .where(and(eq(actingContexts.id, open.id), isNull(actingContexts.endedAt)))
        .returning({ id: actingContexts.id });
      if (ended.length === 0) throw new AppError(409, 'not_acting', 'This acting context has already ended.');
      audit.detail({ ticket_ref: open.ticketRef });
    },
  );
}

/** A superadmin ends anyone's acting context. */
export async function endActingContext(ctx: StaffCtx, raw: unknown) {
  requirePermission(ctx, 'acting.end_any');
  const { contextId } = parseInput(z.object({ contextId: z.uuid('Not an acting context id.') }), raw);
  const [ac] = await ctx.db.select().from(actingContexts).where(eq(actingContexts.id, contextId));
  if (!ac) throw new NotFoundError('No such acting context.');
  return withAudit(
    ctx,
    { action: 'acting.ended_by_admin', orgId: ac.orgId, targetType: 'acting_context', targetId: ac.id },
    async (tx, audit) => {
      const ended = await tx
        .update(actingContexts)
        .set({ endedAt: sql`now()`, endedBy: ctx.staffId, endReason: 'ended_by_admin' })
        .where(and(eq(actingContexts.id, ac.id), isNull(actingContexts.endedAt)))
        .returning({ id: actingContexts.id });
      if (ended.length === 0) throw new AppError(409, 'conflict', 'This acting context has already ended.');
      audit.detail({ staff_id: ac.staffId, ticket_ref: ac.ticketRef });
    },
  );
}

/** Active and recent acting contexts, newest first, for /acting. */
export async function listActingContexts(ctx: StaffCtx) {
  requirePermission(ctx, 'acting.list');
  return ctx.db
    .select({
      id: actingContexts.id,
      staffEmail: staffUsers.email,
      orgId: actingContexts.orgId,
      orgName: organizations.name,
      orgSlug: organizations.slug,
      reason: actingContexts.reason,
      ticketRef: actingContexts.ticketRef,
      startedAt: actingContexts.startedAt,
      expiresAt: actingContexts.expiresAt,
      endedAt: actingContexts.endedAt,
      endReason: actingContexts.endReason,
    })
    .from(actingContexts)
    .innerJoin(staffUsers, eq(staffUsers.id, actingContexts.staffId))
    .innerJoin(organizations, eq(organizations.id, actingContexts.orgId))
    .orderBy(desc(actingContexts.startedAt))
    .limit(200);
}
