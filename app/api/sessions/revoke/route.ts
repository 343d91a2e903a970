import { staffRoute } from '@/lib/http/handler';
import { revokeSession } from '@/lib/services/staff/manage';

export const POST = staffRoute((ctx, body) => revokeSession(ctx, body));
