import { staffRoute } from '@/lib/http/handler';
import { verifyRun } from '@/lib/queries/audit-chain';

/** A run's progress and verdict, from its row: any replica answers. */
export const GET = staffRoute<{ id: string }>((ctx, _body, { id }) => verifyRun(ctx, id), {
  permission: 'audit.verify',
});
