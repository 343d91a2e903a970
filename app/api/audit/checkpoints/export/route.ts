import { staffRoute } from '@/lib/http/handler';
import { exportCheckpoints } from '@/lib/services/audit/checkpoints';

/** Every checkpoint and the public keys, as a JSON file that `npm run audit:verify` also reads. */
export const GET = staffRoute(
  async (ctx) => {
    const document = await exportCheckpoints(ctx);
    const name = `audit-checkpoints-${document.exported_at.slice(0, 19).replaceAll(':', '')}Z.json`;
    return new Response(`${JSON.stringify(document, null, 2)}\n`, {
      headers: {
        'content-type': 'application/json; charset=utf-8',
        'content-disposition': `attachment; filename="${name}"`,
        'cache-control': 'no-store',
      },
    });
  },
  { permission: 'audit.export' },
);
