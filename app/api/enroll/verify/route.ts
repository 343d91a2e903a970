import { publicRoute } from '@/lib/http/handler';
import { finishEnrolment } from '@/lib/services/auth/enrol';

export const POST = publicRoute(({ db, meta }, body) => finishEnrolment(db, meta, body));
