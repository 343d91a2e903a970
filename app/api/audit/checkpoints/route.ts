import { staffRoute } from '@/lib/http/handler';
import { signCheckpointNow } from '@/lib/services/audit/checkpoints';

export const POST = staffRoute((ctx) => signCheckpointNow(ctx), { permission: 'audit.verify' });
