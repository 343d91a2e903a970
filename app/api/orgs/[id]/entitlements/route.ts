import { staffRoute } from '@/lib/http/handler';
import { setEntitlements } from '@/lib/services/orgs/entitlements';

export const POST = staffRoute<{ id: string }>((ctx, body, { id }) =>
  setEntitlements(ctx, { ...(body as object), orgId: id }),
);
