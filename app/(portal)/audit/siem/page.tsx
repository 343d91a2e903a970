import type { Metadata } from 'next';
import Link from 'next/link';
import type { ReactNode } from 'react';
import { Alert } from '@/components/ui/alert';
import { requireStaffPage } from '@/lib/auth/current';
import { ago, num, utc } from '@/lib/format';
import { siemStatus } from '@/lib/queries/siem';

export const metadata: Metadata = { title: 'SIEM delivery' };

function Row({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="grid grid-cols-1 gap-1 py-2 sm:grid-cols-3">
      <dt className="text-sm font-medium text-slate-600">{label}</dt>
      <dd className="text-sm sm:col-span-2">{children}</dd>
    </div>
  );
}

/** Where the audit chain's delivery to Splunk stands: the cursor, the lag, the last error and success. */
export default async function SiemPage() {
  const ctx = await requireStaffPage('audit.read');
  const s = await siemStatus(ctx);
  const now = new Date();
  const state = !s.destination
    ? null
    : s.lastError
      ? 'failing'
      : s.lagEntries === 0
        ? 'caught up'
        : 'delivering';
  return (
    <section className="space-y-4">
      <nav aria-label="Audit" className="text-sm">
        <Link href="/audit" className="text-sky-700 hover:underline">
          Audit log
        </Link>
      </nav>
      <h1 className="text-2xl font-semibold">SIEM delivery</h1>
      <p className="text-sm text-slate-600">
        Every audit entry goes to Splunk as an OCSF event (sourcetype <code>arbitex:ocsf</code>), in seq
        order, once. The cursor moves only when Splunk has accepted a batch.
      </p>
      {!s.destination ? (
        <Alert tone="info">
          SIEM delivery is off: SPLUNK_HEC_URL is not set.{' '}
          {s.deliveredSeq > 0 && `Delivered up to entry ${num(s.deliveredSeq)} before.`}
        </Alert>
      ) : s.problem ? (
        <Alert tone="error">Delivery cannot start: {s.problem}</Alert>
      ) : state === 'failing' ? (
        <Alert tone="error">
          Delivery is failing ({s.failures} {s.failures === 1 ? 'attempt' : 'attempts'} in a row):{' '}
          {s.lastError}
        </Alert>
      ) : state === 'caught up' ? (
        <Alert tone="success">Caught up: every entry has been delivered.</Alert>
      ) : (
        <Alert tone="info">Delivering: {num(s.lagEntries)} entries to go.</Alert>
      )}
      <dl
        className="divide-y divide-slate-100 rounded-lg border border-slate-200 bg-white px-4"
        data-testid="siem-status"
      >
        <Row label="Destination">
          <span className="font-mono text-xs break-all">{s.destination ?? '—'}</span>
        </Row>
        <Row label="Delivered up to">
          {s.deliveredSeq > 0 ? (
            <Link
              href={`/audit/${s.deliveredSeq}`}
              className="text-sky-700 hover:underline"
              data-delivered-seq={s.deliveredSeq}
            >
              Entry {num(s.deliveredSeq)}
            </Link>
          ) : (
            'Nothing yet'
          )}
        </Row>
        <Row label="Lag">
          <span data-lag={s.lagEntries}>
            {num(s.lagEntries)} {s.lagEntries === 1 ? 'entry' : 'entries'} of {num(s.headSeq)}
          </span>
          {s.oldestPendingAt && (
            <span className="block text-slate-600">
              oldest waiting since {utc(s.oldestPendingAt)} ({ago(s.oldestPendingAt, now)})
            </span>
          )}
        </Row>
        <Row label="Last success">
          {s.lastSuccessAt ? `${utc(s.lastSuccessAt)} (${ago(s.lastSuccessAt, now)})` : 'never'}
        </Row>
        <Row label="Last error">
          {s.lastError ? (
            <>
              <span className="block font-mono text-xs break-all">{s.lastError}</span>
              <span className="block text-slate-600">
                {utc(s.lastErrorAt)}
                {s.nextAttemptAt && `; next attempt ${utc(s.nextAttemptAt)}`}
              </span>
            </>
          ) : (
            'none'
          )}
        </Row>
        <Row label="Delivering replica">
          {s.leaseOwner ? (
            <>
              <span className="font-mono text-xs">{s.leaseOwner}</span>
              <span className="block text-slate-600">lease until {utc(s.leaseUntil)}</span>
            </>
          ) : (
            'none at the moment'
          )}
        </Row>
      </dl>
    </section>
  );
}
