import { staffRoute } from '@/lib/http/handler';
import { revokeRateLimitOverride } from '@/lib/services/orgs/rate-limit-override';

export const POST = staffRoute<{ id: string; overrideId: string }>((ctx, _body, { id, overrideId }) =>
  revokeRateLimitOverride(ctx, { orgId: id, overrideId }),
);
