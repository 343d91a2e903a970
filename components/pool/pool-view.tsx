'use client';

import { useQuery } from '@tanstack/react-query';
import { type ReactNode, useEffect, useState } from 'react';
import { type ApiError, apiGet } from '@/components/api';
import { Chart } from '@/components/pool/chart';
import {
  age,
  burn,
  celsius,
  clock,
  count,
  decimal,
  gib,
  ms,
  NOT_REPORTED,
  percent,
  perSecond,
  share,
  utc,
  watts,
} from '@/lib/format';
import { Alert } from '@/components/ui/alert';
import { Button } from '@/components/ui/button';
import { LATENCY_OBJECTIVE, WINDOW_WORDS } from '@/lib/pool/burn';
import Link from 'next/link';
import type { PoolCharts, PoolMark } from '@/lib/pool';
import type { PoolSnapshot, SourceId } from '@/lib/pool/snapshot';
import { EmptyState } from '@/components/ui/empty-state';

type Range = '1h' | '24h';

/**
 * The live part of /pool: the figures from /api/pool and the charts from /api/pool/history, polled
 * with TanStack Query every `refreshS` seconds (pausable). When Prometheus fails, the error names its
 * URL, and the last good figures stay only under a banner that marks them stale.
 */
export function PoolView(props: { refreshS: number; prometheusUrl: string }) {
  const [paused, setPaused] = useState(false);
  const [range, setRange] = useState<Range>('1h');
  const now = useNow();
  const interval = paused ? false : props.refreshS * 1000;
  const snapshot = useQuery<PoolSnapshot, ApiError>({
    queryKey: ['pool', 'snapshot'],
    queryFn: () => apiGet<PoolSnapshot>('/api/pool'),
    refetchInterval: interval,
    retry: false,
  });
  const history = useQuery<PoolCharts, ApiError>({
    queryKey: ['pool', 'history', range],
    queryFn: () => apiGet<PoolCharts>(`/api/pool/history/${range}`),
    refetchInterval: interval,
    retry: false,
  });

  const data = snapshot.data;
  const stale = snapshot.isError && data !== undefined;
  const refresh = () => {
    void snapshot.refetch();
    void history.refetch();
  };

  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-center gap-x-4 gap-y-2 rounded-md border border-slate-200 bg-white px-4 py-2 text-sm">
        <p data-testid="as-of">
          {data ? (
            <>
              As of <time dateTime={data.asOf}>{clock(data.asOf)}</time>{' '}
              <span className="text-slate-600">({age(now - Date.parse(data.asOf))} ago)</span>
              {oldest(data) !== null && (
                <span className="font-medium text-amber-900" data-testid="oldest-sample">
                  {' '}
                  · some samples are {age(oldest(data)! * 1000)} old (stale)
                </span>
              )}
            </>
          ) : snapshot.isPending ? (
            'Loading the first figures…'
          ) : (
            'No figures yet'
          )}
        </p>
        <p className="text-slate-600" role="status">
          {paused ? 'Auto-refresh paused' : `Refreshes every ${props.refreshS} s`}
          {snapshot.isFetching ? ' · refreshing…' : ''}
        </p>
        <div className="ml-auto flex gap-2">
          <Button variant="secondary" onClick={() => setPaused((p) => !p)} aria-pressed={paused}>
            {paused ? 'Resume auto-refresh' : 'Pause auto-refresh'}
          </Button>
          <Button variant="secondary" onClick={refresh} disabled={snapshot.isFetching}>
            Refresh now
          </Button>
        </div>
      </div>

      {snapshot.error && (
        <Alert tone="error">
          <p className="font-medium" data-testid="pool-error">
            {snapshot.error.message}
          </p>
          <p>
            {stale
              ? `The figures below are stale: they are the last good ones, from ${clock(data.asOf)} (${age(now - Date.parse(data.asOf))} ago).`
              : `No figures could be read from ${props.prometheusUrl}.`}{' '}
            {paused ? 'Auto-refresh is paused.' : `Trying again every ${props.refreshS} s.`}
          </p>
        </Alert>
      )}

      {data?.demo && (
        <Alert tone="info">
          <strong>Demo data.</strong> These figures come from this project&rsquo;s fixture exporters
          (e2e/fixtures/metrics), not from a real GPU pool.
        </Alert>
      )}

      {data && (
        <div
          className={`space-y-5 ${stale ? 'rounded-lg outline-2 outline-offset-4 outline-red-700 outline-dashed' : ''}`}
          data-testid="pool-figures"
          data-stale={stale}
        >
          <Alerts s={data} stale={stale} />
          <Summary s={data} stale={stale} />
          <Charts range={range} setRange={setRange} history={history.data} error={history.error} />
          <LatencyPanel s={data} />
          <ScrapeHealth s={data} />
          <NodesTable s={data} />
          <GpusTable s={data} />
          <GpuHealthTable s={data} />
          <XidTable s={data} />
          <Breakdowns s={data} />
        </div>
      )}
    </div>
  );
}

