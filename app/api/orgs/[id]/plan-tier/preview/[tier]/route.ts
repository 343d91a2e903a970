import { staffRoute } from '@/lib/http/handler';
import { previewTier } from '@/lib/queries/org-config';

/** What moving the organisation to `tier` would put in force (a read; nothing is written). */
export const GET = staffRoute<{ id: string; tier: string }>((ctx, _body, { id, tier }) =>
  previewTier(ctx, id, tier),
);
