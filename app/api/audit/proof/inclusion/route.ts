import { staffRoute } from '@/lib/http/handler';
import { inclusionProofFor } from '@/lib/services/audit/proofs';

/**
 * GET /api/audit/proof/inclusion?seq=N&size=S: the Merkle inclusion proof of entry N in the tree of the
 * first S entries (docs/AUDIT.md, "Proofs"), with the signed note checkpoint of that size if one exists.
 */
export function GET(req: Request) {
  const params = Object.fromEntries(new URL(req.url).searchParams);
  return staffRoute((ctx) => inclusionProofFor(ctx, params), { permission: 'audit.read' })(req, {
    params: Promise.resolve({}),
  });
}
