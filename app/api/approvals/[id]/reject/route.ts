import { staffRoute } from '@/lib/http/handler';
import { rejectRequest } from '@/lib/services/approvals/approvals';

export const POST = staffRoute<{ id: string }>((ctx, body, { id }) =>
  rejectRequest(ctx, { ...(body as object), id }),
);
