import { staffRoute } from '@/lib/http/handler';
import { reviewBreakGlass } from '@/lib/services/approvals/approvals';

export const POST = staffRoute<{ id: string }>((ctx, body, { id }) =>
  reviewBreakGlass(ctx, { ...(body as object), id }),
);
