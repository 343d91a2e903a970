import { staffRoute } from '@/lib/http/handler';
import { rotateHmacKey } from '@/lib/services/audit/keys';

export const POST = staffRoute((ctx, body) => rotateHmacKey(ctx, body), { permission: 'keys.rotate' });
