import { staffRoute } from '@/lib/http/handler';
import { approvalCounts } from '@/lib/queries/approvals';

/** The navigation badge polls this (TanStack Query). */
export const GET = staffRoute((ctx) => approvalCounts(ctx));
