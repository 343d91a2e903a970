import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import type { ReactNode } from 'react';
import { DiffTable } from '@/components/audit/diff-table';
import { Alert } from '@/components/ui/alert';
import { requireStaffPage } from '@/lib/auth/current';
import { NotFoundError, ValidationError } from '@/lib/errors';
import { utc } from '@/lib/format';
import { auditEntryDetail } from '@/lib/queries/audit';

export async function generateMetadata({ params }: { params: Promise<{ seq: string }> }): Promise<Metadata> {
  return { title: `Audit entry ${(await params).seq}` };
}

const LINK =
  'rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-900 hover:bg-slate-100';

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-1 gap-1 py-2 sm:grid-cols-4">
      <dt className="text-sm font-medium text-slate-600">{label}</dt>
      <dd className="text-sm sm:col-span-3">{children}</dd>
    </div>
  );
}

const mono = (v: string | null | undefined) =>
  v ? <span className="font-mono text-xs break-all">{v}</span> : <span className="text-slate-500">—</span>;

export default async function AuditEntryPage({ params }: { params: Promise<{ seq: string }> }) {
  const ctx = await requireStaffPage('audit.read');
  const { seq } = await params;
  const detail = await auditEntryDetail(ctx, seq).catch((err: unknown) => {
    if (err instanceof NotFoundError) notFound();
    if (err instanceof ValidationError) return err;
    throw err;
  });
  if (detail instanceof ValidationError) {
    return (
      <section className="space-y-4">
        <h1 className="text-2xl font-semibold">Audit entry</h1>
        <Alert tone="error">{detail.message}</Alert>
      </section>
    );
  }
  const { entry: e, staff, actingContext: ac } = detail;
  const contextId = e.actingContextId ?? ac?.id ?? null;
  return (
    <article className="space-y-6" data-seq={e.seq}>
      <nav aria-label="Entries" className="flex flex-wrap items-center gap-3">
        <Link href="/audit" className="text-sm text-sky-700 hover:underline">
          Audit log
        </Link>
        <span className="flex-1" />
        {detail.prevSeq !== null && (
          <Link href={`/audit/${detail.prevSeq}`} rel="prev" className={LINK}>
            ← Entry {detail.prevSeq}
          </Link>
        )}
        {detail.nextSeq !== null && (
          <Link href={`/audit/${detail.nextSeq}`} rel="next" className={LINK}>
            Entry {detail.nextSeq} →
          </Link>
        )}
      </nav>
      <header>
        <h1 className="text-2xl font-semibold">Audit entry {e.seq}</h1>
        <p className="mt-1 font-mono text-sm text-slate-700">
          {e.action} · <span data-outcome={e.outcome}>{e.outcome}</span> · {utc(e.occurredAt)}
        </p>
      </header>

      <section aria-labelledby="who" className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 id="who" className="text-lg font-semibold">
          Who
        </h2>
        <dl className="divide-y divide-slate-100">
          <Row label="Staff member">
            {e.actorStaffId ? (
              <>
                {staff ? (
                  <Link href={`/staff/${staff.id}`} className="text-sky-700 hover:underline">
                    {staff.displayName}
                  </Link>
                ) : (
                  <span className="text-slate-600">No longer in the staff list</span>
                )}
                <span className="block">{e.actorEmail}</span>
                {staff && staff.email !== e.actorEmail && (
                  <span className="block text-slate-600">Now {staff.email}</span>
                )}
                {staff && (
                  <span className="block text-slate-600">
                    Role now: {staff.role}, {staff.status}
                  </span>
                )}
                {mono(e.actorStaffId)}
              </>
            ) : (
              <span>{e.actorEmail ?? 'The portal itself'} (no staff session)</span>
            )}
          </Row>
          <Row label="Acting for">
            {e.actingOrgId ? (
              <>
                {e.actingOrgName ? (
                  <Link href={`/orgs/${e.actingOrgId}`} className="text-sky-700 hover:underline">
                    {e.actingOrgName}
                  </Link>
                ) : (
                  <span className="text-slate-600">Organisation no longer exists</span>
                )}
                <span className="block">{mono(e.actingOrgId)}</span>
              </>
            ) : (
              <span className="text-slate-600">No acting context</span>
            )}
          </Row>
          <Row label={e.actingContextId || !ac ? 'Acting context' : 'Acting context started'}>
            {contextId ? (
              <>
                {ac && (
                  <span className="block">
                    {ac.ticketRef}: {ac.reason} ({utc(ac.startedAt)} to {utc(ac.endedAt ?? ac.expiresAt)}
                    {ac.endedAt ? '' : ', planned'})
                  </span>
                )}
                <Link
                  href={`/audit?${new URLSearchParams({ context: contextId })}`}
                  className="text-sky-700 hover:underline"
                >
                  Every entry made in this context
                </Link>
                <span className="block">{mono(contextId)}</span>
              </>
            ) : (
              mono(null)
            )}
          </Row>
          <Row label="Organisation changed">
            {e.orgId ? (
              <>
                {e.orgName ? (
                  <Link href={`/orgs/${e.orgId}`} className="text-sky-700 hover:underline">
                    {e.orgName}
                  </Link>
                ) : (
                  <span className="text-slate-600">Organisation no longer exists</span>
                )}
                <span className="block">{mono(e.orgId)}</span>
              </>
            ) : (
              mono(null)
            )}
          </Row>
          <Row label="Target">{e.targetType ? mono(`${e.targetType} ${e.targetId ?? ''}`) : mono(null)}</Row>
          <Row label="From">
            {mono(e.srcIp)}
            <span className="block text-xs text-slate-600">{e.userAgent}</span>
          </Row>
          <Row label="Request id">{mono(e.requestId)}</Row>
        </dl>
      </section>

      <section aria-labelledby="change" className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 id="change" className="text-lg font-semibold">
          Change
        </h2>
        <DiffTable diff={e.diff} />
      </section>

      <section aria-labelledby="chain" className="rounded-lg border border-slate-200 bg-white p-4">
        <h2 id="chain" className="text-lg font-semibold">
          Chain
        </h2>
        <p className="text-sm text-slate-600">
          hmac = HMAC-SHA256(key[hmac_key_id], prev_hmac ‖ the entry&apos;s canonical JSON). The previous
          entry&apos;s hmac is this entry&apos;s prev_hmac.
        </p>
        <dl className="divide-y divide-slate-100">
          <Row label="hmac_key_id">{mono(e.hmacKeyId)}</Row>
          <Row label="prev_hmac">{mono(e.prevHmac)}</Row>
          <Row label="hmac">{mono(e.hmac)}</Row>
          <Row label="Entry id">{mono(e.id)}</Row>
        </dl>
        <p className="mt-3 text-sm text-slate-600">
          The entry is a leaf of the chain&apos;s Merkle tree. Its inclusion proof shows, against a signed
          checkpoint, that it is in the chain; anyone can check it with the checkpoint public key alone (
          <code>npm run audit:verify -- --proof FILE --checkpoint-pubkey KEY</code>).
        </p>
        <a href={`/api/audit/proof/download?seq=${e.seq}`} download className={`${LINK} mt-2 inline-block`}>
          Inclusion proof
        </a>
      </section>
    </article>
  );
}
