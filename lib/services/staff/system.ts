import type { Db } from '@/db/client';
import type { AuditCtx } from '@/lib/audit';

/** The audit identity of the portal's own command-line tools, which act without a staff session. */
export function systemCtx(db: Db, tool: string): AuditCtx {
  return {
    db,
    actor: { staffId: null, email: `system:${tool}`, actingOrgId: null, actingContextId: null },
    requestId: null,
    ip: null,
    userAgent: null,
  };
}
