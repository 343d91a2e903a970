import { staffRoute } from '@/lib/http/handler';
import { poolHistory } from '@/lib/pool';

/** The GPU pool charts' series over the last `1h` or `24h`. */
export const GET = staffRoute<{ range: string }>((ctx, _body, { range }) => poolHistory(ctx, range), {
  permission: 'pool.read',
});
