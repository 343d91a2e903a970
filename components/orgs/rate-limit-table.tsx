import { num } from '@/lib/format';
import type { Source } from '@/lib/queries/org-config';
import { LIMIT_KEYS, LIMIT_LABELS, type LimitKey, type Limits } from '@/lib/rate-limits';

const SOURCE_LABELS: Record<Source, string> = {
  tier: 'plan tier',
  org: 'organisation',
  override: 'override',
};

/** Each limit: the tier default, the organisation's value, the override in force, and what applies. */
export function RateLimitTable(props: {
  tier: Limits;
  org: Limits | null;
  override: Limits | null;
  effective: Record<LimitKey, { value: number; source: Source }>;
}) {
  const cell = (v: number | null | undefined) =>
    v === null || v === undefined ? (
      <span className="text-slate-500">
        <span aria-hidden="true">—</span>
        <span className="sr-only">not set</span>
      </span>
    ) : (
      num(v)
    );
  return (
    <table className="w-full border-collapse text-left text-sm">
      <thead className="border-b border-slate-200 text-slate-500">
        <tr>
          <th className="py-1 pr-3 font-medium">Limit</th>
          <th className="py-1 pr-3 text-right font-medium">Tier default</th>
          <th className="py-1 pr-3 text-right font-medium">Organisation</th>
          <th className="py-1 pr-3 text-right font-medium">Override</th>
          <th className="py-1 text-right font-medium">Effective</th>
        </tr>
      </thead>
      <tbody>
        {LIMIT_KEYS.map((k) => {
          const { value, source } = props.effective[k];
          return (
            <tr key={k} className="border-b border-slate-100" data-limit={k}>
              <th scope="row" className="py-1 pr-3 font-normal">
                {LIMIT_LABELS[k]}
              </th>
              <td className="py-1 pr-3 text-right tabular-nums">{cell(props.tier[k])}</td>
              <td className="py-1 pr-3 text-right tabular-nums">{cell(props.org?.[k])}</td>
              <td className="py-1 pr-3 text-right tabular-nums">{cell(props.override?.[k])}</td>
              <td className="py-1 text-right tabular-nums" data-testid={`effective-${k}`}>
                <span className={value === 0 ? 'font-semibold text-red-700' : 'font-semibold'}>
                  {value === 0 ? '0 (blocked)' : num(value)}
                </span>{' '}
                <span className="text-xs text-slate-500">from the {SOURCE_LABELS[source]}</span>
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
