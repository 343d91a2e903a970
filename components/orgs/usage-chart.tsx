import { num, shareOf, utcMonth } from '@/lib/format';

export interface UsageMonth {
  /** The first day of the month, `YYYY-MM-01`. */
  month: string;
  requests: number | null;
  tokens: number | null;
}

/** The last twelve months, oldest first, with the months the platform has no figures for left empty. */
export function lastTwelveMonths(
  rows: Array<{ month: string; requests: number; tokens: number }>,
  now = new Date(),
): UsageMonth[] {
  const byMonth = new Map(rows.map((r) => [r.month, r]));
  return Array.from({ length: 12 }, (_, i) => {
    const month = `${utcMonth(new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 11 + i, 1)))}-01`;
    const row = byMonth.get(month);
    return { month, requests: row?.requests ?? null, tokens: row?.tokens ?? null };
  });
}

const W = 480;
const H = 140;
const BOTTOM = 18;

/** Twelve bars in plain SVG; a dashed line marks the quota, and bars above it are red. */
function BarChart(props: { title: string; values: Array<number | null>; labels: string[]; quota?: number }) {
  const top = Math.max(props.quota ?? 0, ...props.values.map((v) => v ?? 0), 1) * 1.1;
  const y = (v: number) => (H - BOTTOM) * (1 - v / top);
  const slot = W / props.values.length;
  return (
    <figure className="min-w-0 flex-1">
      <figcaption className="mb-1 text-xs font-medium text-slate-600">{props.title}</figcaption>
      <svg
        viewBox={`0 0 ${W} ${H}`}
        className="h-36 w-full"
        role="img"
        aria-label={`${props.title}, by month`}
      >
        {props.values.map((v, i) =>
          v === null ? null : (
            <rect
              key={i}
              x={i * slot + slot * 0.15}
              y={y(v)}
              width={slot * 0.7}
              height={H - BOTTOM - y(v)}
              className={props.quota !== undefined && v > props.quota ? 'fill-red-600' : 'fill-slate-500'}
            />
          ),
        )}
        {props.quota !== undefined && (
          <>
            <line
              x1={0}
              x2={W}
              y1={y(props.quota)}
              y2={y(props.quota)}
              className="stroke-amber-600"
              strokeDasharray="6 4"
              strokeWidth={1.5}
            />
            <text x={W - 4} y={y(props.quota) - 4} textAnchor="end" className="fill-amber-700 text-[11px]">
              quota {num(props.quota)}
            </text>
          </>
        )}
        {props.labels.map((l, i) => (
          <text
            key={l}
            x={i * slot + slot / 2}
            y={H - 4}
            textAnchor="middle"
            className="fill-slate-500 text-[9px]"
          >
            {l}
          </text>
        ))}
      </svg>
    </figure>
  );
}

/** Requests and tokens of the last twelve months against the effective monthly request quota. */
export function UsageChart({ months, quota }: { months: UsageMonth[]; quota: number }) {
  const labels = months.map((m) => m.month.slice(0, 7));
  const last = months.length - 1;
  return (
    <div className="space-y-4">
      <div className="flex flex-col gap-4 sm:flex-row">
        <BarChart title="Requests" values={months.map((m) => m.requests)} labels={labels} quota={quota} />
        <BarChart title="Tokens" values={months.map((m) => m.tokens)} labels={labels} />
      </div>
      <table className="w-full border-collapse text-left text-sm">
        <caption className="mb-1 text-left text-xs text-slate-500">
          Against today’s effective monthly quota of {num(quota)} requests. Months over the quota are marked.
        </caption>
        <thead className="border-b border-slate-200 text-slate-500">
          <tr>
            <th className="py-1 pr-3 font-medium">Month</th>
            <th className="py-1 pr-3 text-right font-medium">Requests</th>
            <th className="py-1 pr-3 text-right font-medium">Tokens</th>
            <th className="py-1 text-right font-medium">Of quota</th>
          </tr>
        </thead>
        <tbody>
          {months.map((m, i) => {
            const over = m.requests !== null && m.requests > quota;
            return (
              <tr
                key={m.month}
                className={`border-b border-slate-100 ${over ? 'bg-red-50 text-red-900' : ''}`}
                data-over-quota={over || undefined}
              >
                <th scope="row" className="py-1 pr-3 font-normal">
                  {m.month.slice(0, 7)}
                  {i === last && <span className="text-slate-500"> (to date)</span>}
                </th>
                <td className="py-1 pr-3 text-right tabular-nums">
                  {m.requests === null ? 'no data' : num(m.requests)}
                </td>
                <td className="py-1 pr-3 text-right tabular-nums">
                  {m.tokens === null ? 'no data' : num(m.tokens)}
                </td>
                <td className="py-1 text-right tabular-nums">
                  {m.requests === null ? '—' : shareOf(m.requests, quota)}
                  {over && <span className="ml-1 font-semibold">over quota</span>}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
