import type { Metadata } from 'next';
import Link from 'next/link';
import { Alert } from '@/components/ui/alert';
import { requireStaffPage } from '@/lib/auth/current';
import { ValidationError } from '@/lib/errors';
import { auditEntries } from '@/lib/queries/audit';
import { utc } from '@/lib/format';

export const metadata: Metadata = { title: 'Audit log' };

export default async function AuditPage({ searchParams }: { searchParams: Promise<Record<string, string>> }) {
  const ctx = await requireStaffPage('audit.read');
  const filter = await searchParams;
  const entries = await auditEntries(ctx, filter).catch((err: unknown) => {
    if (err instanceof ValidationError) return err;
    throw err;
  });
  if (entries instanceof ValidationError) {
    return (
      <section className="space-y-4">
        <h1 className="text-2xl font-semibold">Audit log</h1>
        <Alert tone="error">The filter is not valid: {entries.message}</Alert>
      </section>
    );
  }
  const last = entries.at(-1);
  return (
    <section className="space-y-4">
      <h1 className="text-2xl font-semibold">Audit log</h1>
      <p className="text-sm text-slate-600">
        Newest first. Every write in the portal has one entry here, chained with HMAC.
      </p>
      <table className="w-full border-collapse text-left text-sm">
        <thead className="border-b border-slate-200 text-slate-500">
          <tr>
            <th className="py-2 pr-3 font-medium">Seq</th>
            <th className="py-2 pr-3 font-medium">Time (UTC)</th>
            <th className="py-2 pr-3 font-medium">Action</th>
            <th className="py-2 pr-3 font-medium">Outcome</th>
            <th className="py-2 pr-3 font-medium">Staff</th>
            <th className="py-2 pr-3 font-medium">Acting for</th>
            <th className="py-2 pr-3 font-medium">Target</th>
            <th className="py-2 font-medium">Details</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.seq} className="border-b border-slate-100 align-top" data-action={e.action}>
              <td className="py-2 pr-3 font-mono text-xs">{e.seq}</td>
              <td className="py-2 pr-3 whitespace-nowrap">{utc(e.occurredAt)}</td>
              <td className="py-2 pr-3 font-mono text-xs">{e.action}</td>
              <td className="py-2 pr-3">{e.outcome}</td>
              <td className="py-2 pr-3">{e.actorEmail ?? '—'}</td>
              <td className="py-2 pr-3 font-mono text-xs">{e.actingOrgId ?? '—'}</td>
              <td className="py-2 pr-3 font-mono text-xs break-all">
                {e.targetType ? `${e.targetType} ${e.targetId ?? ''}` : '—'}
              </td>
              <td className="py-2 font-mono text-xs break-all">{e.diff ? JSON.stringify(e.diff) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {last && entries.length === 50 && (
        <Link
          href={`/audit?${new URLSearchParams({ ...filter, before: String(last.seq) })}`}
          className="text-sm text-sky-700 hover:underline"
        >
          Older entries
        </Link>
      )}
    </section>
  );
}