/** The age in seconds of the oldest stale input, or null when every input is fresh. */
function oldest(s: PoolSnapshot): number | null {
  const ages = s.sources.filter((x) => x.state === 'stale').map((x) => x.oldestAgeS ?? 0);
  return ages.length ? Math.max(...ages) : null;
}

/** Whether a source's figures are stale (some sample older than the limit). */
function sourceStale(s: PoolSnapshot, id: SourceId): boolean {
  return s.sources.some((x) => x.id === id && x.state === 'stale');
}

/** The current time, every second, for the "N s ago" texts. */
function useNow(): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function Panel(props: {
  id: string;
  title: string;
  stale?: boolean;
  children: ReactNode;
  aside?: ReactNode;
}) {
  return (
    <section aria-labelledby={`pool-${props.id}`} className="rounded-lg border border-slate-200 bg-white p-4">
      <div className="mb-3 flex flex-wrap items-baseline justify-between gap-2">
        <h2 id={`pool-${props.id}`} className="font-semibold">
          {props.title}
          {props.stale && (
            <>
              {' '}
              <span className="text-xs font-medium text-red-800">(stale)</span>
            </>
          )}
        </h2>
        {props.aside}
      </div>
      {props.children}
    </section>
  );
}

function Alerts({ s, stale }: { s: PoolSnapshot; stale: boolean }) {
  const { alerts, unknown } = s;
  return (
    <section aria-labelledby="pool-alerts" className="space-y-2">
      <h2 id="pool-alerts" className="sr-only">
        Alerts{stale ? ' (stale)' : ''}
      </h2>
      {alerts.length === 0 && unknown.length === 0 && (
        <p
          className="inline-block rounded-full bg-emerald-700 px-3 py-1 text-sm font-medium text-white"
          data-testid="no-alerts"
        >
          No alerts
        </p>
      )}
      {alerts.length === 0 && unknown.length > 0 && (
        <p
          className="inline-block rounded-full bg-amber-800 px-3 py-1 text-sm font-medium text-white"
          data-testid="cannot-tell"
        >
          No alert fires, but {unknown.length === 1 ? '1 alert' : `${unknown.length} alerts`} cannot be
          evaluated
        </p>
      )}
      {unknown.length > 0 && (
        <ul className="grid gap-2 md:grid-cols-2" aria-label="Alerts that cannot be evaluated">
          {unknown.map((u) => (
            <li
              key={u.id}
              data-alert-unknown={u.id}
              className="rounded-md border-l-4 border-amber-700 bg-amber-50 px-3 py-2 text-sm text-amber-950"
            >
              <span className="mr-2 rounded bg-amber-800 px-2 py-0.5 text-xs font-semibold tracking-wide text-white uppercase">
                Cannot tell
              </span>
              <strong>{u.title}</strong>
              <p className="mt-1">{u.reason}</p>
            </li>
          ))}
        </ul>
      )}
      {alerts.length > 0 && (
        <ul className="grid gap-2 md:grid-cols-2" aria-label="Alerts">
          {alerts.map((a) => (
            <li
              key={a.id}
              data-alert={a.id}
              className="rounded-md border-l-4 border-red-700 bg-red-50 px-3 py-2 text-sm text-red-950"
            >
              <span className="mr-2 rounded bg-red-700 px-2 py-0.5 text-xs font-semibold tracking-wide text-white uppercase">
                Alert
              </span>
              <strong>{a.title}</strong>
              <p className="mt-1">{a.detail}</p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** One figure: its name, and its value as text (or "not reported", set in grey italics). */
function Figure(props: { name: string; metric: string; value: string; note?: ReactNode }) {
  const missing = props.value === NOT_REPORTED;
  return (
    <div>
      <dt className="text-xs text-slate-600">{props.name}</dt>
      <dd
        data-metric={props.metric}
        className={missing ? 'text-sm text-slate-600 italic' : 'text-lg font-semibold tabular-nums'}
      >
        {props.value}
      </dd>
      {props.note && <dd className="text-xs text-slate-600">{props.note}</dd>}
    </div>
  );
}

function Summary({ s, stale }: { s: PoolSnapshot; stale: boolean }) {
  const hot = s.gpus.hottest;
  const fbTotal =
    s.gpus.fbUsedMiB !== null && s.gpus.fbFreeMiB !== null ? s.gpus.fbUsedMiB + s.gpus.fbFreeMiB : null;
  const xidCount = s.gpus.xidEvents.reduce((n, e) => n + e.count, 0);
  return (
    <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-4">
      <Panel id="nodes-summary" title="Nodes" stale={stale || sourceStale(s, 'nodes')}>
        <dl className="grid grid-cols-2 gap-3">
          <Figure name="Ready" metric="ready-nodes" value={count(s.nodes.ready)} />
          <Figure name="NotReady" metric="not-ready-nodes" value={count(s.nodes.notReady)} />
        </dl>
        {s.nodes.notReady !== null && s.nodes.notReady > 0 && (
          <p className="mt-2 text-xs text-slate-700">
            With the Deallocate scale-down mode, deallocated nodes stay NotReady; 3 or more stall the AKS
            autoscaler (AKS issue 5211).
          </p>
        )}
      </Panel>
      <Panel id="gpus-summary" title="GPUs in use" stale={stale || sourceStale(s, 'gpus')}>
        <dl className="grid grid-cols-2 gap-3">
          <Figure
            name="Serving GPUs"
            metric="gpus-serving"
            value={
              s.gpus.expected === null
                ? `${s.gpus.serving} (expected: not reported)`
                : `${s.gpus.serving} of ${s.gpus.expected}`
            }
            note="on Ready nodes, of their nvidia.com/gpu capacity"
          />
          <Figure
            name="Mean utilisation of serving GPUs"
            metric="gpu-util"
            value={percent(s.gpus.utilMean, 1)}
            note="GPUs on Ready nodes only"
          />
          <Figure
            name="Framebuffer used"
            metric="fb-used"
            value={gib(s.gpus.fbUsedMiB)}
            note={fbTotal !== null ? `of ${gib(fbTotal)}` : undefined}
          />
          <Figure
            name="Hottest GPU"
            metric="hottest"
            value={celsius(hot?.tempC ?? null)}
            note={hot?.gpu ? `${hot.gpu.host ?? hot.gpu.id}, GPU ${hot.gpu.index ?? '?'}` : undefined}
          />
          <Figure
            name="XID errors (last hour)"
            metric="xid"
            value={s.gpus.withXid === null ? NOT_REPORTED : xidCount ? count(xidCount) : 'none'}
            note={xidCount ? [...new Set(s.gpus.xidEvents.map((e) => `XID ${e.xid}`))].join(', ') : undefined}
          />
        </dl>
        {s.gpus.missing.length > 0 && (
          <div className="mt-2 text-xs text-red-800">
            <p className="font-semibold">Missing GPUs</p>
            <ul className="list-disc pl-4" data-testid="missing-gpus">
              {s.gpus.missing.map((m, i) => (
                <li key={`${m.node}-${m.gpu ?? i}`}>
                  <span className="font-mono">{m.node}</span>
                  {m.gpu !== null && ` GPU ${m.gpu}`}: {m.reason}
                </li>
              ))}
            </ul>
          </div>
        )}
      </Panel>
      <Panel id="inference-summary" title="Inference" stale={stale || sourceStale(s, 'inference')}>
        <dl className="grid grid-cols-2 gap-3">
          <Figure name="Queue depth" metric="queue" value={count(s.inference.queueDepth)} />
          <Figure name="Request rate" metric="request-rate" value={perSecond(s.inference.requestRate)} />
          <Figure name="p50 latency" metric="p50" value={ms(s.inference.p50Ms)} />
          <Figure
            name="p95 latency"
            metric="p95"
            value={ms(s.inference.p95Ms)}
            note={`objective: ${s.p95TargetMs} ms`}
          />
          <Figure name="Error ratio" metric="error-ratio" value={share(s.inference.errorRatio)} />
        </dl>
      </Panel>
      <Panel id="fail-closed-summary" title="Fail-closed blocks" stale={stale || sourceStale(s, 'gateway')}>
        <dl className="grid grid-cols-2 gap-3">
          <Figure name="Now" metric="fail-closed-rate" value={perSecond(s.failClosed.ratePerSecond)} />
          <Figure name="Last 15 min" metric="fail-closed-15m" value={count(s.failClosed.last15m)} />
          <Figure name="Last 24 h" metric="fail-closed-24h" value={count(s.failClosed.last24h)} />
        </dl>
        <p className="mt-2 text-xs text-slate-600">
          Requests the gateway blocked because no GPU could serve DLP inference.
        </p>
      </Panel>
    </div>
  );
}

function Charts(props: {
  range: Range;
  setRange: (r: Range) => void;
  history: PoolCharts | undefined;
  error: ApiError | null;
}) {
  const h = props.history;
  const times = h?.times ?? [];
  const marks = h?.marks.map((m) => Date.parse(m.at) / 1000);
  return (
    <Panel
      id="charts"
      title={`Last ${props.range === '1h' ? 'hour' : '24 hours'}`}
      aside={
        <div role="group" aria-label="Chart range" className="flex gap-1">
          {(['1h', '24h'] as const).map((r) => (
            <Button
              key={r}
              variant={props.range === r ? 'primary' : 'secondary'}
              aria-pressed={props.range === r}
              onClick={() => props.setRange(r)}
            >
              {r === '1h' ? '1 h' : '24 h'}
            </Button>
          ))}
        </div>
      }
    >
      {props.error && (
        <p className="mb-2 text-sm text-red-800">
          Charts: {props.error.message}
          {h ? ' The charts show the last good data.' : ''}
        </p>
      )}
      {!h && !props.error && <p className="text-sm text-slate-600">Loading the charts…</p>}
      {h && <p className="mb-2 text-xs text-slate-600">Times in UTC.</p>}
      {h && h.range === props.range && (
        <div className="grid gap-3 lg:grid-cols-2">
          <Chart
            title="Nodes"
            times={times}
            marks={marks}
            series={[
              { label: 'Ready', values: h.series.readyNodes, color: '#047857', format: count, unit: 'nodes' },
              {
                label: 'NotReady',
                values: h.series.notReadyNodes,
                color: '#b91c1c',
                format: count,
                unit: 'nodes',
              },
            ]}
          />
          <Chart
            title="GPUs"
            times={times}
            marks={marks}
            series={[
              {
                label: 'Mean utilisation (serving GPUs)',
                values: h.series.servingUtilMean,
                color: '#1d4ed8',
                format: (v) => percent(v),
                unit: '%',
              },
              {
                label: 'Fullest framebuffer',
                values: h.series.fbUsedMaxPercent,
                color: '#c2410c',
                format: (v) => percent(v),
                unit: '%',
              },
            ]}
          />
          <Chart
            title="Inference"
            times={times}
            marks={marks}
            series={[
              {
                label: 'Requests',
                values: h.series.requestRate,
                color: '#1d4ed8',
                format: perSecond,
                unit: 'req/s',
              },
              { label: 'p95', values: h.series.p95Ms, color: '#7c3aed', format: ms, unit: 'ms' },
            ]}
          />
          <Chart
            title="Fail-closed blocks"
            times={times}
            marks={marks}
            series={[
              {
                label: 'Blocked',
                values: h.series.failClosedRate,
                color: '#b91c1c',
                format: perSecond,
                unit: 'blocks/s',
              },
            ]}
          />
        </div>
      )}
      {h && h.range === props.range && <StaffActions marks={h.marks} />}
    </Panel>
  );
}

const MARK_NAMES: Record<PoolMark['action'], string> = {
  'org.outpost.inference_mode.updated': 'Outpost inference mode changed',
  'org.suspended': 'Organisation suspended',
  'org.resumed': 'Organisation resumed',
};

/** The staff actions of the charts' range, which the charts mark with dashed lines. */
function StaffActions({ marks }: { marks: PoolMark[] }) {
  return (
    <div className="mt-3 text-sm" data-testid="staff-actions">
      <h3 className="text-xs font-semibold text-slate-700">
        Staff actions in this range{' '}
        <span className="font-normal text-slate-600">(dashed green lines on the charts)</span>
      </h3>
      {marks.length === 0 ? (
        <p className="text-xs text-slate-600 italic">
          No Outpost inference mode change, suspension or resume in this range.
        </p>
      ) : (
        <ol className="mt-1 space-y-0.5 text-xs">
          {marks.map((m, i) => (
            <li key={`${m.at}-${i}`} data-mark={m.action}>
              <time dateTime={m.at} className="tabular-nums">
                {utc(m.at)}
              </time>{' '}
              {MARK_NAMES[m.action]}
              {m.outpost && <span className="font-mono"> {m.outpost}</span>}
              {m.orgId && (
                <>
                  {' '}
                  ·{' '}
                  <Link href={`/orgs/${m.orgId}`} className="text-blue-800 underline">
                    {m.orgName ?? m.orgId}
                  </Link>
                </>
              )}
              {m.actorEmail && <span className="text-slate-600"> · by {m.actorEmail}</span>}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

const th = 'py-1 pr-3 font-medium';
const td = 'py-1 pr-3';

/** "Ready", or the age of a stale sample, for a table row. */
function StaleNote({ row }: { row: { stale: boolean; ageS: number | null } }) {
  if (!row.stale) return null;
  return (
    <span className="ml-1 text-xs font-medium text-amber-900">
      (stale: {age((row.ageS ?? 0) * 1000)} old)
    </span>
  );
}

function ScrapeHealth({ s }: { s: PoolSnapshot }) {
  return (
    <Panel id="scrape" title="Scrape health" stale={s.scrape.some((j) => j.stale)}>
      {s.scrape.length === 0 ? (
        <p className="text-sm font-medium text-red-800" data-testid="no-targets">
          Prometheus has no scrape target at all (no <code>up</code> series): check PROMETHEUS_URL and its
          scrape configuration.
        </p>
      ) : (
        <table className="w-full border-collapse text-left text-sm">
          <caption className="sr-only">Scrape targets by job</caption>
          <thead className="border-b border-slate-200 text-slate-600">
            <tr>
              <th className={th}>Job</th>
              <th className={th}>Targets up</th>
              <th className={th}>Down</th>
              <th className={th}>Last scrape</th>
            </tr>
          </thead>
          <tbody>
            {s.scrape.map((j) => (
              <tr key={j.job} data-job={j.job} className="border-b border-slate-100">
                <td className={`${td} font-mono text-xs`}>{j.job}</td>
                <td className={`${td} ${j.down.length ? 'font-semibold text-red-800' : ''}`}>
                  {j.up} of {j.targets}
                </td>
                <td className={`${td} font-mono text-xs`}>{j.down.length ? j.down.join(', ') : 'none'}</td>
                <td className={td}>
                  {j.lastScrapeAgeS === null ? NOT_REPORTED : `${age(j.lastScrapeAgeS * 1000)} ago`}
                  {j.stale && <span className="ml-1 text-xs font-medium text-amber-900">(stale)</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="mt-2 text-xs text-slate-600">
        Prometheus&rsquo;s <code>up</code> per target. Samples older than {s.staleAfterS} s are marked stale.
      </p>
    </Panel>
  );
}

function NodesTable({ s }: { s: PoolSnapshot }) {
  return (
    <Panel id="nodes" title="Nodes of the pool" stale={s.nodes.list.some((n) => n.stale)}>
      {s.nodes.list.length === 0 ? (
        <EmptyState compact>No node reported by kube-state-metrics.</EmptyState>
      ) : (
        <table className="w-full border-collapse text-left text-sm">
          <thead className="border-b border-slate-200 text-slate-600">
            <tr>
              <th className={th}>Node</th>
              <th className={th}>Status</th>
              <th className={th}>GPUs reporting / expected</th>
              <th className={th}>GPU utilisation</th>
            </tr>
          </thead>
          <tbody>
            {s.nodes.list.map((n) => (
              <tr key={n.name} data-node={n.name} className="border-b border-slate-100">
                <td className={`${td} font-mono text-xs`}>{n.name}</td>
                <td className={td}>
                  {n.status === 'Ready' ? (
                    'Ready'
                  ) : (
                    <span className="font-semibold text-red-800">
                      NotReady{n.status === 'Unknown' ? ' (status unknown)' : ''}
                    </span>
                  )}
                  <StaleNote row={n} />
                </td>
                <td
                  className={`${td} ${n.status === 'Ready' && n.expectedGpus !== null && n.gpus < n.expectedGpus ? 'font-semibold text-red-800' : ''}`}
                >
                  {n.gpus} of {n.expectedGpus ?? NOT_REPORTED}
                </td>
                <td className={td}>{percent(n.gpuUtilMean)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

/** One row per GPU under the given headings (Host and GPU first), with a note under the table. */
function GpuPanel({
  s,
  id,
  title,
  headings,
  note,
  children,
}: {
  s: PoolSnapshot;
  id: string;
  title: string;
  headings: string[];
  note: ReactNode;
  children: ReactNode;
}) {
  return (
    <Panel id={id} title={title} stale={s.gpus.list.some((g) => g.stale)}>
      {s.gpus.list.length === 0 ? (
        <EmptyState compact>No GPU reported by dcgm-exporter.</EmptyState>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full border-collapse text-left text-sm">
            <thead className="border-b border-slate-200 text-slate-600">
              <tr>
                {['Host', 'GPU', ...headings].map((h) => (
                  <th key={h} className={th}>
                    {h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>{children}</tbody>
          </table>
          <p className="mt-2 text-xs text-slate-600">{note}</p>
        </div>
      )}
    </Panel>
  );
}

function GpusTable({ s }: { s: PoolSnapshot }) {
  return (
    <GpuPanel
      s={s}
      id="gpus"
      title="GPUs"
      headings={[
        'Utilisation',
        'Framebuffer used',
        'Framebuffer free',
        'Temperature',
        'Power',
        'Last XID',
        'Engine active',
      ]}
      note={
        <>
          Engine activity comes from DCGM&rsquo;s profiling metrics (DCGM_FI_PROF_*), which T4s do not report.
        </>
      }
    >
      {s.gpus.list.map((g) => {
        const full = g.fbUsedPercent !== null && g.fbUsedPercent > 90;
        return (
          <tr key={g.id} data-gpu={g.id} className="border-b border-slate-100">
            <td className={`${td} font-mono text-xs`}>
              {g.host ?? NOT_REPORTED}
              <StaleNote row={g} />
            </td>
            <td className={td}>
              {g.index ?? '?'} <span className="text-xs text-slate-600">{g.model}</span>
            </td>
            <td className={td}>{percent(g.utilPercent)}</td>
            <td className={`${td} ${full ? 'font-semibold text-red-800' : ''}`}>
              {gib(g.fbUsedMiB)}
              {g.fbUsedPercent !== null && ` (${percent(g.fbUsedPercent)})`}
            </td>
            <td className={td}>{gib(g.fbFreeMiB)}</td>
            <td className={td}>{celsius(g.tempC)}</td>
            <td className={td}>{watts(g.powerW)}</td>
            <td className={td}>
              {g.xid === null ? NOT_REPORTED : g.xid === 0 ? 'none' : `XID ${g.xid}`}
              {!!g.xid && !s.gpus.xidEvents.some((e) => e.gpuId === g.id && e.xid === g.xid) && (
                <span className="block text-xs text-slate-600">not in the last hour</span>
              )}
            </td>
            <td className={`${td} ${g.engineActivePercent === null ? 'text-slate-600 italic' : ''}`}>
              {percent(g.engineActivePercent)}
            </td>
          </tr>
        );
      })}
    </GpuPanel>
  );
}

function GpuHealthTable({ s }: { s: PoolSnapshot }) {
  const cell = (v: number | null, text: string, bad: boolean) => (
    <td className={`${td} ${v === null ? 'text-slate-600 italic' : bad ? 'font-semibold text-red-800' : ''}`}>
      {text}
    </td>
  );
  return (
    <GpuPanel
      s={s}
      id="gpu-health"
      title="GPU memory and throttling"
      headings={[
        'Retired pages',
        'Pending retirement',
        'Power throttling (5 min)',
        'Thermal throttling (5 min)',
        'PCIe replays',
      ]}
      note={
        <>
          Retired pages, pending retirement and throttling are off in dcgm-exporter&rsquo;s default counters:
          &ldquo;not reported&rdquo; until its counters file enables them (see the README). A page pending
          retirement is retired at the next GPU reset.
        </>
      }
    >
      {s.gpus.list.map((g) => (
        <tr key={g.id} data-gpu-health={g.id} className="border-b border-slate-100">
          <td className={`${td} font-mono text-xs`}>
            {g.host ?? NOT_REPORTED}
            <StaleNote row={g} />
          </td>
          <td className={td}>{g.index ?? '?'}</td>
          {cell(g.retiredPages, count(g.retiredPages), false)}
          {cell(g.pendingRetirement, count(g.pendingRetirement), (g.pendingRetirement ?? 0) > 0)}
          {cell(g.powerThrottle, share(g.powerThrottle), (g.powerThrottle ?? 0) > 0)}
          {cell(g.thermalThrottle, share(g.thermalThrottle), (g.thermalThrottle ?? 0) > 0)}
          {cell(g.pcieReplays, count(g.pcieReplays), (g.pcieReplays ?? 0) > 0)}
        </tr>
      ))}
    </GpuPanel>
  );
}

function XidTable({ s }: { s: PoolSnapshot }) {
  const gpusStale = s.gpus.list.some((g) => g.stale);
  return (
    <Panel id="xids" title="XID errors in the last hour" stale={gpusStale}>
      {s.gpus.withXid === null ? (
        <p className="text-sm text-slate-600 italic">
          Not reported: dcgm-exporter reports no DCGM_FI_DEV_XID_ERRORS.
        </p>
      ) : s.gpus.xidEvents.length === 0 ? (
        <EmptyState compact>No GPU reported an XID in the last hour.</EmptyState>
      ) : (
        <table className="w-full border-collapse text-left text-sm">
          <thead className="border-b border-slate-200 text-slate-600">
            <tr>
              <th className={th}>Host</th>
              <th className={th}>GPU</th>
              <th className={th}>XID</th>
              <th className={th}>Times</th>
              <th className={th}>What to do (NVIDIA&rsquo;s resolution bucket)</th>
            </tr>
          </thead>
          <tbody>
            {s.gpus.xidEvents.map((e) => (
              <tr
                key={`${e.gpuId}-${e.xid}`}
                data-xid={e.xid}
                data-xid-bucket={e.bucket ?? 'unknown'}
                className="border-b border-slate-100"
              >
                <td className={`${td} font-mono text-xs`}>{e.host ?? NOT_REPORTED}</td>
                <td className={td}>{e.index ?? '?'}</td>
                <td className={td}>
                  XID {e.xid} <span className="text-xs text-slate-600">{e.name}</span>
                </td>
                <td className={`${td} tabular-nums ${e.count > 1 ? 'font-semibold' : ''}`}>
                  {count(e.count)}
                </td>
                <td className={`${td} ${e.bucket === 'IGNORE' ? '' : 'font-semibold text-red-800'}`}>
                  {e.action}
                  {e.bucket && <span className="ml-1 font-mono text-xs text-slate-600">{e.bucket}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="mt-2 text-xs text-slate-600">
        Counted from the changes of DCGM_FI_DEV_XID_ERRORS, which holds each GPU&rsquo;s last XID: an XID
        older than an hour stays in the GPU table&rsquo;s &ldquo;Last XID&rdquo; but raises no alert, and the
        same XID twice in a row counts once.
      </p>
    </Panel>
  );
}

const STAGE_NAMES = { queue: 'Queue', tokenization: 'Tokenisation', inference: 'Inference' } as const;

function LatencyPanel({ s }: { s: PoolSnapshot }) {
  const i = s.inference;
  return (
    <Panel id="latency" title="Latency breakdown and objective" stale={sourceStale(s, 'inference')}>
      <div className="grid gap-4 lg:grid-cols-2">
        <div>
          <table className="w-full border-collapse text-left text-sm">
            <caption className="mb-1 text-left text-xs text-slate-600">
              Where a request&rsquo;s time goes (5 min)
            </caption>
            <thead className="border-b border-slate-200 text-slate-600">
              <tr>
                <th className={th}>Stage</th>
                <th className={th}>p50</th>
                <th className={th}>p95</th>
              </tr>
            </thead>
            <tbody>
              {i.stages.map((x) => (
                <tr key={x.stage} data-stage={x.stage} className="border-b border-slate-100">
                  <td className={td}>{STAGE_NAMES[x.stage]}</td>
                  <td className={td}>{ms(x.p50Ms)}</td>
                  <td className={td}>{ms(x.p95Ms)}</td>
                </tr>
              ))}
              <tr data-stage="request" className="font-medium">
                <td className={td}>Whole request</td>
                <td className={td}>{ms(i.p50Ms)}</td>
                <td className={td}>{ms(i.p95Ms)}</td>
              </tr>
            </tbody>
          </table>
          <dl className="mt-3 grid grid-cols-2 gap-3">
            <Figure
              name="Mean batch size"
              metric="batch-mean"
              value={decimal(i.batchSizeMean)}
              note="requests per batch"
            />
            <Figure
              name="p95 batch size"
              metric="batch-p95"
              value={decimal(i.batchSizeP95)}
              note="requests per batch"
            />
          </dl>
        </div>
        <div>
          <table className="w-full border-collapse text-left text-sm">
            <caption className="mb-1 text-left text-xs text-slate-600">
              Objective: {Math.round(LATENCY_OBJECTIVE * 100)} % of requests within {s.p95TargetMs} ms. Burn
              rate: how many times as fast as allowed the {Math.round((1 - LATENCY_OBJECTIVE) * 100)} % error
              budget is spent.
            </caption>
            <thead className="border-b border-slate-200 text-slate-600">
              <tr>
                <th className={th}>Windows</th>
                <th className={th}>Long</th>
                <th className={th}>Short</th>
                <th className={th}>Alert above</th>
                <th className={th}>State</th>
              </tr>
            </thead>
            <tbody>
              {i.burn.pairs.map((p) => (
                <tr
                  key={p.long}
                  data-burn-pair={`${p.long}-${p.short}`}
                  className="border-b border-slate-100"
                >
                  <td className={td}>
                    {WINDOW_WORDS[p.long]} and {WINDOW_WORDS[p.short]}
                  </td>
                  <td className={td}>{burn(p.longRate)}</td>
                  <td className={td}>{burn(p.shortRate)}</td>
                  <td className={td}>{burn(p.threshold)}</td>
                  <td
                    className={`${td} ${p.fires ? 'font-semibold text-red-800' : p.fires === null ? 'text-amber-900' : ''}`}
                  >
                    {p.fires ? 'Fires' : p.fires === null ? 'Cannot tell' : 'Below'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="mt-2 text-xs text-slate-600">
            A pair fires when both of its windows burn above its rate: the long one shows enough budget went,
            the short one that it is still going.
          </p>
        </div>
      </div>
    </Panel>
  );
}

function BlockedByOrg({ s }: { s: PoolSnapshot }) {
  const rows = s.failClosed.byOrg;
  return (
    <Panel id="blocked-by-org" title="Who is blocked (fail-closed)" stale={sourceStale(s, 'gateway')}>
      {rows.length === 0 ? (
        <p className="text-sm text-slate-600 italic">The gateway reports no fail-closed counter.</p>
      ) : (
        <table className="w-full border-collapse text-left text-sm">
          <thead className="border-b border-slate-200 text-slate-600">
            <tr>
              <th className={th}>Organisation</th>
              <th className={th}>Outpost</th>
              <th className={th}>Last 15 min</th>
              <th className={th}>Last 24 h</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr
                key={`${r.org ?? ''}/${r.outpost ?? ''}`}
                data-blocked-org={r.org ?? ''}
                data-blocked-outpost={r.outpost ?? ''}
                className="border-b border-slate-100"
              >
                <td className={td}>
                  {r.orgId ? (
                    <Link href={`/orgs/${r.orgId}`} className="text-blue-800 underline">
                      {r.orgName ?? r.org}
                    </Link>
                  ) : r.org ? (
                    <>
                      <span className="font-mono text-xs">{r.org}</span>{' '}
                      <span className="text-xs text-slate-600">(no organisation has this slug)</span>
                    </>
                  ) : (
                    <span className="text-slate-600 italic">
                      not labelled (a gateway build without the org label)
                    </span>
                  )}
                </td>
                <td className={td}>
                  {r.outpost ? <span className="font-mono text-xs">{r.outpost}</span> : r.org ? 'SaaS' : '—'}
                </td>
                <td className={`${td} ${(r.last15m ?? 0) >= 0.5 ? 'font-semibold text-red-800' : ''}`}>
                  {count(r.last15m)}
                </td>
                <td className={td}>{count(r.last24h)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p className="mt-2 text-xs text-slate-600">
        The gateway&rsquo;s <code>org</code> and <code>outpost</code> labels (docs/PLATFORM_CONTRACT.md).
      </p>
    </Panel>
  );
}

function Breakdowns({ s }: { s: PoolSnapshot }) {
  return (
    <div className="grid gap-4 md:grid-cols-2">
      <Panel id="errors" title="Inference errors by reason (5 min)" stale={sourceStale(s, 'inference')}>
        {s.inference.errorsByReason.length === 0 ? (
          <p className="text-sm text-slate-600 italic">
            {s.inference.errorRatio === 0 ? 'No failed requests.' : 'No failure counts reported.'}
          </p>
        ) : (
          <table className="w-full border-collapse text-left text-sm">
            <thead className="border-b border-slate-200 text-slate-600">
              <tr>
                <th className={th}>Reason</th>
                <th className={th}>Share of requests</th>
              </tr>
            </thead>
            <tbody>
              {s.inference.errorsByReason.map((e) => (
                <tr key={e.reason} data-reason={e.reason} className="border-b border-slate-100">
                  <td className={`${td} font-mono text-xs`}>{e.reason}</td>
                  <td className={td}>{share(e.ratio)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Panel>
      <BlockedByOrg s={s} />
      <Panel id="fail-closed" title="Fail-closed blocks by reason (24 h)" stale={sourceStale(s, 'gateway')}>
        {s.failClosed.byReason24h.length === 0 ? (
          <p className="text-sm text-slate-600 italic">The gateway reports no fail-closed counter.</p>
        ) : (
          <table className="w-full border-collapse text-left text-sm">
            <thead className="border-b border-slate-200 text-slate-600">
              <tr>
                <th className={th}>Reason</th>
                <th className={th}>Blocked requests</th>
              </tr>
            </thead>
            <tbody>
              {s.failClosed.byReason24h.map((r) => (
                <tr key={r.reason} data-reason={r.reason} className="border-b border-slate-100">
                  <td className={`${td} font-mono text-xs`}>{r.reason}</td>
                  <td className={td}>{count(r.count)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Panel>
    </div>
  );
}
