import { staffRoute } from '@/lib/http/handler';
import { addSupportNote } from '@/lib/services/orgs/support-notes';

export const POST = staffRoute<{ id: string }>((ctx, body, { id }) =>
  addSupportNote(ctx, { ...(body as object), orgId: id }),
);
