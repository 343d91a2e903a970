import { staffRoute } from '@/lib/http/handler';
import { setMfaPolicy } from '@/lib/services/orgs/mfa-policy';

export const POST = staffRoute<{ id: string }>((ctx, body, { id }) =>
  setMfaPolicy(ctx, { ...(body as object), orgId: id }),
);
