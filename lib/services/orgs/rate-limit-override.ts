import { and, desc, eq, gt, isNull, lte, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Tx } from '@/db/client';
import { rateLimitOverrides } from '@/db/schema';
import { withAudit } from '@/lib/audit';
import { dualControlled, requireSecondPerson } from '@/lib/approvals/gate';
import { requireActingFor } from '@/lib/auth/acting';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { ConflictError, NotFoundError, parseInput, ValidationError } from '@/lib/errors';
import {
  LIMIT_KEYS,
  limitSchema,
  overrideMaxDays,
  pickLimits,
  BLOCK_PERMISSION,
  blocks,
} from '@/lib/rate-limits';
import { checkBlocking, lockOrg, notifyOrgChanged } from './common';
import { text } from '@/lib/text';
import { utcMinute } from '@/lib/format';

const Reason = text().trim().min(10, 'Say why (at least 10 characters).').max(500);

const CreateInput = z.object({
  orgId: z.uuid('Choose an organisation.'),
  requestsPerMinute: limitSchema('requestsPerMinute').default(null),
  tokensPerMinute: limitSchema('tokensPerMinute').default(null),
  concurrentRequests: limitSchema('concurrentRequests').default(null),
  monthlyRequestQuota: limitSchema('monthlyRequestQuota').default(null),
  confirmBlocked: z.boolean().default(false),
  expiresAt: z.iso.datetime({
    offset: true,
    error: 'Enter when the override expires, in UTC, such as 2026-11-23 15:20.',
  }),
  reason: Reason,
  /**
   * The override in force that the editor saw, or null. A new override replaces it; when another one
   * appeared meanwhile the editor must see it first (409), rather than replace it unknowingly.
   */
  activeOverrideId: z.uuid('Send the active override you saw, or null.').nullable(),
});

const RevokeInput = z.object({
  orgId: z.uuid('Choose an organisation.'),
  overrideId: z.uuid('Choose an override.'),
});

type Override = typeof rateLimitOverrides.$inferSelect;

/** What an audit entry shows of an override. */
function summary(o: Override) {
  return { id: o.id, ...pickLimits(o), expiresAt: o.expiresAt, reason: o.reason };
}

/** The override in force, chosen as the platform_org_config view chooses it. */
async function activeOverride(tx: Tx, orgId: string): Promise<Override | undefined> {
  const [row] = await tx
    .select()
    .from(rateLimitOverrides)
    .where(
      and(
        eq(rateLimitOverrides.orgId, orgId),
        isNull(rateLimitOverrides.revokedAt),
        lte(rateLimitOverrides.startsAt, sql`now()`),
        gt(rateLimitOverrides.expiresAt, sql`now()`),
      ),
    )
    .orderBy(desc(rateLimitOverrides.createdAt))
    .limit(1);
  return row;
}

/**
 * A time-boxed override of an organisation's limits (acting context; support may do it). It replaces the
 * override in force, which is revoked in the same transaction with its own audit entry.
 */
export const createRateLimitOverride = dualControlled(
  'org.rate_limit_override',
  async (ctx: StaffCtx, raw: unknown) => {
    requirePermission(ctx, 'orgs.rate_limits.override');
    const input = parseInput(CreateInput, raw);
    requireActingFor(ctx, input.orgId);
    const limits = pickLimits(input);
    const now = new Date();
    const expiresAt = new Date(input.expiresAt);
    const maxDays = overrideMaxDays(ctx.role);
    const latest = new Date(now.getTime() + maxDays * 86_400_000);
    const fields: Record<string, string> = {};
    if (LIMIT_KEYS.every((k) => limits[k] === null)) fields.limits = 'Set at least one limit to override.';
    if (expiresAt <= now) fields.expiresAt = 'The expiry must be in the future.';
    if (expiresAt > latest) {
      fields.expiresAt = `An override by your role lasts at most ${maxDays} days: choose ${utcMinute(latest)} or earlier.`;
    }
    if (Object.keys(fields).length > 0) throw new ValidationError(fields);
    checkBlocking(ctx, limits, input.confirmBlocked);

    return withAudit(
      ctx,
      { action: 'org.rate_limit_override.created', orgId: input.orgId, targetType: 'rate_limit_override' },
      async (tx, audit) => {
        // Serialises overrides of one organisation, so two cannot both replace the same one.
        const org = await lockOrg(tx, input.orgId);
        const replaced = await activeOverride(tx, input.orgId);
        if ((replaced?.id ?? null) !== input.activeOverrideId) {
          throw new ConflictError(
            'The override in force changed since you loaded the page. Review it before you replace it.',
            replaced ?? null,
          );
        }
        if (replaced) {
          await tx
            .update(rateLimitOverrides)
            .set({ revokedAt: sql`now()` })
            .where(eq(rateLimitOverrides.id, replaced.id));
        }
        const [created] = await tx
          .insert(rateLimitOverrides)
          .values({ orgId: input.orgId, ...limits, expiresAt, reason: input.reason, createdBy: ctx.staffId })
          .returning();
        if (replaced) {
          audit.also(
            {
              action: 'org.rate_limit_override.revoked',
              orgId: input.orgId,
              targetType: 'rate_limit_override',
              targetId: replaced.id,
            },
            { before: summary(replaced), replaced_by: created!.id },
          );
        }
        await notifyOrgChanged(tx, input.orgId);
        audit.target('rate_limit_override', created!.id);
        audit.diff(replaced ? summary(replaced) : null, summary(created!));
        audit.detail({ reason: input.reason });
        requireSecondPerson(ctx, blocks(limits) && 'blocking_limit', {
          permission: BLOCK_PERMISSION,
          summary: `Block ${org.name} with an override limit of 0`,
          orgId: org.id,
          orgVersion: org.version,
          diff: audit.toDiff(),
        });
        return created!;
      },
    );
  },
);

/** Ends an override before its expiry (acting context). One that already ended gets 409 with its row. */
export async function revokeRateLimitOverride(ctx: StaffCtx, raw: unknown) {
  requirePermission(ctx, 'orgs.rate_limits.override');
  const input = parseInput(RevokeInput, raw);
  requireActingFor(ctx, input.orgId);
  return withAudit(
    ctx,
    {
      action: 'org.rate_limit_override.revoked',
      orgId: input.orgId,
      targetType: 'rate_limit_override',
      targetId: input.overrideId,
    },
    async (tx, audit) => {
      const [row] = await tx
        .select()
        .from(rateLimitOverrides)
        .where(and(eq(rateLimitOverrides.id, input.overrideId), eq(rateLimitOverrides.orgId, input.orgId)))
        .for('update');
      if (!row) throw new NotFoundError('This organisation has no such override.');
      if (row.revokedAt !== null || row.expiresAt <= new Date()) {
        throw new ConflictError('This override has already ended: it was revoked or has expired.', row);
      }
      const [after] = await tx
        .update(rateLimitOverrides)
        .set({ revokedAt: sql`now()` })
        .where(eq(rateLimitOverrides.id, row.id))
        .returning();
      await notifyOrgChanged(tx, input.orgId);
      audit.diff({ revokedAt: null }, { revokedAt: after!.revokedAt });
      audit.detail({ override: summary(row) });
      return after!;
    },
  );
}
