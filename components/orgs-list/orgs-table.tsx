import Link from 'next/link';
import { TIER_LABELS } from '@/lib/plans';
import type { OrgListRow } from '@/lib/queries/orgs';
import { mfaLabel, usageLabel } from './labels';

/** One page of organisations with their effective MFA policy and this month's usage against quota. */
export function OrgsTable({ rows }: { rows: OrgListRow[] }) {
  return (
    <table className="w-full border-collapse text-left text-sm">
      <caption className="sr-only">Organisations, by name</caption>
      <thead className="border-b border-slate-200 text-slate-500">
        <tr>
          <th scope="col" className="py-2 pr-4 font-medium">
            Name
          </th>
          <th scope="col" className="py-2 pr-4 font-medium">
            Slug
          </th>
          <th scope="col" className="py-2 pr-4 font-medium">
            Tier
          </th>
          <th scope="col" className="py-2 pr-4 font-medium">
            Status
          </th>
          <th scope="col" className="py-2 pr-4 font-medium">
            Effective MFA
          </th>
          <th scope="col" className="py-2 text-right font-medium">
            Requests this month / quota
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((o) => (
          <tr
            key={o.id}
            data-org-id={o.id}
            data-over-quota={o.overQuota || undefined}
            className="border-b border-slate-100 align-top"
          >
            <td className="py-2 pr-4">
              <Link href={`/orgs/${o.id}`} className="text-sky-700 hover:underline">
                {o.name}
              </Link>
            </td>
            <td className="py-2 pr-4 font-mono text-xs">{o.slug}</td>
            <td className="py-2 pr-4" data-tier={o.planTier}>
              {TIER_LABELS[o.planTier]}
            </td>
            <td className="py-2 pr-4">
              {o.status === 'suspended' ? (
                <span className="rounded bg-red-100 px-1.5 py-0.5 text-xs font-medium text-red-800">
                  Suspended
                </span>
              ) : (
                'Active'
              )}
            </td>
            <td className="py-2 pr-4">
              {mfaLabel(o.mfaRequired, o.mfaMethods)}
              <span className="block text-xs text-slate-500">
                {o.mfaSource === 'org' ? 'organisation override' : 'tier default'}
              </span>
            </td>
            <td
              className={`py-2 text-right whitespace-nowrap tabular-nums ${o.overQuota ? 'font-semibold text-red-700' : ''}`}
            >
              {usageLabel(o.requests, o.quota)}
              {o.overQuota && <span className="block text-xs">over quota</span>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
