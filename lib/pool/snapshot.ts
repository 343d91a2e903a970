import type { PrometheusClient, Sample } from './client';
import {
  GPU_FIELDS,
  instantQueries,
  type PoolQueryOptions,
  RANGES,
  type RangeKey,
  type RangeSeriesKey,
  rangeQueries,
  SCALAR_KEYS,
  type ScalarKey,
} from './promql';

/**
 * The pool view's figures, read from Prometheus at one moment. `null` everywhere means "not reported":
 * the series does not exist (or the figure cannot be computed, e.g. a quantile with no requests). A zero
 * is only ever a zero Prometheus measured.
 */

export type NodeStatus = 'Ready' | 'NotReady' | 'Unknown';

export interface NodeRow {
  name: string;
  status: NodeStatus;
  gpus: number;
  /** Mean utilisation of the node's GPUs, in %; null when its GPUs report none (or it has none). */
  gpuUtilMean: number | null;
}

export interface GpuRow {
  /** UUID, or host/index when the exporter gives no UUID. */
  id: string;
  uuid: string | null;
  index: string | null;
  /** dcgm-exporter's `hostname` label (newer versions) or `Hostname` (older ones). */
  host: string | null;
  model: string | null;
  utilPercent: number | null;
  fbUsedMiB: number | null;
  fbFreeMiB: number | null;
  fbUsedPercent: number | null;
  tempC: number | null;
  powerW: number | null;
  /** The last XID error the GPU reported; 0 is none. */
  xid: number | null;
  /** DCGM_FI_PROF_GR_ENGINE_ACTIVE as %, absent on T4s. */
  engineActivePercent: number | null;
}

export interface PoolSnapshot {
  /** The moment the figures were evaluated at (ISO). */
  asOf: string;
  /** Prometheus's base URL. */
  source: string;
  /** The data comes from this project's fixture exporters, not a real pool. */
  demo: boolean;
  p95TargetMs: number;
  nodes: { ready: number | null; notReady: number | null; list: NodeRow[] };
  gpus: {
    count: number | null;
    utilMean: number | null;
    fbUsedMiB: number | null;
    fbFreeMiB: number | null;
    hottest: { tempC: number; gpu: GpuRow | null } | null;
    withXid: number | null;
    overMemory: number | null;
    list: GpuRow[];
  };
  inference: {
    queueDepth: number | null;
    requestRate: number | null;
    p50Ms: number | null;
    p95Ms: number | null;
    errorRatio: number | null;
    errorsByReason: Array<{ reason: string; ratio: number | null }>;
  };
  failClosed: {
    ratePerSecond: number | null;
    last15m: number | null;
    last24h: number | null;
    byReason24h: Array<{ reason: string; count: number | null }>;
  };
  alerts: PoolAlert[];
}

export interface PoolAlert {
  id: 'xid' | 'not_ready' | 'gpu_memory' | 'p95' | 'fail_closed';
  title: string;
  detail: string;
}

/** What Prometheus answered, before it is shaped: the tests compare these with Prometheus directly. */
export interface RawSnapshot {
  time: number;
  scalars: Record<ScalarKey, number | null>;
  nodes: Sample[];
  gpuFields: Sample[];
  errorRatioByReason: Sample[];
  failClosed24hByReason: Sample[];
}

/** NaN (no data to divide by, a quantile of nothing) and ±Inf are not figures anyone can read. */
const finite = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

export async function readRaw(
  client: PrometheusClient,
  o: PoolQueryOptions,
  time: number,
): Promise<RawSnapshot> {
  const q = instantQueries(o);
  const [scalars, nodes, gpuFields, errorRatioByReason, failClosed24hByReason] = await Promise.all([
    Promise.all(SCALAR_KEYS.map(async (key) => [key, (await client.query(q[key], time))[0]?.value] as const)),
    client.query(q.nodes, time),
    client.query(q.gpuFields, time),
    client.query(q.errorRatioByReason, time),
    client.query(q.failClosed24hByReason, time),
  ]);
  return {
    time,
    scalars: Object.fromEntries(scalars.map(([k, v]) => [k, finite(v)])) as Record<ScalarKey, number | null>,
    nodes,
    gpuFields,
    errorRatioByReason,
    failClosed24hByReason,
  };
}

