import { staffRoute } from '@/lib/http/handler';
import { renameKey } from '@/lib/services/auth/keys';

export const POST = staffRoute((ctx, body) => renameKey(ctx, body));
