import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { type Db, rows } from '@/db/client';
import { withAudit } from '@/lib/audit';
import { dualControlled, requireSecondPerson } from '@/lib/approvals/gate';
import { reloadCheckpointKeyRing, activateCheckpointKey } from '@/lib/audit/checkpoint-keys';
import {
  activeKeysFromChain,
  CHECKPOINT_ROTATION,
  HMAC_ROTATION,
  KEYS_CHANGED_CHANNEL,
  rotations,
  syncKeyRings,
} from '@/lib/audit/key-state';
import { type HmacKeyRing, reloadHmacKeyRing, activateHmacKey } from '@/lib/audit/keys';
import { requirePermission } from '@/lib/auth/permissions';
import { requireFreshAuth, type StaffCtx } from '@/lib/auth/session';
import { config } from '@/lib/config';
import { ConflictError, parseInput, ValidationError } from '@/lib/errors';
import { newEd25519PrivateKey, readSecret, secretsWritable, writeGeneratedSecret } from '@/lib/secrets';
import { text } from '@/lib/text';

const ROTATE_LOCK = 0x4155_444b; // "AUDK": one key rotation at a time

export const RotateInput = z.object({
  /** A key the operator staged in the secret. Omitted: embedded mode generates one. */
  keyId: text()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'A key id is 1 to 64 letters, digits, dots, dashes or underscores.')
    .optional(),
});

function newKeyId(prefix: string): string {
  return `${prefix}-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}-${crypto.randomBytes(3).toString('hex')}`;
}

/** Embedded mode only: adds a key to a generated key-ring secret; `active` stays (the chain decides). */
function addGeneratedKey(name: 'audit-hmac-keys' | 'audit-checkpoint-keys', id: string, value: string) {
  const file = JSON.parse(readSecret(name)) as { active: string; keys: Record<string, string> };
  writeGeneratedSecret(name, JSON.stringify({ ...file, keys: { ...file.keys, [id]: value } }));
}

/** Key ids that have been active at some time: a rotation must move to a key never used. */
async function usedKeyIds(db: Db, kind: 'hmac' | 'checkpoint'): Promise<Set<string>> {
  const history = await rotations(db, kind === 'hmac' ? HMAC_ROTATION : CHECKPOINT_ROTATION, 10_000);
  const used = new Set(history.flatMap((r) => [r.fromKeyId, r.toKeyId]).filter((id): id is string => !!id));
  const [first] = await rows<{ id: string }>(
    db,
    kind === 'hmac'
      ? sql`select hmac_key_id as id from audit_log order by seq limit 1`
      : sql`select key_id as id from audit_checkpoints where chain_id = ${config().AUDIT_CHAIN_ID} order by signed_at limit 1`,
  );
  if (first) used.add(first.id);
  return used;
}

function chooseNext(
  input: z.infer<typeof RotateInput>,
  ring: { keys: ReadonlyMap<string, unknown> },
  used: Set<string>,
  current: string,
  secret: string,
): string | null {
  const next = input.keyId;
  if (!next) {
    if (secretsWritable()) return null;
    throw new ValidationError({
      keyId: `choose a key the operator added to ${secret}; only the embedded mode generates keys itself`,
    });
  }
  if (!ring.keys.has(next))
    throw new ValidationError({
      keyId: `"${next}" is not in ${secret}: the operator adds it to the secret first`,
    });
  if (next === current || used.has(next))
    throw new ValidationError({ keyId: `"${next}" has been in use before; rotate to a key never used` });
  return next;
}

/**
 * Superadmin, with step-up: a new HMAC key for the chain. The rotation is an entry MAC'd with the OLD key
 * that names the new one; every replica then appends with the new key (lib/audit/key-state.ts), and the
 * old one stays in the ring for verification.
 */
