import Link from 'next/link';
import type { ReactNode } from 'react';
import { TIER_LABELS } from '@/lib/plans';
import type { OrgListRow, OrgSort } from '@/lib/queries/orgs';
import { mfaLabel, usageLabel } from './labels';
import { TableFrame } from '@/components/ui/table-frame';

const CAPTION: Record<OrgSort, string> = {
  name: 'Organisations, by name',
  tier: 'Organisations, by plan tier, then name',
  usage: "Organisations, by this month's requests, most first",
};

/** A column header that sorts the list by it: a link keeping the search (and dropping the page cursor). */
function SortHeader(props: {
  sort: OrgSort;
  current: OrgSort;
  search: Record<string, string>;
  direction: 'ascending' | 'descending';
  className?: string;
  children: ReactNode;
}) {
  const here = props.sort === props.current;
  const params = new URLSearchParams({ ...props.search, sort: props.sort });
  if (props.sort === 'name') params.delete('sort');
  return (
    <th
      scope="col"
      aria-sort={here ? props.direction : undefined}
      className={`py-2 pr-3 font-medium ${props.className ?? ''}`}
    >
      <Link
        href={`/orgs?${params}`}
        className={`hover:underline ${here ? 'text-slate-900' : 'text-slate-500'}`}
        aria-label={`${props.children as string}, sort by ${props.sort === 'usage' ? 'most requests first' : props.sort}`}
      >
        {props.children}
        <span aria-hidden="true" className="ml-1 text-xs">
          {here ? (props.direction === 'ascending' ? '▲' : '▼') : '↕'}
        </span>
      </Link>
    </th>
  );
}

/**
 * One page of organisations with their effective MFA policy and this month's usage against quota, a row a
 * line: long names and slugs are cut short (the whole in their title), a suspension is a badge by the name.
 */
export function OrgsTable({
  rows,
  sort,
  search,
}: {
  rows: OrgListRow[];
  sort: OrgSort;
  search: Record<string, string>;
}) {
  const header = { current: sort, search };
  return (
    <TableFrame>
      <table className="w-full min-w-[64rem] table-fixed border-collapse text-left text-sm whitespace-nowrap">
        <caption className="sr-only">{CAPTION[sort]}</caption>
        <thead className="border-b border-slate-200 bg-slate-50 text-slate-500">
          <tr>
            <SortHeader sort="name" direction="ascending" className="w-[24%] pl-4" {...header}>
              Name
            </SortHeader>
            <th scope="col" className="w-[15%] py-2 pr-3 font-medium">
              Slug
            </th>
            <SortHeader sort="tier" direction="ascending" className="w-[13%]" {...header}>
              Tier
            </SortHeader>
            <th scope="col" className="w-[19%] py-2 pr-3 font-medium">
              Effective MFA
            </th>
            <SortHeader sort="usage" direction="descending" className="w-[29%] pr-4 text-right" {...header}>
              Requests / quota this month
            </SortHeader>
          </tr>
        </thead>
        <tbody>
          {rows.map((o) => (
            <tr
              key={o.id}
              data-org-id={o.id}
              data-over-quota={o.overQuota || undefined}
              className="border-b border-slate-100"
            >
              <td className="truncate py-2 pr-3 pl-4" title={o.name}>
                {o.status === 'suspended' && (
                  <span className="mr-2 rounded bg-red-100 px-1.5 py-0.5 text-xs font-medium text-red-800">
                    Suspended
                  </span>
                )}
                <Link href={`/orgs/${o.id}`} className="text-sky-700 hover:underline">
                  {o.name}
                </Link>
              </td>
              <td className="truncate py-2 pr-3 font-mono text-xs" title={o.slug}>
                {o.slug}
              </td>
              <td className="truncate py-2 pr-3" data-tier={o.planTier}>
                {TIER_LABELS[o.planTier]}
              </td>
              <td className="truncate py-2 pr-3">
                {mfaLabel(o.mfaRequired, o.mfaMethods)}
                {o.mfaSource === 'org' && (
                  <span
                    className="ml-1.5 rounded bg-slate-100 px-1 py-0.5 text-xs text-slate-600"
                    title="The organisation's own policy, not its tier's default"
                  >
                    own
                  </span>
                )}
              </td>
              <td
                data-requests={o.requests ?? ''}
                className={`truncate py-2 pr-4 text-right tabular-nums ${o.overQuota ? 'font-semibold text-red-700' : ''}`}
              >
                {o.overQuota && (
                  <span className="mr-1.5 rounded bg-red-100 px-1 py-0.5 text-xs font-medium text-red-800">
                    over
                    <span className="sr-only"> quota</span>
                  </span>
                )}
                {usageLabel(o.requests, o.quota)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableFrame>
  );
}
