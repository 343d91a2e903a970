import type { ActingContext, StaffCtx } from '@/lib/auth/session';
import { AppError } from '@/lib/errors';

/**
 * Every org-scoped write calls this: it goes through only while the session acts for that organisation.
 * The acting context adds no rights; the role's permission is checked separately.
 */
export function requireActingFor(ctx: StaffCtx, orgId: string): ActingContext {
  if (ctx.acting?.orgId === orgId) return ctx.acting;
  const message = ctx.openActing
    ? ctx.openActing.orgId === orgId
      ? 'Your acting context is not in force on this session yet. Reload the page and try again.'
      : `You are acting for ${ctx.openActing.orgName}, not this organisation. Stop that acting context and start one for this organisation.`
    : 'Changes to an organisation are made inside an acting context. Start acting for this organisation first.';
  throw new AppError(403, 'acting_required', message, { orgId });
}
