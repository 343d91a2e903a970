import { staffRoute } from '@/lib/http/handler';
import { startActing } from '@/lib/services/acting/acting';

export const POST = staffRoute((ctx, body) => startActing(ctx, body));
