import { staffRoute } from '@/lib/http/handler';
import { setPlanDefaults } from '@/lib/services/plans/plan-defaults';

export const POST = staffRoute((ctx, body) => setPlanDefaults(ctx, body));
