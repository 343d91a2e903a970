import type { Metadata } from 'next';
import Link from 'next/link';
import { SignCheckpointButton } from '@/components/audit-chain/checkpoint-actions';
import { WitnessBadge } from '@/components/audit-chain/witness-badge';
import { Alert } from '@/components/ui/alert';
import { requireStaffPage } from '@/lib/auth/current';
import { can } from '@/lib/auth/permissions';
import { ValidationError } from '@/lib/errors';
import { num, utc } from '@/lib/format';
import { checkpointList, checkpointPublicKeyList, witnessList } from '@/lib/queries/audit-chain';
import { EmptyState } from '@/components/ui/empty-state';

export const metadata: Metadata = { title: 'Audit checkpoints' };

export default async function CheckpointsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string>>;
}) {
  const ctx = await requireStaffPage('audit.read');
  const page = await checkpointList(ctx, await searchParams).catch((err: unknown) => {
    if (err instanceof ValidationError) return err;
    throw err;
  });
  const keys = checkpointPublicKeyList(ctx);
  const witnesses = await witnessList(ctx);
  return (
    <section className="space-y-6">
      <h1 className="text-2xl font-semibold">Audit checkpoints</h1>
      <p className="text-sm text-slate-600">
        The head of the chain, signed with an Ed25519 key kept apart from the HMAC keys, periodically even
        when nothing happens, and on demand. A checkpoint shows whether the chain was cut short or rolled back
        to an older copy. Anyone can check one with the public key alone (docs/AUDIT.md).
      </p>
      <section aria-labelledby="witnesses-title" className="space-y-1 text-sm">
        <h2 id="witnesses-title" className="font-semibold">
          Witnesses
        </h2>
        {witnesses
          .filter((w) => w.alarmAt)
          .map((w) => (
            <Alert key={w.vkey} tone="error">
              <strong>Witness {w.name} has cosigned another history than this database holds</strong> (its
              answer of {utc(w.alarmAt)}): the audit chain was rolled back or forked behind a checkpoint it
              cosigned, by a restore of an older backup or by tampering. Nothing it has cosigned since says
              otherwise. See docs/AUDIT.md, “Witnesses”, and docs/OPERATIONS.md section 4.
            </Alert>
          ))}
        {witnesses.length === 0 ? (
          <p className="text-slate-600">
            No witness is configured (AUDIT_WITNESS_URLS): nobody outside this database cosigns the
            checkpoints.
          </p>
        ) : (
          <ul className="list-disc pl-5" data-witness-list>
            {witnesses.map((w) => (
              <li key={w.vkey}>
                <span className="font-medium">{w.name}</span> at{' '}
                <span className="font-mono text-xs">{w.url}</span>
                {': '}
                {w.lastSize === null
                  ? 'has cosigned no checkpoint yet'
                  : `last cosigned a tree of ${num(w.lastSize)} entries, ${utc(w.lastCosignedAt)}`}
              </li>
            ))}
          </ul>
        )}
      </section>
      <div className="flex flex-wrap items-start gap-4">
        {can(ctx.role, 'audit.verify') && <SignCheckpointButton />}
        {can(ctx.role, 'audit.export') && (
          <a
            href="/api/audit/checkpoints/export"
            download
            className="rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium hover:bg-slate-100"
          >
            Download checkpoints and public keys (JSON)
          </a>
        )}
      </div>
      {page instanceof ValidationError ? (
        <Alert tone="error">The page link is not valid: {page.message}</Alert>
      ) : (
        <section aria-labelledby="checkpoints-title" className="space-y-2">
          <h2 id="checkpoints-title" className="font-semibold">
            Checkpoints of {page.chainId}, newest first
          </h2>
          {page.checkpoints.length === 0 ? (
            <EmptyState compact>No checkpoint has been signed yet.</EmptyState>
          ) : (
            <table className="w-full border-collapse text-left text-sm">
              <thead className="border-b border-slate-200 text-slate-500">
                <tr>
                  <th className="py-2 pr-3 font-medium">Signed (UTC)</th>
                  <th className="py-2 pr-3 font-medium">Seq</th>
                  <th className="py-2 pr-3 font-medium">Head HMAC</th>
                  <th className="py-2 pr-3 font-medium">Key</th>
                  <th className="py-2 pr-3 font-medium">Signature</th>
                  <th className="py-2 font-medium">Witnesses</th>
                </tr>
              </thead>
              <tbody>
                {page.checkpoints.map((c) => (
                  <tr
                    key={c.id}
                    className="border-b border-slate-100 align-top"
                    data-checkpoint-seq={c.seq}
                    data-checkpoint-id={c.id}
                  >
                    <td className="py-2 pr-3 whitespace-nowrap">{utc(c.signed_at)}</td>
                    <td className="py-2 pr-3 font-mono text-xs">{num(c.seq)}</td>
                    <td className="py-2 pr-3 font-mono text-xs break-all">{c.head_hmac}</td>
                    <td className="py-2 pr-3 font-mono text-xs">{c.key_id}</td>
                    <td className="py-2 pr-3 font-mono text-xs break-all">{c.signature}</td>
                    <td className="py-2" data-witnesses>
                      {c.witnesses === null ? (
                        <span title="No signed note: signed before the Merkle tree covered the chain">—</span>
                      ) : c.witnesses.length === 0 ? (
                        <span className="text-slate-500">none configured</span>
                      ) : (
                        <span className="flex flex-col items-start gap-1">
                          {c.witnesses.map((w) => (
                            <WitnessBadge key={w.witnessKey} badge={w} />
                          ))}
                        </span>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {page.more && (
            <Link
              href={`/audit/checkpoints?${new URLSearchParams({ before: page.checkpoints.at(-1)!.signed_at })}`}
              className="text-sm text-sky-700 hover:underline"
            >
              Older checkpoints
            </Link>
          )}
        </section>
      )}
      <section aria-labelledby="pubkeys-title" className="space-y-2">
        <h2 id="pubkeys-title" className="font-semibold">
          Public keys
        </h2>
        {keys.map((k) => (
          <div key={k.id} className="space-y-1">
            <h3 className="text-sm font-medium">
              {k.id}
              {k.active ? ' (signs now)' : ''}
            </h3>
            <pre className="overflow-x-auto rounded-md bg-slate-100 p-2 text-xs">{k.pem}</pre>
          </div>
        ))}
      </section>
    </section>
  );
}
