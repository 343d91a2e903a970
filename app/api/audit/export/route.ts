import { staffRoute } from '@/lib/http/handler';
import { exportAudit } from '@/lib/services/audit/export';

/**
 * GET /api/audit/export?org=…&actor=…&action=…&from_seq=…: the audit log as OCSF NDJSON
 * (lib/audit/export-format.ts), streamed. A GET, so that a plain link downloads it; it writes only its own
 * audit entry, and the SameSite=Strict session cookie is not sent on a cross-site request.
 */
export function GET(req: Request) {
  const params = Object.fromEntries(new URL(req.url).searchParams);
  return staffRoute(
    async (ctx) => {
      const { stream, filename } = await exportAudit(ctx, params);
      return new Response(stream, {
        headers: {
          'content-type': 'application/x-ndjson; charset=utf-8',
          'content-disposition': `attachment; filename="${filename}"`,
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
        },
      });
    },
    { permission: 'audit.export' },
  )(req, { params: Promise.resolve({}) });
}
