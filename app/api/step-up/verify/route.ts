import { staffRoute } from '@/lib/http/handler';
import { finishStepUp } from '@/lib/services/auth/step-up';

export const POST = staffRoute((ctx, body) => finishStepUp(ctx, body));
