import { type AuditCtx, withAudit } from '@/lib/audit';
import { insertCheckpoint, readCheckpoints } from '@/lib/audit/checkpoint';
import { checkpointKeyRing, publicKeyPem } from '@/lib/audit/checkpoint-keys';
import { readCosignatures, type StoredCosignature } from '@/lib/audit/cosignatures';
import { syncKeyRings } from '@/lib/audit/key-state';
import { verifierKey } from '@/lib/audit/note';
import { configuredWitnesses } from '@/lib/audit/witnesses';
import { requirePermission } from '@/lib/auth/permissions';
import type { StaffCtx } from '@/lib/auth/session';
import { config } from '@/lib/config';
import { witnessInBackground } from './witnessing';

/**
 * "Sign a checkpoint now": the head as it is, signed and stored, with its audit entry; then sent to the
 * witnesses, without waiting for them.
 */
export async function signCheckpointNow(ctx: StaffCtx) {
  requirePermission(ctx, 'audit.verify');
  await syncKeyRings(ctx.db);
  const signed = await withAudit(
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
  witnessInBackground(ctx.db);
  return signed;
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
 * The verifier keys of the configured witnesses and of every witness whose cosignature is stored, by witness
 * name: what checks the `cosignatures` lines of the download.
 */
function witnessKeys(answers: readonly StoredCosignature[]): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const a of answers) if (a.outcome === 'cosigned') keys[a.witnessName] = a.witnessKey;
  for (const w of configuredWitnesses()) keys[w.name] = w.vkey;
  return keys;
}

/**
 * The download of /audit/checkpoints: every checkpoint and the public keys, as one JSON document that
 * `npm run audit:verify -- --checkpoint-pubkey` also reads, with each checkpoint's witness cosignature lines
 * (appended to its note they make the cosigned note) and the witnesses' verifier keys. The export is audited.
 */
export async function exportCheckpoints(ctx: StaffCtx & AuditCtx) {
  requirePermission(ctx, 'audit.export');
  const checkpoints = await readCheckpoints(ctx.db);
  const answers = await readCosignatures(
    ctx.db,
    checkpoints.map((c) => c.id),
  );
  const document = {
    type: 'arbitex.audit.checkpoints',
    version: 1,
    chain_id: config().AUDIT_CHAIN_ID,
    exported_at: new Date().toISOString(),
    public_keys: checkpointPublicKeys(),
    verifier_keys: checkpointVerifierKeys(),
    witness_keys: witnessKeys(answers),
    checkpoints: checkpoints.map(({ id, ...c }) => {
      const lines = answers.filter((a) => a.checkpointId === id && a.cosignature !== null);
      return lines.length > 0 ? { ...c, cosignatures: lines.map((a) => a.cosignature!) } : c;
    }),
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
