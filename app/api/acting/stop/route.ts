import { staffRoute } from '@/lib/http/handler';
import { stopActing } from '@/lib/services/acting/acting';

export const POST = staffRoute((ctx) => stopActing(ctx));
