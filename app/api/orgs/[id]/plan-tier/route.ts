import { staffRoute } from '@/lib/http/handler';
import { setPlanTier } from '@/lib/services/orgs/plan-tier';

export const POST = staffRoute<{ id: string }>((ctx, body, { id }) =>
  setPlanTier(ctx, { ...(body as object), orgId: id }),
);
