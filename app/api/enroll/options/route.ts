import { publicRoute } from '@/lib/http/handler';
import { beginEnrolment } from '@/lib/services/auth/enrol';

export const POST = publicRoute(({ db }, body) => beginEnrolment(db, body));
