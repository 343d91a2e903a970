import { withAudit } from '@/lib/audit';
import { exportStream, planExport } from '@/lib/audit/export';
import { resolveAuditSearch, SeqRange } from '@/lib/audit/filter';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { parseInput } from '@/lib/errors';
import { log } from '@/lib/log';

/**
 * Starts an OCSF NDJSON export of the audit log with the explorer's filters and an optional seq range.
 * The export is itself an audit entry (`audit.exported`, with its filters), appended before the range
 * is fixed, so the export contains its own entry when its filters match it.
 */
export async function exportAudit(ctx: StaffCtx, raw: Record<string, unknown>) {
  requirePermission(ctx, 'audit.export');
  const filter = await resolveAuditSearch(ctx.db, raw);
  const range = parseInput(SeqRange, { from_seq: raw.from_seq, to_seq: raw.to_seq });
  const filters = Object.fromEntries(
    Object.entries({
      org: filter.orgId,
      actor: filter.staffId,
      context: filter.contextId,
      action: filter.action,
      outcome: filter.outcome,
      from: filter.from?.toISOString(),
      to: filter.to?.toISOString(),
      from_seq: range.from_seq,
      to_seq: range.to_seq,
    }).filter(([, v]) => v !== undefined),
  );
  await withAudit(ctx, { action: 'audit.exported', targetType: 'audit_log' }, async (_tx, audit) => {
    audit.detail({ format: 'ocsf-ndjson', filters });
  });
  const plan = await planExport(ctx.db, { ...filter, fromSeq: range.from_seq, toSeq: range.to_seq }, filters);
  const stamp = plan.header.exported_at.replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return {
    plan,
    filename: `arbitex-audit-${stamp}.ndjson`,
    stream: exportStream(ctx.db, plan, {
      onError: (err) =>
        log.error({ err, request_id: ctx.requestId, staff_id: ctx.staffId }, 'audit export failed'),
    }),
  };
}
