import { staffRoute } from '@/lib/http/handler';
import { finishAddKey } from '@/lib/services/auth/keys';

export const POST = staffRoute((ctx, body) => finishAddKey(ctx, body));
