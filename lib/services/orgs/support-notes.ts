import { z } from 'zod';
import { supportNotes } from '@/db/schema';
import { withAudit } from '@/lib/audit';
import { requireActingFor } from '@/lib/auth/acting';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { parseInput } from '@/lib/errors';
import { text } from '@/lib/text';

const Input = z.object({
  orgId: z.uuid('Choose an organisation.'),
  body: text().trim().min(3, 'Write the note (at least 3 characters).').max(4000),
});

/** An org-scoped write: a support note, made inside an acting context for that organisation. */
export async function addSupportNote(ctx: StaffCtx, raw: unknown) {
  requirePermission(ctx, 'orgs.support_note.write');
  const input = parseInput(Input, raw);
  const acting = requireActingFor(ctx, input.orgId);
  return withAudit(
    ctx,
    { action: 'org.support_note.created', orgId: input.orgId, targetType: 'support_note' },
    async (tx, audit) => {
      const [note] = await tx
        .insert(supportNotes)
        .values({ orgId: input.orgId, staffId: ctx.staffId, actingContextId: acting.id, body: input.body })
        .returning();
      audit.target('support_note', note!.id);
      audit.diff(null, { body: note!.body });
      return note!;
    },
  );
}
