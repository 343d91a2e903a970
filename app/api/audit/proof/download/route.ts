import { staffRoute } from '@/lib/http/handler';
import { inclusionProofDownload } from '@/lib/services/audit/proofs';

/**
 * GET /api/audit/proof/download?seq=N: the "Inclusion proof" file of /audit/<seq>: the entry, its proof
 * against the newest signed note checkpoint that covers it, and the checkpoint keys. A GET, so that a plain
 * link downloads it; it reads only.
 */
export function GET(req: Request) {
  const seq = new URL(req.url).searchParams.get('seq') ?? '';
  return staffRoute(
    async (ctx) => {
      const doc = await inclusionProofDownload(ctx, seq);
      return new Response(`${JSON.stringify(doc, null, 2)}\n`, {
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'content-disposition': `attachment; filename="audit-entry-${doc.seq}-inclusion-proof.json"`,
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
        },
      });
    },
    { permission: 'audit.read' },
  )(req, { params: Promise.resolve({}) });
}
