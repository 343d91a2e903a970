import { staffRoute } from '@/lib/http/handler';
import { revokeKey } from '@/lib/services/auth/keys';

export const POST = staffRoute((ctx, body) => revokeKey(ctx, body));
