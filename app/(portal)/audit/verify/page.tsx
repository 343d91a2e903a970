import type { Metadata } from 'next';
import { VerifyPanel } from '@/components/audit-chain/verify-panel';
import { requireStaffPage } from '@/lib/auth/current';
import { num, utc } from '@/lib/format';
import { chainHead, recentVerifyRuns } from '@/lib/queries/audit-chain';
import { EmptyState } from '@/components/ui/empty-state';

export const metadata: Metadata = { title: 'Verify the audit chain' };

const STATUS: Record<string, string> = {
  running: 'running',
  valid: 'valid',
  broken: 'BROKEN',
  failed: 'failed',
  interrupted: 'interrupted',
};

export default async function VerifyPage() {
  const ctx = await requireStaffPage('audit.verify');
  const [head, runs] = await Promise.all([chainHead(ctx), recentVerifyRuns(ctx)]);
  return (
    <section className="space-y-6">
      <h1 className="text-2xl font-semibold">Verify the audit chain</h1>
      <p className="text-sm text-slate-600">
        Checks every entry&apos;s HMAC, its seq and its link to the entry before it, then the chain against
        the newest signed checkpoints, so that a modified, deleted, inserted or reordered entry, an unknown
        key, a truncated tail or a rollback is found, with the first broken seq.
      </p>
      <VerifyPanel head={head} />
      <section aria-labelledby="runs-title" className="space-y-2">
        <h2 id="runs-title" className="font-semibold">
          Recent verifications
        </h2>
        {runs.length === 0 ? (
          <EmptyState compact>No verification has run yet.</EmptyState>
        ) : (
          <table className="w-full border-collapse text-left text-sm">
            <thead className="border-b border-slate-200 text-slate-500">
              <tr>
                <th className="py-2 pr-3 font-medium">Started (UTC)</th>
                <th className="py-2 pr-3 font-medium">By</th>
                <th className="py-2 pr-3 font-medium">Range</th>
                <th className="py-2 pr-3 font-medium">Checked</th>
                <th className="py-2 pr-3 font-medium">Verdict</th>
                <th className="py-2 font-medium">Detail</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => (
                <tr key={r.id} className="border-b border-slate-100 align-top" data-run-status={r.status}>
                  <td className="py-2 pr-3 whitespace-nowrap">{utc(r.startedAt)}</td>
                  <td className="py-2 pr-3">
                    {r.requestedEmail}
                    {r.source === 'cli' ? ' (command line)' : ''}
                  </td>
                  <td className="py-2 pr-3 font-mono text-xs">
                    {num(r.fromSeq)}–{num(r.toSeq)}
                  </td>
                  <td className="py-2 pr-3">{num(r.checked)}</td>
                  <td className="py-2 pr-3 font-medium">{STATUS[r.status]}</td>
                  <td className="py-2 text-xs">
                    {r.status === 'broken'
                      ? `seq ${String(r.result?.firstBadSeq)} (${String(r.result?.kind)}): ${String(r.result?.detail)}`
                      : r.status === 'failed'
                        ? String(r.result?.error ?? '')
                        : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </section>
  );
}
