import { staffRoute } from '@/lib/http/handler';
import { poolSnapshot } from '@/lib/pool';

/** The GPU pool's figures now (503 when PROMETHEUS_URL is unset, 502 naming the URL when Prometheus fails). */
export const GET = staffRoute((ctx) => poolSnapshot(ctx), { permission: 'pool.read' });
