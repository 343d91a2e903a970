import { and, desc, eq, gt, inArray, isNull, ne, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import { approvalRequests, approvalStatus, organizations, staffUsers } from '@/db/schema';
import { concernsStaff } from '@/lib/approvals/gate';
import { can, dualControlReason, type DualControlRule, type Permission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { parseInput } from '@/lib/errors';

const requester = alias(staffUsers, 'requester');
const decider = alias(staffUsers, 'decider');
const reviewer = alias(staffUsers, 'reviewer');

export const APPROVAL_STATUSES = approvalStatus.enumValues;
const Filter = z.object({
  status: z
    .enum(APPROVAL_STATUSES, { error: `The status is one of ${APPROVAL_STATUSES.join(', ')}.` })
    .default('pending'),
});

/**
 * Requests for dual-controlled writes, newest first, with who asked, who decided and what each may do
 * with them now. Every signed-in role reads them: the list says who is waiting on whom.
 */
export async function listApprovals(ctx: StaffCtx, raw: unknown) {
  const { status } = parseInput(Filter, raw ?? {});
  const found = await ctx.db
    .select({
      request: approvalRequests,
      requesterEmail: requester.email,
      deciderEmail: decider.email,
      reviewerEmail: reviewer.email,
      orgName: organizations.name,
    })
    .from(approvalRequests)
    .innerJoin(requester, eq(requester.id, approvalRequests.requestedBy))
    .leftJoin(decider, eq(decider.id, approvalRequests.decidedBy))
    .leftJoin(reviewer, eq(reviewer.id, approvalRequests.reviewedBy))
    .leftJoin(organizations, eq(organizations.id, approvalRequests.orgId))
    .where(eq(approvalRequests.status, status))
    .orderBy(desc(approvalRequests.requestedAt))
    .limit(200);
  const now = new Date();
  return found.map((r) => {
    const q = r.request;
    const pending = q.status === 'pending' && q.expiresAt > now;
    const mine = q.requestedBy === ctx.staffId;
    return {
      ...q,
      reason: dualControlReason(q.rule as DualControlRule),
      requesterEmail: r.requesterEmail,
      deciderEmail: r.deciderEmail,
      reviewerEmail: r.reviewerEmail,
      orgName: r.orgName,
      may: {
        approve: pending && !mine && can(ctx.role, q.permission as Permission),
        reject: pending && !mine && can(ctx.role, q.permission as Permission),
        withdraw: pending && mine,
        breakGlass: pending && mine && ctx.role === 'superadmin',
        review:
          q.status === 'break_glass' &&
          !q.reviewedAt &&
          ctx.role === 'superadmin' &&
          q.decidedBy !== ctx.staffId &&
          !concernsStaff(q, ctx),
      },
    };
  });
}
export type ApprovalRow = Awaited<ReturnType<typeof listApprovals>>[number];

/** What the navigation badge and the home page count: requests this person could approve now. */
export async function approvalCounts(ctx: StaffCtx) {
  const permissions = [
    ...new Set(
      (
        await ctx.db
          .selectDistinct({ permission: approvalRequests.permission })
          .from(approvalRequests)
          .where(eq(approvalRequests.status, 'pending'))
      ).map((r) => r.permission),
    ),
  ].filter((p) => can(ctx.role, p as Permission));
  const [waiting] = permissions.length
    ? await ctx.db
        .select({ n: sql<number>`count(*)::int` })
        .from(approvalRequests)
        .where(
          and(
            eq(approvalRequests.status, 'pending'),
            gt(approvalRequests.expiresAt, sql`now()`),
            ne(approvalRequests.requestedBy, ctx.staffId),
            inArray(approvalRequests.permission, permissions),
          ),
        )
    : [{ n: 0 }];
  const [unreviewed] = await ctx.db
    .select({ n: sql<number>`count(*)::int` })
    .from(approvalRequests)
    .where(and(eq(approvalRequests.status, 'break_glass'), isNull(approvalRequests.reviewedAt)));
  return { waitingForYou: waiting!.n, breakGlassUnreviewed: unreviewed!.n };
}

/** Pending requests about one organisation, for its page. */
export async function pendingForOrg(ctx: StaffCtx, orgId: string) {
  return ctx.db
    .select({
      id: approvalRequests.id,
      summary: approvalRequests.summary,
      rule: approvalRequests.rule,
      verb: approvalRequests.verb,
      expiresAt: approvalRequests.expiresAt,
      requesterEmail: requester.email,
    })
    .from(approvalRequests)
    .innerJoin(requester, eq(requester.id, approvalRequests.requestedBy))
    .where(
      and(
        eq(approvalRequests.orgId, orgId),
        eq(approvalRequests.status, 'pending'),
        gt(approvalRequests.expiresAt, sql`now()`),
      ),
    )
    .orderBy(desc(approvalRequests.requestedAt));
}
