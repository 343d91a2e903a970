import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { outposts } from '@/db/schema';
import { unchanged, withAudit } from '@/lib/audit';
import { dualControlled, requireSecondPerson } from '@/lib/approvals/gate';
import { requireActingFor } from '@/lib/auth/acting';
import { requirePermission } from '@/lib/auth/permissions';
import { requireFreshAuth, type StaffCtx } from '@/lib/auth/session';
import { ConflictError, NotFoundError, parseInput } from '@/lib/errors';
import { INFERENCE_MODE_LABELS, INFERENCE_MODES } from '@/lib/plans';
import { notifyOrgChanged } from './common';
import { text } from '@/lib/text';

const Input = z.object({
  orgId: z.uuid('Choose an organisation.'),
  outpostId: z.uuid('Choose an Outpost.'),
  inferenceMode: z.enum(INFERENCE_MODES, `Choose ${Object.values(INFERENCE_MODE_LABELS).join(' or ')}.`),
  reason: text().trim().min(10, 'Say why (at least 10 characters).').max(500),
  version: z.int('Send the version you edited.').min(1),
});

/**
 * Switches an Outpost between GPU inference and the vendor-only CPU trial (superadmin, acting context,
 * step-up, reason). No customer path reaches this.
 */
export const setOutpostInferenceMode = dualControlled(
  'org.outpost_mode',
  async (ctx: StaffCtx, raw: unknown) => {
    requirePermission(ctx, 'orgs.outpost_mode.write');
    const input = parseInput(Input, raw);
    requireActingFor(ctx, input.orgId);
    requireFreshAuth(ctx);
    return withAudit(
      ctx,
      {
        action: 'org.outpost.inference_mode.updated',
        orgId: input.orgId,
        targetType: 'outpost',
        targetId: input.outpostId,
      },
      async (tx, audit) => {
        const [outpost] = await tx
          .select()
          .from(outposts)
          .where(and(eq(outposts.id, input.outpostId), eq(outposts.orgId, input.orgId)))
          .for('update');
        if (!outpost) throw new NotFoundError('This organisation has no such Outpost.');
        if (outpost.version !== input.version) {
          throw new ConflictError(
            'Someone changed this Outpost since you loaded the page. Review the current values.',
            outpost,
          );
        }
        if (outpost.inferenceMode === input.inferenceMode) {
          return unchanged(
            `${outpost.name} already runs in ${INFERENCE_MODE_LABELS[input.inferenceMode]} mode.`,
          );
        }
        const [after] = await tx
          .update(outposts)
          .set({ inferenceMode: input.inferenceMode, version: sql`${outposts.version} + 1` })
          .where(eq(outposts.id, outpost.id))
          .returning();
        await notifyOrgChanged(tx, input.orgId);
        audit.diff({ inferenceMode: outpost.inferenceMode }, { inferenceMode: after!.inferenceMode });
        audit.detail({ reason: input.reason, outpost: outpost.name });
        requireSecondPerson(ctx, input.inferenceMode === 'cpu_trial' && 'outpost_cpu_trial', {
          permission: 'orgs.outpost_mode.write',
          summary: `Run the Outpost ${outpost.name} on the CPU trial`,
          orgId: input.orgId,
          diff: audit.toDiff(),
        });
        return after!;
      },
    );
  },
);
