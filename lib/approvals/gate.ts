import { sql } from 'drizzle-orm';
import { approvalRequests } from '@/db/schema';
import { type AuditCtx, withAudit } from '@/lib/audit';
import {
  DUAL_CONTROL,
  type DualControlRule,
  dualControlReason,
  type Permission,
} from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { type Config, config } from '@/lib/config';

/** What a dual-controlled write would do, as the request stores it and /approvals shows it. */
export interface SecondPersonFacts {
  /** The permission the write needs: an approver must hold it too. */
  permission: Permission;
  /** One line, e.g. "Suspend Cedar Valley Community Bank". */
  summary: string;
  orgId?: string | null;
  /** The organisation's version the write was based on; an approval on a changed one gets 409. */
  orgVersion?: number | null;
  /** The entry's diff from the dry run: exactly what the write would change. */
  diff: Record<string, unknown> | null;
}

/**
 * Thrown by a verb's dry run when its write needs a second person. Thrown inside the verb's transaction,
 * it rolls back everything the write did; `dualControlled` turns it into a stored request.
 */
export class ApprovalNeeded extends Error {
  constructor(
    readonly rule: DualControlRule,
    readonly facts: SecondPersonFacts,
  ) {
    super(`This change needs a second person: ${dualControlReason(rule)}`);
    this.name = 'ApprovalNeeded';
  }
}

/** A request stored instead of the write: route handlers answer 202 with it. */
export class ApprovalPending {
  constructor(
    readonly approval: {
      id: string;
      rule: DualControlRule;
      reason: string;
      summary: string;
      expiresAt: Date;
      message: string;
    },
  ) {}
}

/** The listed rules always apply; a deployment can add optional ones (APPROVAL_EXTRA_RULES), never remove. */
export function isDualControlled(
  rule: DualControlRule,
  cfg: Pick<Config, 'APPROVAL_EXTRA_RULES'> = config(),
): boolean {
  return rule in DUAL_CONTROL || (cfg.APPROVAL_EXTRA_RULES as string[]).includes(rule);
}

/**
 * Called by a service verb once it knows what its write does (inside its transaction, after the changes,
 * so that the diff is the real one). Passes when the rule does not apply, or when this is the execution of
 * an approved request or a break-glass (the transaction has claimed the request: lib/audit withAudit).
 */
export function requireSecondPerson(
  ctx: AuditCtx,
  rule: DualControlRule | null | false,
  facts: SecondPersonFacts,
): void {
  if (!rule || !isDualControlled(rule) || ctx.approval) return;
  throw new ApprovalNeeded(rule, facts);
}

/**
 * Wraps a service verb that may need a second person: when its dry run ends in ApprovalNeeded, the
 * request (verb name, the input as sent, the organisation's version, the diff) is stored and audited
 * (`approval.requested`), and the caller gets an ApprovalPending instead of the verb's result.
 */
export function dualControlled<R>(
  verb: string,
  run: (ctx: StaffCtx, raw?: unknown) => Promise<R>,
): ((ctx: StaffCtx, raw?: unknown) => Promise<R | ApprovalPending>) & { verb: string } {
  const wrapped = async (ctx: StaffCtx, raw?: unknown) => {
    try {
      return await run(ctx, raw);
    } catch (err) {
      if (!(err instanceof ApprovalNeeded) || ctx.approval) throw err;
      return storeRequest(ctx, verb, raw ?? {}, err);
    }
  };
  return Object.assign(wrapped, { verb });
}

async function storeRequest(ctx: StaffCtx, verb: string, input: unknown, needed: ApprovalNeeded) {
  const { rule, facts } = needed;
  const ttlS = config().APPROVAL_TTL_S;
  return withAudit(
    ctx,
    { action: 'approval.requested', orgId: facts.orgId ?? null, targetType: 'approval_request' },
    async (tx, audit) => {
      const [row] = await tx
        .insert(approvalRequests)
        .values({
          verb,
          input,
          rule,
          permission: facts.permission,
          orgId: facts.orgId ?? null,
          orgVersion: facts.orgVersion ?? null,
          diff: facts.diff,
          summary: facts.summary,
          requestedBy: ctx.staffId,
          // The requester's newest key check: the sign-in or the last step-up.
          requesterStepUpAt: new Date(Math.max(ctx.authTime.getTime(), ctx.stepUpAt?.getTime() ?? 0)),
          expiresAt: sql`now() + make_interval(secs => ${ttlS})`,
        })
        .returning();
      audit.target('approval_request', row!.id);
      audit.detail({ verb, rule, summary: facts.summary, expires_at: row!.expiresAt });
      if (facts.diff) audit.diff(facts.diff.before, facts.diff.after);
      return new ApprovalPending({
        id: row!.id,
        rule,
        reason: dualControlReason(rule),
        summary: facts.summary,
        expiresAt: row!.expiresAt,
        message: `Nothing is changed yet: this needs a second person. Request ${row!.id.slice(0, 8)} waits on the Approvals page until ${row!.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC.`,
      });
    },
  );
}

/**
 * Whether a request's write is about `staff` itself: an invitation of their address, their role or their
 * status. Such a break-glass is reviewed by another superadmin (lib/services/approvals, /approvals).
 */
export function concernsStaff(
  request: { verb: string; input: unknown },
  staff: { staffId: string; email: string },
): boolean {
  const input = (request.input ?? {}) as { email?: unknown; staffId?: unknown };
  if (request.verb === 'staff.invite') {
    return typeof input.email === 'string' && input.email.toLowerCase() === staff.email.toLowerCase();
  }
  return request.verb.startsWith('staff.') && input.staffId === staff.staffId;
}
