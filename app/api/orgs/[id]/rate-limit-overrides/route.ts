import { staffRoute } from '@/lib/http/handler';
import { createRateLimitOverride } from '@/lib/services/orgs/rate-limit-override';

export const POST = staffRoute<{ id: string }>((ctx, body, { id }) =>
  createRateLimitOverride(ctx, { ...(body as object), orgId: id }),
);
