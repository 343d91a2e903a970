import { staffRoute } from '@/lib/http/handler';
import { changeRole } from '@/lib/services/staff/manage';

export const POST = staffRoute((ctx, body) => changeRole(ctx, body));
