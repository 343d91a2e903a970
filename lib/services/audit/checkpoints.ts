import { type AuditCtx, withAudit } from '@/lib/audit';
import { insertCheckpoint, readCheckpoints } from '@/lib/audit/checkpoint';
import { checkpointKeyRing, publicKeyPem } from '@/lib/audit/checkpoint-keys';
import { syncKeyRings } from '@/lib/audit/key-state';
import { verifierKey } from '@/lib/audit/note';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { config } from '@/lib/config';

/** "Sign a checkpoint now": the head as it is, signed and stored, with its audit entry. */
export async function signCheckpointNow(ctx: StaffCtx) {
  requirePermission(ctx, 'audit.verify');
  await syncKeyRings(ctx.db);
  return withAudit(
    ctx,
    { action: 'audit.checkpoint.signed', targetType: 'audit_checkpoint' },
    async (tx, audit) => {
      const checkpoint = await insertCheckpoint(tx);
      audit.target('audit_checkpoint', checkpoint.id);
      audit.detail({
        seq: checkpoint.seq,
        head_hmac: checkpoint.head_hmac,
        key_id: checkpoint.key_id,
        signed_at: checkpoint.signed_at,
        on_demand: true,
      });
      return checkpoint;
    },
  );
}

/** The public keys of the checkpoint key ring, PEM by key id: all a verifier needs besides the checkpoints. */
export function checkpointPublicKeys(): Record<string, string> {
  return Object.fromEntries([...checkpointKeyRing().keys].map(([id, key]) => [id, publicKeyPem(key)]));
}

/**
 * The checkpoint keys as signed-note verifier keys, by key id: what a third party (a witness, an auditor's
 * script) configures to check the note checkpoints. The key name is the chain id.
 */
export function checkpointVerifierKeys(): Record<string, string> {
  const name = config().AUDIT_CHAIN_ID;
  return Object.fromEntries(
    [...checkpointKeyRing().keys].map(([id, key]) => [id, verifierKey(name, key.publicKey)]),
  );
}

/**
 * The download of /audit/checkpoints: every checkpoint and the public keys, as one JSON document that
 * `npm run audit:verify -- --checkpoint-pubkey` also reads. The export is audited.
 */
export async function exportCheckpoints(ctx: StaffCtx & AuditCtx) {
  requirePermission(ctx, 'audit.export');
  const checkpoints = await readCheckpoints(ctx.db);
  const document = {
    type: 'arbitex.audit.checkpoints',
    version: 1,
    chain_id: config().AUDIT_CHAIN_ID,
    exported_at: new Date().toISOString(),
    public_keys: checkpointPublicKeys(),
    verifier_keys: checkpointVerifierKeys(),
    checkpoints: checkpoints.map(({ id: _id, ...c }) => c),
  };
  await withAudit(
    ctx,
    { action: 'audit.checkpoints.exported', targetType: 'audit_checkpoint' },
    async (_tx, audit) => {
      audit.detail({ count: checkpoints.length, last_seq: checkpoints.at(-1)?.seq ?? null });
    },
  );
  return document;
}
