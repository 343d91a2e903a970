import { and, eq, gt, lte, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Db, Tx } from '@/db/client';
import { approvalRequests, organizations, staffUsers } from '@/db/schema';
import { concernsStaff } from '@/lib/approvals/gate';
import { DUAL_CONTROLLED_VERBS } from '@/lib/approvals/verbs';
import { type AuditCtx, Unchanged, withAudit } from '@/lib/audit';
import { type Permission, requirePermission } from '@/lib/auth/permissions';
import { requireFreshAuth, type StaffCtx } from '@/lib/auth/session';
import { config } from '@/lib/config';
import { AppError, ConflictError, ForbiddenError, NotFoundError, parseInput } from '@/lib/errors';
import { systemCtx } from '@/lib/services/staff/system';
import { text } from '@/lib/text';

type Request = typeof approvalRequests.$inferSelect;

const Id = z.object({ id: z.uuid('Not a request id.') });
const RejectInput = Id.extend({
  reason: text().trim().min(10, 'Say why you reject it (at least 10 characters).').max(500),
});
function BreakGlassInput() {
  const pattern = config().ACTING_TICKET_PATTERN;
  return Id.extend({
    reason: text()
      .trim()
      .min(20, 'Say why this cannot wait for a second person (at least 20 characters).')
      .max(1000),
    ticketRef: text().trim().regex(new RegExp(pattern), `Give the incident ticket, in the form ${pattern}.`),
  });
}

/** The claim of a request found it no longer pending: someone else decided it first. */
class AlreadyDecided extends ConflictError {}

/** The newest key check of a session: its sign-in or its last step-up. */
const keyCheckAt = (ctx: StaffCtx) =>
  new Date(Math.max(ctx.authTime.getTime(), ctx.stepUpAt?.getTime() ?? 0));

async function load(db: Db | Tx, id: string): Promise<Request> {
  const [row] = await db.select().from(approvalRequests).where(eq(approvalRequests.id, id));
  if (!row) throw new NotFoundError('No such request.');
  return row;
}

/** A request that can still be decided; one whose time ran out is expired here (audited once) and refused. */
async function pending(ctx: StaffCtx, id: string): Promise<Request> {
  const row = await load(ctx.db, id);
  if (row.status === 'pending' && row.expiresAt <= new Date()) {
    await expireOne(ctx.db, row.id);
    throw new AppError(
      409,
      'request_expired',
      'This request expired: nothing was changed. Ask for it again.',
    );
  }
  if (row.status !== 'pending') {
    throw new AppError(
      409,
      'request_decided',
      `This request is ${row.status.replace('_', '-')}: it can no longer be decided.`,
      {
        status: row.status,
      },
    );
  }
  return row;
}

/** Who asked: the requester's identity, which the executed write's entry names beside the approver's. */
async function requesterEmail(db: Db, staffId: string): Promise<string | null> {
  const [row] = await db
    .select({ email: staffUsers.email })
    .from(staffUsers)
    .where(eq(staffUsers.id, staffId));
  return row?.email ?? null;
}

/**
 * Executes a request through its own service verb, as `ctx`: the verb's transaction first claims the
 * request (pending → approved or break_glass, while not expired), so that concurrent approvals execute it
 * once, and its audit entry names the requester, the executor, both key-check times and the request.
 */
