import { publicRoute } from '@/lib/http/handler';
import { beginSignIn } from '@/lib/services/auth/sign-in';

export const POST = publicRoute(({ db, meta }, body) => beginSignIn(db, meta, body));
