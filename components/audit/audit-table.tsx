import Link from 'next/link';
import { utc } from '@/lib/format';
import type { AuditRow } from '@/lib/queries/audit';

const OUTCOME_STYLE = {
  success: 'text-slate-700',
  denied: 'font-medium text-amber-800',
  failure: 'font-medium text-red-700',
};

/**
 * One page of audit entries. Columns: seq (a link to the entry), time, action, outcome, staff, acting for,
 * target, details (the entry's redacted diff as JSON).
 */
export function AuditTable({ rows }: { rows: AuditRow[] }) {
  return (
    <div className="overflow-x-auto">
      <table className="w-full border-collapse text-left text-sm">
        <caption className="sr-only">Audit entries, newest first</caption>
        <thead className="border-b border-slate-200 text-slate-500">
          <tr>
            {['Seq', 'Time (UTC)', 'Action', 'Outcome', 'Staff', 'Acting for', 'Target', 'Details'].map(
              (h) => (
                <th key={h} scope="col" className="py-2 pr-3 font-medium whitespace-nowrap">
                  {h}
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>
          {rows.map((e) => (
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
              <td className="py-2 pr-3 font-mono text-xs">{e.action}</td>
              <td className={`py-2 pr-3 ${OUTCOME_STYLE[e.outcome]}`}>{e.outcome}</td>
              <td className="py-2 pr-3">{e.actorEmail ?? '—'}</td>
              <td className="py-2 pr-3" data-acting-org-id={e.actingOrgId ?? undefined}>
                {e.actingOrgId ? (
                  <>
                    {e.actingOrgName && <span className="block">{e.actingOrgName}</span>}
                    <span className="block font-mono text-xs text-slate-600">{e.actingOrgId}</span>
                  </>
                ) : (
                  '—'
                )}
              </td>
              <td className="py-2 pr-3 font-mono text-xs break-all">
                {e.targetType ? `${e.targetType} ${e.targetId ?? ''}` : '—'}
              </td>
              <td className="max-w-md py-2 font-mono text-xs break-all">
                {e.diff ? JSON.stringify(e.diff) : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
