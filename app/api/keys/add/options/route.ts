import { staffRoute } from '@/lib/http/handler';
import { beginAddKey } from '@/lib/services/auth/keys';

export const POST = staffRoute((ctx) => beginAddKey(ctx));
