import { staffRoute } from '@/lib/http/handler';
import { approveRequest } from '@/lib/services/approvals/approvals';

export const POST = staffRoute<{ id: string }>((ctx, body, { id }) =>
  approveRequest(ctx, { ...(body as object), id }),
);
