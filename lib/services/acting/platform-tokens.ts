import crypto from 'node:crypto';
import { desc, gt, isNull, or, sql } from 'drizzle-orm';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { z } from 'zod';
import { type Db, getDatabase, type Tx } from '@/db/client';
import { tokenSigningKeys } from '@/db/schema';
import { type AuditCtx, withAudit } from '@/lib/audit';
import { dualControlled, requireSecondPerson } from '@/lib/approvals/gate';
import { PLATFORM_SCOPES, requirePermission, SCOPE_PERMISSION } from '@/lib/auth/permissions';
import { requireFreshAuth, type StaffCtx } from '@/lib/auth/session';
import { config } from '@/lib/config';
import { AppError, parseInput } from '@/lib/errors';
import { readSecret } from '@/lib/secrets';

/** A retired key stays published this long past the longest token life, for clock skew. */
const SKEW_S = 60;

function kek(): Buffer {
  const key = Buffer.from(readSecret('token-signing-kek'), 'base64');
  if (key.length !== 32) throw new Error('token-signing-kek must be 32 bytes, base64');
  return key;
}

function seal(plain: string): string {
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', kek(), iv);
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

function open(sealed: string): string {
  const raw = Buffer.from(sealed, 'base64url');
  const decipher = crypto.createDecipheriv('aes-256-gcm', kek(), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

/** Makes a new ES256 key the signing key and retires the one before it, in the caller's transaction. */
async function addSigningKey(tx: Tx): Promise<{ kid: string; retired: string[] }> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = `ptk-${new Date().toISOString().slice(0, 10)}-${crypto.randomBytes(4).toString('hex')}`;
  const retired = await tx
    .update(tokenSigningKeys)
    .set({ retiredAt: sql`now()` })
    .where(isNull(tokenSigningKeys.retiredAt))
    .returning({ kid: tokenSigningKeys.kid });
  await tx.insert(tokenSigningKeys).values({
    kid,
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' },
    privateKeyEnc: seal(JSON.stringify(await exportJWK(privateKey))),
  });
  return { kid, retired: retired.map((r) => r.kid) };
}

/** The signing key; the first one is made, and audited, on first use. */
async function signingKey(ctx: AuditCtx) {
  const [current] = await ctx.db
    .select()
    .from(tokenSigningKeys)
    .where(isNull(tokenSigningKeys.retiredAt))
    .orderBy(desc(tokenSigningKeys.createdAt))
    .limit(1);
  if (current) return current;
  await withAudit(
    ctx,
    { action: 'signing_key.rotated', targetType: 'token_signing_key' },
    async (tx, audit) => {
      // Taken under a lock, so that two first mints do not both make a key.
      await tx.execute(sql`lock table token_signing_keys in exclusive mode`);
      const [raced] = await tx.select().from(tokenSigningKeys).where(isNull(tokenSigningKeys.retiredAt));
      if (raced) return;
      const { kid } = await addSigningKey(tx);
      audit.target('token_signing_key', kid);
      audit.detail({ first_key: true });
    },
  );
  return signingKey(ctx);
}

const MintInput = z.object({ scope: z.enum(PLATFORM_SCOPES, 'Choose a scope.').default('org:read') });

/**
 * A short-lived platform API token for the organisation the caller acts for (DESIGN section 5): ES256,
 * `sub` the staff id, `act.sub` their e-mail (RFC 8693), the acting context's ids, and an expiry of at
 * most PLATFORM_TOKEN_TTL_S that never outlives the context. The mint is audited with its `jti`.
 */
export async function mintPlatformToken(ctx: StaffCtx, raw: unknown) {
  requirePermission(ctx, 'platform_token.mint');
  const { scope } = parseInput(MintInput, raw);
  requirePermission(
    ctx,
    SCOPE_PERMISSION[scope],
    `A token with the scope ${scope} needs its own permission.`,
  );
  const acting = ctx.acting;
  if (!acting) {
    throw new AppError(
      403,
      'acting_required',
      'Platform tokens are minted inside an acting context. Start acting for an organisation first.',
    );
  }
  // org:admin lets the holder change the organisation through the platform: as sensitive as those writes.
  if (scope === 'org:admin') requireFreshAuth(ctx);
  const c = config();
  const key = await signingKey(ctx);
  const now = Math.floor(Date.now() / 1000);
  const exp = Math.min(now + c.PLATFORM_TOKEN_TTL_S, Math.floor(acting.expiresAt.getTime() / 1000));
  const jti = crypto.randomUUID();
  const token = await new SignJWT({
    act: { sub: ctx.email },
    acting_org_id: acting.orgId,
    acting_context_id: acting.id,
    scope,
  })
    .setProtectedHeader({ alg: 'ES256', kid: key.kid, typ: 'JWT' })
    .setIssuer(c.PORTAL_URL)
    .setAudience(c.PLATFORM_API_AUDIENCE)
    .setSubject(ctx.staffId)
    .setJti(jti)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(await importJWK(JSON.parse(open(key.privateKeyEnc)) as JWK, 'ES256'));
  await withAudit(
    ctx,
    { action: 'platform_token.minted', orgId: acting.orgId, targetType: 'platform_token', targetId: jti },
    async (_tx, audit) => {
      audit.detail({ jti, kid: key.kid, scope, expires_at: new Date(exp * 1000) });
    },
  );
  return { token, jti, kid: key.kid, expiresAt: new Date(exp * 1000), audience: c.PLATFORM_API_AUDIENCE };
}

/** Superadmin, with step-up: a new signing key; the old one stays published until its tokens expire. */
export const rotateSigningKey = dualControlled('platform.signing_key', async (ctx: StaffCtx) => {
  requirePermission(ctx, 'keys.rotate');
  requireFreshAuth(ctx);
  requireSecondPerson(ctx, 'key_rotation', {
    permission: 'keys.rotate',
    summary: 'Rotate the platform token signing key',
    diff: null,
  });
  return withAudit(
    ctx,
    { action: 'signing_key.rotated', targetType: 'token_signing_key' },
    async (tx, audit) => {
      await tx.execute(sql`lock table token_signing_keys in exclusive mode`);
      const { kid, retired } = await addSigningKey(tx);
      audit.target('token_signing_key', kid);
      audit.detail({ retired });
      return { kid, retired };
    },
  );
});

/** For /.well-known/jwks.json, which has no session. */
export async function getJwks() {
  return publicJwks((await getDatabase()).db);
}

/** The JWKS: the signing key and every retired key a still-valid token may name. */
export async function publicJwks(db: Db): Promise<{ keys: JWK[] }> {
  const keys = await db
    .select({ jwk: tokenSigningKeys.publicJwk })
    .from(tokenSigningKeys)
    .where(
      or(
        isNull(tokenSigningKeys.retiredAt),
        gt(
          tokenSigningKeys.retiredAt,
          sql`now() - make_interval(secs => ${config().PLATFORM_TOKEN_TTL_S + SKEW_S})`,
        ),
      ),
    )
    .orderBy(desc(tokenSigningKeys.createdAt));
  return { keys: keys.map((k) => k.jwk as JWK) };
}
