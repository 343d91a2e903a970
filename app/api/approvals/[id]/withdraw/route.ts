import { staffRoute } from '@/lib/http/handler';
import { withdrawRequest } from '@/lib/services/approvals/approvals';

export const POST = staffRoute<{ id: string }>((ctx, body, { id }) =>
  withdrawRequest(ctx, { ...(body as object), id }),
);
