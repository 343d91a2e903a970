import { checkReadiness } from '@/lib/health';

export const dynamic = 'force-dynamic';

/** Kubernetes readiness probe: the database, the keys and the migrations (lib/health.ts). */
export async function GET() {
  const readiness = await checkReadiness();
  return Response.json(readiness, {
    status: readiness.status === 'ready' ? 200 : 503,
    headers: { 'cache-control': 'no-store' },
  });
}