async function execute(
  ctx: StaffCtx,
  request: Request,
  mode: { kind: 'approved' } | { kind: 'break_glass'; reason: string; ticketRef: string },
) {
  const verb = DUAL_CONTROLLED_VERBS[request.verb];
  if (!verb)
    throw new AppError(409, 'unknown_verb', `The portal no longer knows the write "${request.verb}".`);
  if (request.orgId && request.orgVersion !== null) {
    const [org] = await ctx.db
      .select({ version: organizations.version })
      .from(organizations)
      .where(eq(organizations.id, request.orgId));
    if (org?.version !== request.orgVersion) {
      const message =
        'The organisation changed since this request was made, so it no longer says what it would do. Nothing was changed; ask for it again.';
      await failUnlessDecided(ctx, request, message);
      throw new ConflictError(message, { orgVersion: org?.version ?? null });
    }
  }
  const at = keyCheckAt(ctx);
  const breakGlass = mode.kind === 'break_glass';
  const approval = {
    facts: {
      approval_request_id: request.id,
      requested_by: request.requestedBy,
      requested_by_email: await requesterEmail(ctx.db, request.requestedBy),
      requester_step_up_at: request.requesterStepUpAt,
      ...(breakGlass
        ? { break_glass: true, break_glass_reason: mode.reason, ticket_ref: mode.ticketRef }
        : { approved_by: ctx.staffId, approved_by_email: ctx.email, approver_step_up_at: at }),
    },
    claim: async (tx: Tx) => {
      const claimed = await tx
        .update(approvalRequests)
        .set({
          status: breakGlass ? 'break_glass' : 'approved',
          decidedBy: ctx.staffId,
          decidedAt: sql`now()`,
          deciderStepUpAt: at,
          ...(breakGlass && { decisionReason: mode.reason, ticketRef: mode.ticketRef }),
        })
        .where(
          and(
            eq(approvalRequests.id, request.id),
            eq(approvalRequests.status, 'pending'),
            gt(approvalRequests.expiresAt, sql`now()`),
          ),
        )
        .returning({ id: approvalRequests.id });
      if (claimed.length === 0) {
        throw new AlreadyDecided(
          'This request was decided, withdrawn or expired meanwhile. Nothing was changed.',
          null,
        );
      }
    },
  };
  try {
    const result = await verb({ ...ctx, approval }, request.input);
    // What it asks for is there already: the write rolled back with its claim, and the request ends.
    if (result instanceof Unchanged) await fail(ctx, request, result.message);
    return result;
  } catch (err) {
    // The write itself was refused for what it would do now (a stale version, a state that moved on): the
    // request ends, and must be made again. A refusal of the approver (permission, acting context, step-up)
    // leaves it pending for someone who may.
    if (err instanceof AppError && !(err instanceof AlreadyDecided) && [400, 404, 409].includes(err.status)) {
      await failUnlessDecided(ctx, request, err.message);
    }
    throw err;
  }
}

/**
 * Ends the request as failed. Two approvers at once: the second one meets the first one's result (a new
 * version, say) and the request is no longer pending to fail. Say that, not what the write saw.
 */
async function failUnlessDecided(ctx: StaffCtx, request: Request, message: string) {
  if (!(await fail(ctx, request, message)))
    throw new AlreadyDecided('This request was decided meanwhile. Nothing was changed by you.', null);
}

async function fail(ctx: StaffCtx, request: Request, message: string): Promise<boolean> {
  return decide(ctx, request, 'failed', 'approval.failed', { decisionReason: message }, { why: message });
}

/** One transition of a request, with its audit entry, only from pending. */
async function decide(
  ctx: AuditCtx & { staffId?: string },
  request: Request,
  status: 'rejected' | 'withdrawn' | 'expired' | 'failed',
  action: 'approval.rejected' | 'approval.withdrawn' | 'approval.expired' | 'approval.failed',
  set: { decisionReason?: string },
  facts: Record<string, unknown>,
): Promise<boolean> {
  try {
    await withAudit(
      ctx,
      { action, orgId: request.orgId, targetType: 'approval_request', targetId: request.id },
      async (tx, audit) => {
        const moved = await tx
          .update(approvalRequests)
          .set({ status, decidedBy: ctx.staffId ?? null, decidedAt: sql`now()`, ...set })
          .where(and(eq(approvalRequests.id, request.id), eq(approvalRequests.status, 'pending')))
          .returning({ id: approvalRequests.id });
        if (moved.length === 0) throw new AlreadyDecided('This request was decided meanwhile.', null);
        audit.detail({
          verb: request.verb,
          rule: request.rule,
          summary: request.summary,
          requested_by: request.requestedBy,
          ...facts,
        });
      },
    );
    return true;
  } catch (err) {
    if (err instanceof AlreadyDecided) return false;
    throw err;
  }
}

/** Approve: another staff member with the verb's permission and a fresh key check executes the request. */
export async function approveRequest(ctx: StaffCtx, raw: unknown) {
  const { id } = parseInput(Id, raw);
  const request = await pending(ctx, id);
  if (request.requestedBy === ctx.staffId) {
    throw new ForbiddenError(
      'You asked for this change: another person must approve it. You may withdraw it.',
    );
  }
  requirePermission(
    ctx,
    request.permission as Permission,
    'Approving this request needs what the change needs.',
  );
  requireFreshAuth(ctx);
  return { request: request.id, result: await execute(ctx, request, { kind: 'approved' }) };
}

