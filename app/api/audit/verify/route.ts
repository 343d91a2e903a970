import { staffRoute } from '@/lib/http/handler';
import { startVerification } from '@/lib/services/audit/verify';

/** Starts a verification run; the page then polls GET /api/audit/verify/<id>. */
export const POST = staffRoute((ctx, body) => startVerification(ctx, body), { permission: 'audit.verify' });
