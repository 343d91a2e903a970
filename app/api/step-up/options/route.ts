import { staffRoute } from '@/lib/http/handler';
import { beginStepUp } from '@/lib/services/auth/step-up';

export const POST = staffRoute((ctx) => beginStepUp(ctx));
