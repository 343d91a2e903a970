import { staffRoute } from '@/lib/http/handler';
import { consistencyProofFor } from '@/lib/services/audit/proofs';

/**
 * GET /api/audit/proof/consistency?from=A&to=B: the Merkle consistency proof that the tree of the first A
 * entries is a prefix of the tree of the first B (docs/AUDIT.md, "Proofs"), with the signed note
 * checkpoints of those sizes where they exist.
 */
export function GET(req: Request) {
  const params = Object.fromEntries(new URL(req.url).searchParams);
  return staffRoute((ctx) => consistencyProofFor(ctx, params), { permission: 'audit.read' })(req, {
    params: Promise.resolve({}),
  });
}
