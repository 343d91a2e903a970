import { staffRoute } from '@/lib/http/handler';
import { unlockKey } from '@/lib/services/auth/keys';

export const POST = staffRoute((ctx, body) => unlockKey(ctx, body));
