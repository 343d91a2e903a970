import { staffRoute } from '@/lib/http/handler';
import { setOutpostInferenceMode } from '@/lib/services/orgs/outpost-mode';

export const POST = staffRoute<{ id: string; outpostId: string }>((ctx, body, { id, outpostId }) =>
  setOutpostInferenceMode(ctx, { ...(body as object), orgId: id, outpostId }),
);
