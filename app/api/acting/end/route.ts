import { staffRoute } from '@/lib/http/handler';
import { endActingContext } from '@/lib/services/acting/acting';

export const POST = staffRoute((ctx, body) => endActingContext(ctx, body));
