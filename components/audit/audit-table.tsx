import Link from 'next/link';
import { DiffTable } from '@/components/audit/diff-table';
import { ShortId } from '@/components/ui/short-id';
import { diffSummary } from '@/lib/audit/summary';
import { utc } from '@/lib/format';
import type { AuditRow } from '@/lib/queries/audit';

const OUTCOME_STYLE = {
  success: 'text-slate-700',
  denied: 'font-medium text-amber-800',
  failure: 'font-medium text-red-700',
};

/**
 * One page of audit entries, one line each. Columns: seq (a link to the entry), time, action, outcome,
 * staff, acting for, target (short ids with copy buttons), change: a one-line summary of the diff
 * (`plan_tier team_saas → enterprise_saas`) that expands to the entry's before/after table and its full
 * redacted diff as JSON.
 */
export function AuditTable({ rows }: { rows: AuditRow[] }) {
  return (
    <div className="overflow-x-auto">
      <table className="w-full border-collapse text-left text-sm">
        <caption className="sr-only">Audit entries, newest first</caption>
        <thead className="border-b border-slate-200 text-slate-500">
          <tr>
            {['Seq', 'Time (UTC)', 'Action', 'Outcome', 'Staff', 'Acting for', 'Target', 'Change'].map(
              (h) => (
                <th key={h} scope="col" className="py-2 pr-3 font-medium whitespace-nowrap">
                  {h}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((e) => {
            const summary = diffSummary(e.diff);
            return (
              <tr
                key={e.seq}
                className="border-b border-slate-100 align-top"
                data-action={e.action}
                data-seq={e.seq}
              >
                <td className="py-2 pr-3 font-mono text-xs">
                  <Link
                    href={`/audit/${e.seq}`}
                    className="text-sky-700 hover:underline"
                    aria-label={`Entry ${e.seq}`}
                  >
                    {e.seq}
                  </Link>
                </td>
                <td className="py-2 pr-3 whitespace-nowrap">{utc(e.occurredAt)}</td>
                <td className="py-2 pr-3 font-mono text-xs whitespace-nowrap">{e.action}</td>
                <td className={`py-2 pr-3 ${OUTCOME_STYLE[e.outcome]}`}>{e.outcome}</td>
                <td className="py-2 pr-3 whitespace-nowrap">{e.actorEmail ?? '—'}</td>
                <td className="py-2 pr-3 whitespace-nowrap" data-acting-org-id={e.actingOrgId ?? undefined}>
                  {e.actingOrgId ? (
                    <>
                      {e.actingOrgName && <span>{e.actingOrgName}</span>}{' '}
                      <ShortId id={e.actingOrgId} label={`organisation id of entry ${e.seq}`} />
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td className="py-2 pr-3 whitespace-nowrap">
                  {e.targetType ? (
                    <>
                      <span className="font-mono text-xs">{e.targetType}</span>{' '}
                      {e.targetId && <ShortId id={e.targetId} label={`target id of entry ${e.seq}`} />}
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td className="min-w-64 py-2">
                  {e.diff ? (
                    <details className="group" data-testid="audit-change">
                      <summary className="cursor-pointer text-xs marker:text-slate-400">
                        <span className="font-mono">{summary || 'details'}</span>
                        <span className="sr-only"> (show the before and after values)</span>
                      </summary>
                      <div className="mt-2 max-w-3xl rounded border border-slate-200 bg-slate-50 p-2">
                        <DiffTable diff={e.diff} />
                        <p className="mt-2 text-xs font-medium text-slate-600">Recorded diff (redacted)</p>
                        <pre className="font-mono text-xs break-all whitespace-pre-wrap" data-diff-json>
                          {JSON.stringify(e.diff)}
                        </pre>
                      </div>
                    </details>
                  ) : (
                    <span className="text-xs text-slate-500">no change recorded</span>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
