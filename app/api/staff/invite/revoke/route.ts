import { staffRoute } from '@/lib/http/handler';
import { revokeInvite } from '@/lib/services/staff/invites';

export const POST = staffRoute((ctx, body) => revokeInvite(ctx, body));