/** One row per GPU, from one sample per GPU and DCGM field; a field the GPU does not report stays null. */
export function gpuRows(samples: Sample[]): GpuRow[] {
  const rows = new Map<string, GpuRow>();
  for (const { labels, value } of samples) {
    const host = labels.hostname ?? labels.Hostname ?? null;
    const index = labels.gpu ?? null;
    const id = labels.UUID ?? `${host ?? labels.instance ?? '?'}/${index ?? '?'}`;
    const row = rows.get(id) ?? {
      id,
      uuid: labels.UUID ?? null,
      index,
      host,
      model: labels.modelName ?? null,
      utilPercent: null,
      fbUsedMiB: null,
      fbFreeMiB: null,
      fbUsedPercent: null,
      tempC: null,
      powerW: null,
      xid: null,
      engineActivePercent: null,
    };
    row.host ??= host;
    const v = finite(value);
    switch (labels.__name__ as (typeof GPU_FIELDS)[number]) {
      case 'DCGM_FI_DEV_GPU_UTIL':
        row.utilPercent = v;
        break;
      case 'DCGM_FI_DEV_FB_USED':
        row.fbUsedMiB = v;
        break;
      case 'DCGM_FI_DEV_FB_FREE':
        row.fbFreeMiB = v;
        break;
      case 'DCGM_FI_DEV_GPU_TEMP':
        row.tempC = v;
        break;
      case 'DCGM_FI_DEV_POWER_USAGE':
        row.powerW = v;
        break;
      case 'DCGM_FI_DEV_XID_ERRORS':
        row.xid = v;
        break;
      case 'DCGM_FI_PROF_GR_ENGINE_ACTIVE':
        // A ratio from 0 to 1.
        row.engineActivePercent = v === null ? null : v * 100;
        break;
    }
    rows.set(id, row);
  }
  for (const row of rows.values()) {
    if (row.fbUsedMiB !== null && row.fbFreeMiB !== null && row.fbUsedMiB + row.fbFreeMiB > 0)
      row.fbUsedPercent = (100 * row.fbUsedMiB) / (row.fbUsedMiB + row.fbFreeMiB);
  }
  return [...rows.values()].sort(
    (a, b) => (a.host ?? '').localeCompare(b.host ?? '') || (a.index ?? '').localeCompare(b.index ?? ''),
  );
}

const STATUS: Record<string, NodeStatus> = { true: 'Ready', false: 'NotReady', unknown: 'Unknown' };

