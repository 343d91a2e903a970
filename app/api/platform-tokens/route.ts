import { staffRoute } from '@/lib/http/handler';
import { mintPlatformToken } from '@/lib/services/acting/platform-tokens';

export const POST = staffRoute((ctx, body) => mintPlatformToken(ctx, body));
