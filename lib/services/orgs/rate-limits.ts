import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { rateLimits } from '@/db/schema';
import { sameValues, unchanged, withAudit } from '@/lib/audit';
import { dualControlled, requireSecondPerson } from '@/lib/approvals/gate';
import { requireActingFor } from '@/lib/auth/acting';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { parseInput } from '@/lib/errors';
import { limitSchema, pickLimits, BLOCK_PERMISSION, blocks } from '@/lib/rate-limits';
import { checkBlocking, checkVersion, lockOrg, notifyOrgChanged } from './common';

const Input = z.object({
  orgId: z.uuid('Choose an organisation.'),
  // Each limit is required: a number, or null for the tier default. A missing one is not a reset.
  requestsPerMinute: limitSchema('requestsPerMinute'),
  tokensPerMinute: limitSchema('tokensPerMinute'),
  concurrentRequests: limitSchema('concurrentRequests'),
  monthlyRequestQuota: limitSchema('monthlyRequestQuota'),
  /** 0 means "blocked"; it is accepted only with this set. */
  confirmBlocked: z.boolean().default(false),
  /** The rate_limits row's version the editor saw, or null when there was none. */
  version: z.int('Send the version you edited.').min(1).nullable(),
});

/** Sets an organisation's own rate limits and quota (acting context); null falls back to the tier default. */
export const setRateLimits = dualControlled('org.rate_limits', async (ctx: StaffCtx, raw: unknown) => {
  requirePermission(ctx, 'orgs.rate_limits.write');
  const input = parseInput(Input, raw);
  requireActingFor(ctx, input.orgId);
  const limits = pickLimits(input);
  checkBlocking(ctx, limits, input.confirmBlocked);
  return withAudit(
    ctx,
    {
      action: 'org.rate_limits.updated',
      orgId: input.orgId,
      targetType: 'organization',
      targetId: input.orgId,
    },
    async (tx, audit) => {
      // The organisation's lock serialises the first insert of the row, which no row lock can.
      const org = await lockOrg(tx, input.orgId);
      const [current] = await tx
        .select()
        .from(rateLimits)
        .where(eq(rateLimits.orgId, input.orgId))
        .for('update');
      checkVersion(current, input.version, 'these rate limits');
      if (sameValues(pickLimits(current), limits)) {
        return unchanged('these are the organisation’s rate limits already.');
      }
      const [after] = current
        ? await tx
            .update(rateLimits)
            .set({ ...limits, version: sql`${rateLimits.version} + 1` })
            .where(eq(rateLimits.orgId, input.orgId))
            .returning()
        : await tx
            .insert(rateLimits)
            .values({ orgId: input.orgId, ...limits })
            .returning();
      await notifyOrgChanged(tx, input.orgId);
      audit.diff(pickLimits(current), pickLimits(after));
      if (Object.values(limits).includes(0)) audit.detail({ blocked: true });
      requireSecondPerson(ctx, blocks(limits) && 'blocking_limit', {
        permission: BLOCK_PERMISSION,
        summary: `Block ${org.name} with a limit of 0`,
        orgId: org.id,
        orgVersion: org.version,
        diff: audit.toDiff(),
      });
      return after!;
    },
  );
});
