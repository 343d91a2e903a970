import { staffRoute } from '@/lib/http/handler';
import { breakGlass } from '@/lib/services/approvals/approvals';

export const POST = staffRoute<{ id: string }>((ctx, body, { id }) =>
  breakGlass(ctx, { ...(body as object), id }),
);
