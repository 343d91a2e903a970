import { checkHealth } from '@/lib/health';

export const dynamic = 'force-dynamic';

export function GET() {
  return Response.json(checkHealth(), { headers: { 'cache-control': 'no-store' } });
}