export const rotateHmacKey = dualControlled('audit.hmac_key', async (ctx: StaffCtx, raw: unknown) => {
  requirePermission(ctx, 'keys.rotate');
  const input = parseInput(RotateInput, raw);
  requireFreshAuth(ctx);
  await syncKeyRings(ctx.db);
  let ring = reloadHmacKeyRing();
  const current = ring.activeId;
  let next = chooseNext(input, ring, await usedKeyIds(ctx.db, 'hmac'), current, 'audit-hmac-keys');
  // Once the key choice is checked, before a key is generated: a request stores the intent.
  requireSecondPerson(ctx, 'key_rotation', rotationFacts('audit HMAC key', current, next ?? undefined));
  if (!next) {
    next = newKeyId('k');
    addGeneratedKey('audit-hmac-keys', next, crypto.randomBytes(32).toString('base64'));
    ring = reloadHmacKeyRing();
  }
  const old: HmacKeyRing = { activeId: current, keys: ring.keys };
  const to = next;
  await withAudit(
    ctx,
    { action: HMAC_ROTATION, targetType: 'audit_hmac_key', targetId: to },
    async (tx, audit) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${ROTATE_LOCK})`);
      const now = await activeKeysFromChain(tx, ring);
      if (now.hmac && now.hmac !== current)
        throw new ConflictError('Another rotation changed the HMAC key meanwhile.', {
          activeKeyId: now.hmac,
        });
      audit.diff({ active_key_id: current }, { active_key_id: to });
      await tx.execute(sql`select pg_notify(${KEYS_CHANGED_CHANNEL}, 'hmac')`);
    },
    old,
  );
  activateHmacKey(to);
  return { activeKeyId: to, previousKeyId: current };
});

/** Superadmin, with step-up: a new Ed25519 key signs the checkpoints from now on; the old one still verifies. */
export const rotateCheckpointKey = dualControlled(
  'audit.checkpoint_key',
  async (ctx: StaffCtx, raw: unknown) => {
    requirePermission(ctx, 'keys.rotate');
    const input = parseInput(RotateInput, raw);
    requireFreshAuth(ctx);
    await syncKeyRings(ctx.db);
    let ring = reloadCheckpointKeyRing();
    const current = ring.activeId;
    let next = chooseNext(
      input,
      ring,
      await usedKeyIds(ctx.db, 'checkpoint'),
      current,
      'audit-checkpoint-keys',
    );
    requireSecondPerson(
      ctx,
      'key_rotation',
      rotationFacts('checkpoint signing key', current, next ?? undefined),
    );
    if (!next) {
      next = newKeyId('cp');
      addGeneratedKey('audit-checkpoint-keys', next, newEd25519PrivateKey());
      ring = reloadCheckpointKeyRing();
    }
    if (!ring.keys.get(next)?.privateKey)
      throw new ValidationError({ keyId: `"${next}" is only a public key in audit-checkpoint-keys` });
    const to = next;
    await withAudit(
      ctx,
      { action: CHECKPOINT_ROTATION, targetType: 'audit_checkpoint_key', targetId: to },
      async (tx, audit) => {
        await tx.execute(sql`select pg_advisory_xact_lock(${ROTATE_LOCK})`);
        const now = await activeKeysFromChain(tx);
        if (now.checkpoint && now.checkpoint !== current)
          throw new ConflictError('Another rotation changed the checkpoint key meanwhile.', {
            activeKeyId: now.checkpoint,
          });
        audit.diff({ active_key_id: current }, { active_key_id: to });
        await tx.execute(sql`select pg_notify(${KEYS_CHANGED_CHANNEL}, 'checkpoint')`);
      },
    );
    activateCheckpointKey(to);
    return { activeKeyId: to, previousKeyId: current };
  },
);

function rotationFacts(what: string, current: string, next: string | undefined) {
  return {
    permission: 'keys.rotate' as const,
    summary: `Rotate the ${what}${next ? ` to ${next}` : ''}`,
    diff: { before: { active_key_id: current }, after: { active_key_id: next ?? '(a new generated key)' } },
  };
}
