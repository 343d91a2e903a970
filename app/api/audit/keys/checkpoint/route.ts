import { staffRoute } from '@/lib/http/handler';
import { rotateCheckpointKey } from '@/lib/services/audit/keys';

export const POST = staffRoute((ctx, body) => rotateCheckpointKey(ctx, body), { permission: 'keys.rotate' });