/** One row per node of the pool, with its GPUs (matched by the DCGM host label, which is the node name). */
export function nodeRows(samples: Sample[], gpus: GpuRow[]): NodeRow[] {
  return samples
    .filter((s) => s.labels.node)
    .map((s) => {
      const name = s.labels.node!;
      const mine = gpus.filter((g) => g.host === name);
      const utils = mine.map((g) => g.utilPercent).filter((u): u is number => u !== null);
      return {
        name,
        status: STATUS[s.labels.status ?? ''] ?? 'Unknown',
        gpus: mine.length,
        gpuUtilMean: utils.length ? utils.reduce((a, b) => a + b, 0) / utils.length : null,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** With scale-down mode Deallocate, this many NotReady nodes stall the AKS cluster autoscaler (AKS #5211). */
export const NOT_READY_STALL = 3;

export function alertsOf(s: Omit<PoolSnapshot, 'alerts'>): PoolAlert[] {
  const alerts: PoolAlert[] = [];
  const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
  if (s.gpus.withXid) {
    const seen = s.gpus.list.filter((g) => g.xid);
    alerts.push({
      id: 'xid',
      title: 'XID error',
      detail: `${plural(s.gpus.withXid, 'GPU')} reported an XID error: ${seen
        .map((g) => `XID ${g.xid} on ${g.host ?? g.id} GPU ${g.index ?? '?'}`)
        .join(', ')}.`,
    });
  }
  if (s.nodes.notReady !== null && s.nodes.notReady >= NOT_READY_STALL) {
    alerts.push({
      id: 'not_ready',
      title: `${s.nodes.notReady} nodes NotReady`,
      detail: `${NOT_READY_STALL} or more NotReady nodes (deallocated nodes stay NotReady) stall the AKS cluster autoscaler (AKS issue 5211): the pool cannot scale up.`,
    });
  }
  if (s.gpus.overMemory) {
    alerts.push({
      id: 'gpu_memory',
      title: 'GPU memory above 90 %',
      detail: `${plural(s.gpus.overMemory, 'GPU has', 'GPUs have')} more than 90 % of the framebuffer in use.`,
    });
  }
  if (s.inference.p95Ms !== null && s.inference.p95Ms > s.p95TargetMs) {
    alerts.push({
      id: 'p95',
      title: 'p95 latency above target',
      detail: `p95 inference latency is ${Math.round(s.inference.p95Ms)} ms, above the ${s.p95TargetMs} ms target.`,
    });
  }
  if (s.failClosed.last15m !== null && Math.round(s.failClosed.last15m) > 0) {
    alerts.push({
      id: 'fail_closed',
      title: 'Requests blocked (fail-closed)',
      detail: `The gateway blocked about ${Math.round(s.failClosed.last15m).toLocaleString('en')} requests in the last 15 minutes because no GPU could serve DLP inference.`,
    });
  }
  return alerts;
}

export function shapeSnapshot(raw: RawSnapshot, source: string, p95TargetMs: number): PoolSnapshot {
  const v = raw.scalars;
  const list = gpuRows(raw.gpuFields);
  const ms = (s: number | null) => (s === null ? null : s * 1000);
  const hottest =
    v.hottestTempC === null
      ? null
      : { tempC: v.hottestTempC, gpu: list.find((g) => g.tempC === v.hottestTempC) ?? null };
  const base: Omit<PoolSnapshot, 'alerts'> = {
    asOf: new Date(raw.time * 1000).toISOString(),
    source,
    demo: v.demo === 1,
    p95TargetMs,
    nodes: { ready: v.readyNodes, notReady: v.notReadyNodes, list: nodeRows(raw.nodes, list) },
    gpus: {
      count: v.gpuCount,
      utilMean: v.gpuUtilMean,
      fbUsedMiB: v.fbUsedMiB,
      fbFreeMiB: v.fbFreeMiB,
      hottest,
      withXid: v.gpusWithXid,
      overMemory: v.gpusOverMemory,
      list,
    },
    inference: {
      queueDepth: v.queueDepth,
      requestRate: v.requestRate,
      p50Ms: ms(v.p50Seconds),
      p95Ms: ms(v.p95Seconds),
      errorRatio: v.errorRatio,
      errorsByReason: raw.errorRatioByReason
        .map((s) => ({ reason: s.labels.err ?? '(no reason)', ratio: finite(s.value) }))
        .sort((a, b) => (b.ratio ?? 0) - (a.ratio ?? 0)),
    },
    failClosed: {
      ratePerSecond: v.failClosedRate,
      last15m: v.failClosed15m,
      last24h: v.failClosed24h,
      byReason24h: raw.failClosed24hByReason
        .map((s) => ({ reason: s.labels.reason ?? '(no reason)', count: finite(s.value) }))
        .sort((a, b) => (b.count ?? 0) - (a.count ?? 0)),
    },
  };
  return { ...base, alerts: alertsOf(base) };
}

export interface PoolHistory {
  range: RangeKey;
  start: number;
  end: number;
  step: number;
  /** Timestamps (unix seconds) shared by every series. */
  times: number[];
  /** One value per timestamp; null where Prometheus has no point. A series with no point at all is null. */
  series: Record<RangeSeriesKey, Array<number | null> | null>;
}

/** The charts' series over one range, aligned on one time axis. */
export async function readHistory(
  client: PrometheusClient,
  o: PoolQueryOptions,
  range: RangeKey,
  now: number,
): Promise<PoolHistory> {
  const { seconds, step } = RANGES[range];
  const end = Math.floor(now / step) * step;
  const start = end - seconds;
  const times = Array.from({ length: seconds / step + 1 }, (_, i) => start + i * step);
  const queries = rangeQueries(o, range);
  const entries = await Promise.all(
    (Object.keys(queries) as RangeSeriesKey[]).map(async (key) => {
      const [first] = await client.queryRange(queries[key], start, end, step);
      if (!first) return [key, null] as const;
      const byTime = new Map(first.points.map(([t, value]) => [t, finite(value)]));
      return [key, times.map((t) => byTime.get(t) ?? null)] as const;
    }),
  );
  return {
    range,
    start,
    end,
    step,
    times,
    series: Object.fromEntries(entries) as PoolHistory['series'],
  };
}
