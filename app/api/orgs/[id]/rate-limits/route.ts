import { staffRoute } from '@/lib/http/handler';
import { setRateLimits } from '@/lib/services/orgs/rate-limits';

export const POST = staffRoute<{ id: string }>((ctx, body, { id }) =>
  setRateLimits(ctx, { ...(body as object), orgId: id }),
);