/** Reject, with a reason: anyone who could approve it. */
export async function rejectRequest(ctx: StaffCtx, raw: unknown) {
  const { id, reason } = parseInput(RejectInput, raw);
  const request = await pending(ctx, id);
  if (request.requestedBy === ctx.staffId) {
    throw new ForbiddenError('You asked for this change: withdraw it instead.');
  }
  requirePermission(
    ctx,
    request.permission as Permission,
    'Rejecting this request needs what the change needs.',
  );
  if (
    !(await decide(ctx, request, 'rejected', 'approval.rejected', { decisionReason: reason }, { reason }))
  ) {
    throw new AppError(409, 'request_decided', 'This request was decided meanwhile.');
  }
  return { request: request.id, status: 'rejected' as const };
}

/** Withdraw: only the requester. */
export async function withdrawRequest(ctx: StaffCtx, raw: unknown) {
  const { id } = parseInput(Id, raw);
  const request = await pending(ctx, id);
  if (request.requestedBy !== ctx.staffId)
    throw new ForbiddenError('Only the person who asked can withdraw a request.');
  if (!(await decide(ctx, request, 'withdrawn', 'approval.withdrawn', {}, {}))) {
    throw new AppError(409, 'request_decided', 'This request was decided meanwhile.');
  }
  return { request: request.id, status: 'withdrawn' as const };
}

/**
 * Break-glass: a superadmin alone, during an incident, executes their own pending request without a second
 * person, with a reason of at least 20 characters, a ticket and a fresh key check. The entry is flagged
 * `break_glass` (OCSF severity High) and /approvals shows it until another superadmin reviews it.
 */
export async function breakGlass(ctx: StaffCtx, raw: unknown) {
  const { id, reason, ticketRef } = parseInput(BreakGlassInput(), raw);
  if (ctx.role !== 'superadmin') throw new ForbiddenError('Only a superadmin may break the glass.');
  const request = await pending(ctx, id);
  if (request.requestedBy !== ctx.staffId) {
    throw new ForbiddenError('Break-glass executes your own request. Approve someone else’s instead.');
  }
  requirePermission(ctx, request.permission as Permission);
  requireFreshAuth(ctx);
  return {
    request: request.id,
    result: await execute(ctx, request, { kind: 'break_glass', reason, ticketRef }),
  };
}

/** Another superadmin reviews a break-glass execution; until then /approvals shows it on a red banner. */
export async function reviewBreakGlass(ctx: StaffCtx, raw: unknown) {
  const { id } = parseInput(Id, raw);
  if (ctx.role !== 'superadmin') throw new ForbiddenError('Only a superadmin reviews a break-glass.');
  const request = await load(ctx.db, id);
  if (request.status !== 'break_glass')
    throw new AppError(409, 'not_break_glass', 'This request was not executed under break-glass.');
  if (request.decidedBy === ctx.staffId) {
    throw new ForbiddenError('You broke the glass: another superadmin must review it.');
  }
  if (concernsStaff(request, ctx)) {
    throw new ForbiddenError(
      'This break-glass made or changed your own account: another superadmin must review it.',
    );
  }
  await withAudit(
    ctx,
    {
      action: 'approval.break_glass_reviewed',
      orgId: request.orgId,
      targetType: 'approval_request',
      targetId: request.id,
    },
    async (tx, audit) => {
      const moved = await tx
        .update(approvalRequests)
        .set({ reviewedBy: ctx.staffId, reviewedAt: sql`now()` })
        .where(and(eq(approvalRequests.id, request.id), sql`${approvalRequests.reviewedAt} is null`))
        .returning({ id: approvalRequests.id });
      if (moved.length === 0)
        throw new AppError(409, 'already_reviewed', 'Another superadmin reviewed it meanwhile.');
      audit.detail({
        summary: request.summary,
        executed_by: request.decidedBy,
        reason: request.decisionReason,
      });
    },
  );
  return { request: request.id, reviewed: true };
}

async function expireOne(db: Db, id: string): Promise<boolean> {
  const request = await load(db, id);
  if (request.status !== 'pending' || request.expiresAt > new Date()) return false;
  return decide(
    systemCtx(db, 'portal'),
    request,
    'expired',
    'approval.expired',
    {},
    { expired_at: request.expiresAt },
  );
}

/** Ends every pending request whose time ran out: one `approval.expired` entry each (the audit ticker). */
export async function expireApprovals(db: Db): Promise<number> {
  const due = await db
    .select({ id: approvalRequests.id })
    .from(approvalRequests)
    .where(and(eq(approvalRequests.status, 'pending'), lte(approvalRequests.expiresAt, sql`now()`)));
  let expired = 0;
  for (const { id } of due) if (await expireOne(db, id)) expired++;
  return expired;
}
