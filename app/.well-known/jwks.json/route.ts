import { getJwks } from '@/lib/services/acting/platform-tokens';

/** The public keys of platform API tokens, for anyone who verifies them. */
export async function GET() {
  return Response.json(await getJwks(), {
    headers: { 'cache-control': 'public, max-age=60', 'content-type': 'application/jwk-set+json' },
  });
}
