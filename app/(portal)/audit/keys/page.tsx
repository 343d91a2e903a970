import type { Metadata } from 'next';
import { RotateKeyForm } from '@/components/audit-chain/rotate-key-form';
import { Alert } from '@/components/ui/alert';
import { requireStaffPage } from '@/lib/auth/current';
import { num, utc } from '@/lib/format';
import { auditKeyOverview } from '@/lib/queries/audit-chain';
import { EmptyState } from '@/components/ui/empty-state';

export const metadata: Metadata = { title: 'Audit keys' };

type Overview = Awaited<ReturnType<typeof auditKeyOverview>>;

function Rotations({ list, label }: { list: Overview['hmacRotations']; label: string }) {
  if (list.length === 0) return <EmptyState compact>No rotation of the {label} yet.</EmptyState>;
  return (
    <table className="w-full border-collapse text-left text-sm">
      <caption className="sr-only">Rotations of the {label}</caption>
      <thead className="border-b border-slate-200 text-slate-500">
        <tr>
          <th className="py-2 pr-3 font-medium">When (UTC)</th>
          <th className="py-2 pr-3 font-medium">Seq</th>
          <th className="py-2 pr-3 font-medium">By</th>
          <th className="py-2 pr-3 font-medium">From</th>
          <th className="py-2 font-medium">To</th>
        </tr>
      </thead>
      <tbody>
        {list.map((r) => (
          <tr key={r.seq} className="border-b border-slate-100">
            <td className="py-2 pr-3 whitespace-nowrap">{utc(r.occurredAt)}</td>
            <td className="py-2 pr-3 font-mono text-xs">{num(r.seq)}</td>
            <td className="py-2 pr-3">{r.actorEmail ?? '—'}</td>
            <td className="py-2 pr-3 font-mono text-xs">{r.fromKeyId ?? '—'}</td>
            <td className="py-2 font-mono text-xs">
              {r.toKeyId}
              {r.genuine ? '' : ' (entry does not verify: ignored)'}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function KeyTable({ keys, label }: { keys: Array<{ id: string; state: string }>; label: string }) {
  return (
    <table className="w-full border-collapse text-left text-sm">
      <caption className="sr-only">{label}</caption>
      <thead className="border-b border-slate-200 text-slate-500">
        <tr>
          <th className="py-2 pr-3 font-medium">Key id</th>
          <th className="py-2 font-medium">State</th>
        </tr>
      </thead>
      <tbody>
        {keys.map((k) => (
          <tr key={k.id} className="border-b border-slate-100" data-key-state={k.state} data-audit-key={k.id}>
            <td className="py-2 pr-3 font-mono text-xs">{k.id}</td>
            <td className="py-2">{k.state}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export default async function AuditKeysPage() {
  const ctx = await requireStaffPage('audit.verify');
  const o = await auditKeyOverview(ctx);
  const staged = (keys: Array<{ id: string; state: string }>) =>
    keys.filter((k) => k.state === 'staged').map((k) => k.id);
  return (
    <section className="space-y-8">
      <h1 className="text-2xl font-semibold">Audit keys</h1>
      <p className="text-sm text-slate-600">
        Key ids and states only; no key leaves the secret store. <strong>Active</strong> keys are in use,{' '}
        <strong>retired</strong> ones stay to verify older entries and checkpoints, <strong>staged</strong>{' '}
        ones were added to the secret by the operator and can be activated. A rotation is itself an audit
        entry, MACed with the key it replaces.
      </p>
      <section aria-labelledby="hmac-title" className="space-y-3">
        <h2 id="hmac-title" className="text-lg font-semibold">
          HMAC keys of the chain
        </h2>
        <KeyTable keys={o.hmacKeys} label="HMAC keys" />
        <p className="text-sm text-slate-700" data-testid="key-in-force">
          The chain is on <code>{o.inForce.keyId}</code>
          {o.inForce.sinceSeq === null
            ? ', its first key.'
            : `, since the rotation at seq ${num(o.inForce.sinceSeq)}.`}{' '}
          Every new entry must be MACed with it; the verifiers reject any other (<code>wrong_key</code>).
        </p>
        {o.newestEntry?.ok === true && (
          <p className="text-sm text-slate-700" data-testid="newest-entry">
            The newest entry, seq {num(o.newestEntry.seq)}, is MACed with <code>{o.newestEntry.keyId}</code>{' '}
            and verifies.
          </p>
        )}
        {o.newestEntry?.ok === false && (
          <div data-testid="newest-entry">
            <Alert tone="error">
              <strong>Key mismatch at the head.</strong> The newest entry, seq {num(o.newestEntry.seq)}, is
              MACed with <code>{o.newestEntry.keyId}</code>: {o.newestEntry.problem}. Nothing is chained onto
              it until it is repaired.
            </Alert>
          </div>
        )}
        {o.processKeyId !== o.inForce.keyId && (
          <Alert tone="warning">
            This replica holds <code>{o.processKeyId}</code> as its key, not the chain’s{' '}
            <code>{o.inForce.keyId}</code>: its key file lacks the chain’s key, or it has not synced yet. The
            drain chains with the chain’s key whatever a replica holds.
          </Alert>
        )}
        {o.canRotate && <RotateKeyForm kind="hmac" staged={staged(o.hmacKeys)} generates={o.generates} />}
        <Rotations list={o.hmacRotations} label="HMAC key" />
      </section>
      <section aria-labelledby="cp-title" className="space-y-3">
        <h2 id="cp-title" className="text-lg font-semibold">
          Checkpoint signing keys (Ed25519)
        </h2>
        <KeyTable keys={o.checkpointKeys} label="Checkpoint signing keys" />
        {o.canRotate && (
          <RotateKeyForm kind="checkpoint" staged={staged(o.checkpointKeys)} generates={o.generates} />
        )}
        <Rotations list={o.checkpointRotations} label="checkpoint key" />
      </section>
    </section>
  );
}
