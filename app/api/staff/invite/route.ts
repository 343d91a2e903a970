import { staffRoute } from '@/lib/http/handler';
import { inviteStaff } from '@/lib/services/staff/invites';

export const POST = staffRoute((ctx, body) => inviteStaff(ctx, body));
