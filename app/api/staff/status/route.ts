import { staffRoute } from '@/lib/http/handler';
import { setStaffStatus } from '@/lib/services/staff/manage';

export const POST = staffRoute((ctx, body) => setStaffStatus(ctx, body));
