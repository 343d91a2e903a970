import { staffRoute } from '@/lib/http/handler';
import { setSuspended } from '@/lib/services/orgs/suspension';

export const POST = staffRoute<{ id: string }>((ctx, body, { id }) =>
  setSuspended(ctx, { ...(body as object), orgId: id }),
);
