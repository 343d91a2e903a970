import { staffRoute } from '@/lib/http/handler';
import { rotateSigningKey } from '@/lib/services/acting/platform-tokens';

export const POST = staffRoute((ctx) => rotateSigningKey(ctx));
