import { type BurnPair, burnPairs, burnRate, type BurnWindow, WINDOW_WORDS } from './burn';
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
  type Stage,
} from './promql';
import { bySeverity, offTheBus, xidAction, xidBucket, type XidBucket, xidName } from './xid';

/**
 * The pool view's figures, read from Prometheus at one moment. `null` everywhere means "not reported":
 * the series does not exist (or the figure cannot be computed, e.g. a quantile with no requests). A zero
 * is only ever a zero Prometheus measured.
 */

export type NodeStatus = 'Ready' | 'NotReady' | 'Unknown';

export interface NodeRow {
  name: string;
  status: NodeStatus;
  /** GPUs reporting to dcgm-exporter from this node. */
  gpus: number;
  /** GPUs the node has (its `nvidia.com/gpu` capacity); null when kube-state-metrics does not say. */
  expectedGpus: number | null;
  /** How old the node's Ready sample is, in seconds. */
  ageS: number | null;
  stale: boolean;
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
  /** The last XID error the GPU reported, however long ago; 0 is none. */
  xid: number | null;
  /** DCGM_FI_PROF_GR_ENGINE_ACTIVE as %, absent on T4s. */
  engineActivePercent: number | null;
  /** Pages retired for single- and double-bit errors (null when the exporter's counters are off). */
  retiredPages: number | null;
  pendingRetirement: number | null;
  pcieReplays: number | null;
  /** Share of the last 5 minutes throttled by the power cap, or for temperature (0 to 1). */
  powerThrottle: number | null;
  thermalThrottle: number | null;
  /** How old the GPU's samples are, in seconds. */
  ageS: number | null;
  stale: boolean;
}

/** One GPU's reports of one XID in the last XID_WINDOW, with the catalogue's bucket. */
export interface XidEventRow {
  gpuId: string;
  host: string | null;
  index: string | null;
  xid: number;
  name: string;
  count: number;
  /** null for an XID not in lib/pool/xid.ts. */
  bucket: XidBucket | null;
  action: string;
}

/** Whose requests the gateway blocked: one organisation, or one of its Outposts. */
export interface BlockedRow {
  /** The `org` label (the organisation's slug); null for a gateway build without the label. */
  org: string | null;
  /** The `outpost` label (the Outpost's name); null for SaaS requests. */
  outpost: string | null;
  last15m: number | null;
  last24h: number | null;
  /** The organisation the slug names in the portal's database (lib/pool/index.ts looks it up); null if none. */
  orgId: string | null;
  orgName: string | null;
}

/** Where the page's inputs come from. Each alert names the source it needs (SOURCE_OF). */
export type SourceId = 'nodes' | 'gpus' | 'inference' | 'gateway';

export const SOURCES: Record<SourceId, { exporter: string; data: string }> = {
  nodes: { exporter: 'kube-state-metrics', data: 'node data' },
  gpus: { exporter: 'dcgm-exporter', data: 'GPU data' },
  inference: { exporter: 'text-embeddings-inference', data: 'inference data' },
  gateway: { exporter: 'the gateway', data: 'fail-closed counter' },
};

export interface SourceState {
  id: SourceId;
  exporter: string;
  /** How many series the source has now. */
  series: number;
  /** The age of its oldest and newest samples, in seconds; null without series. */
  oldestAgeS: number | null;
  newestAgeS: number | null;
  /** missing: no series at all; stale: some sample is older than the limit; fresh otherwise. */
  state: 'missing' | 'stale' | 'fresh';
}

export interface ScrapeJob {
  job: string;
  targets: number;
  up: number;
  /** The targets whose last scrape failed, by `instance`. */
  down: string[];
  /** The age of the job's oldest last scrape, in seconds. */
  lastScrapeAgeS: number | null;
  stale: boolean;
}

/** A GPU that should serve and does not: it fell off the bus (XID 79), or its node reports fewer GPUs. */
export interface MissingGpu {
  node: string;
  /** The GPU, when dcgm-exporter still reports it. */
  gpu: string | null;
  reason: string;
}

export interface PoolSnapshot {
  /** The moment the figures were evaluated at (ISO). */
  asOf: string;
  /** Prometheus's base URL. */
  source: string;
  /** The data comes from this project's fixture exporters, not a real pool. */
  demo: boolean;
  p95TargetMs: number;
  /** Samples older than this many seconds are marked stale. */
  staleAfterS: number;
  sources: SourceState[];
  scrape: ScrapeJob[];
  nodes: { ready: number | null; notReady: number | null; list: NodeRow[] };
  gpus: {
    count: number | null;
    /** GPUs the Ready nodes of the pool have (capacity); null when kube-state-metrics does not say. */
    expected: number | null;
    /** GPUs on Ready nodes that report and have not fallen off the bus. */
    serving: number;
    missing: MissingGpu[];
    /** Mean utilisation of the serving GPUs (on Ready nodes), in %. */
    utilMean: number | null;
    fbUsedMiB: number | null;
    fbFreeMiB: number | null;
    hottest: { tempC: number; gpu: GpuRow | null } | null;
    /** GPUs whose gauge holds a last XID, however old; null without the gauge. */
    withXid: number | null;
    /** The XIDs of the last XID_WINDOW, the most disruptive action first; empty when none. */
    xidEvents: XidEventRow[];
    overMemory: number | null;
    list: GpuRow[];
  };
  inference: {
    queueDepth: number | null;
    requestRate: number | null;
    p50Ms: number | null;
    p95Ms: number | null;
    /** p50 and p95 of each stage of a request over 5 minutes, in ms. */
    stages: Array<{ stage: Stage; p50Ms: number | null; p95Ms: number | null }>;
    /** Requests per batch TEI formed over 5 minutes: the mean and the p95. */
    batchSizeMean: number | null;
    batchSizeP95: number | null;
    /** The burn rate of the p95 latency objective over each window, and the alert's window pairs. */
    burn: { rates: Record<BurnWindow, number | null>; pairs: BurnPair[] };
    errorRatio: number | null;
    errorsByReason: Array<{ reason: string; ratio: number | null }>;
  };
  failClosed: {
    ratePerSecond: number | null;
    last15m: number | null;
    last24h: number | null;
    byReason24h: Array<{ reason: string; count: number | null }>;
    /** Blocks by organisation and Outpost, the most blocked now first (docs/PLATFORM_CONTRACT.md). */
    byOrg: BlockedRow[];
  };
  /** The alerts that fire. */
  alerts: PoolAlert[];
  /** The alerts that cannot be evaluated now, each with what is missing. */
  unknown: UnknownAlert[];
}

export type AlertId = 'scrape' | 'xid' | 'missing_gpu' | 'not_ready' | 'gpu_memory' | 'p95' | 'fail_closed';

export interface PoolAlert {
  id: AlertId;
  title: string;
  detail: string;
}

export interface UnknownAlert {
  id: AlertId;
  title: string;
  /** "cannot tell: …", naming the missing source. */
  reason: string;
}

/** What Prometheus answered, before it is shaped: the tests compare these with Prometheus directly. */
export interface RawSnapshot {
  time: number;
  scalars: Record<ScalarKey, number | null>;
  nodes: Sample[];
  gpuCapacity: Sample[];
  gpuFields: Sample[];
  xidEvents: Sample[];
  durationBuckets5m: Sample[];
  durationBuckets30m: Sample[];
  durationBuckets1h: Sample[];
  durationBuckets6h: Sample[];
  powerThrottle: Sample[];
  thermalThrottle: Sample[];
  errorRatioByReason: Sample[];
  failClosed24hByReason: Sample[];
  failClosed15mByOrg: Sample[];
  failClosed24hByOrg: Sample[];
  up: Sample[];
  upTimes: Sample[];
  nodeTimes: Sample[];
  gpuTimes: Sample[];
  inferenceTimes: Sample[];
  gatewayTimes: Sample[];
}

/** The vector queries of a snapshot, read as they are. */
const VECTOR_KEYS = [
  'nodes',
  'gpuCapacity',
  'gpuFields',
  'xidEvents',
  'durationBuckets5m',
  'durationBuckets30m',
  'durationBuckets1h',
  'durationBuckets6h',
  'powerThrottle',
  'thermalThrottle',
  'errorRatioByReason',
  'failClosed24hByReason',
  'failClosed15mByOrg',
  'failClosed24hByOrg',
  'up',
  'upTimes',
  'nodeTimes',
  'gpuTimes',
  'inferenceTimes',
  'gatewayTimes',
] as const;

/** NaN (no data to divide by, a quantile of nothing) and ±Inf are not figures anyone can read. */
const finite = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);

export async function readRaw(
  client: PrometheusClient,
  o: PoolQueryOptions,
  time: number,
): Promise<RawSnapshot> {
  const q = instantQueries(o);
  const [scalars, vectors] = await Promise.all([
    Promise.all(SCALAR_KEYS.map(async (key) => [key, (await client.query(q[key], time))[0]?.value] as const)),
    Promise.all(VECTOR_KEYS.map(async (key) => [key, await client.query(q[key], time)] as const)),
  ]);
  return {
    time,
    scalars: Object.fromEntries(scalars.map(([k, v]) => [k, finite(v)])) as Record<ScalarKey, number | null>,
    ...(Object.fromEntries(vectors) as Record<(typeof VECTOR_KEYS)[number], Sample[]>),
  };
}

/** One row per GPU, from one sample per GPU and DCGM field; a field the GPU does not report stays null. */
const hostOf = (labels: Record<string, string>) => labels.hostname ?? labels.Hostname ?? null;
const gpuId = (labels: Record<string, string>) =>
  labels.UUID ?? `${hostOf(labels) ?? labels.instance ?? '?'}/${labels.gpu ?? '?'}`;

export function gpuRows(samples: Sample[], times: Sample[] = [], at = 0, staleAfterS = Infinity): GpuRow[] {
  const rows = new Map<string, GpuRow>();
  const ages = agesBy(times, gpuId, at);
  for (const { labels, value } of samples) {
    const host = hostOf(labels);
    const index = labels.gpu ?? null;
    const id = gpuId(labels);
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
      retiredPages: null,
      pendingRetirement: null,
      pcieReplays: null,
      powerThrottle: null,
      thermalThrottle: null,
      ageS: ages.get(id) ?? null,
      stale: (ages.get(id) ?? 0) > staleAfterS,
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
      case 'DCGM_FI_DEV_RETIRED_SBE':
      case 'DCGM_FI_DEV_RETIRED_DBE':
        row.retiredPages = v === null ? row.retiredPages : (row.retiredPages ?? 0) + v;
        break;
      case 'DCGM_FI_DEV_RETIRED_PENDING':
        row.pendingRetirement = v;
        break;
      case 'DCGM_FI_DEV_PCIE_REPLAY_COUNTER':
        row.pcieReplays = v;
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

/** Per key, the age (seconds before `at`) of the oldest sample: `timestamp()` answers, one per series. */
function agesBy(times: Sample[], key: (labels: Record<string, string>) => string, at: number) {
  const ages = new Map<string, number>();
  for (const t of times) {
    const k = key(t.labels);
    ages.set(k, Math.max(ages.get(k) ?? -Infinity, at - t.value));
  }
  return ages;
}

/** One row per node of the pool, with its GPUs (matched by the DCGM host label, which is the node name). */
export function nodeRows(
  samples: Sample[],
  gpus: GpuRow[],
  capacity: Sample[] = [],
  times: Sample[] = [],
  at = 0,
  staleAfterS = Infinity,
): NodeRow[] {
  const ages = agesBy(times, (l) => l.node ?? '', at);
  return samples
    .filter((s) => s.labels.node)
    .map((s) => {
      const name = s.labels.node!;
      const mine = gpus.filter((g) => g.host === name);
      const utils = mine.map((g) => g.utilPercent).filter((u): u is number => u !== null);
      const expected = capacity.find((c) => c.labels.node === name);
      return {
        name,
        status: STATUS[s.labels.status ?? ''] ?? 'Unknown',
        gpus: mine.length,
        expectedGpus: expected ? finite(expected.value) : null,
        gpuUtilMean: utils.length ? utils.reduce((a, b) => a + b, 0) / utils.length : null,
        ageS: ages.get(name) ?? null,
        stale: (ages.get(name) ?? 0) > staleAfterS,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** With scale-down mode Deallocate, this many NotReady nodes stall the AKS cluster autoscaler (AKS #5211). */
export const NOT_READY_STALL = 3;

/** The source each alert reads: without it, fresh, the alert cannot be evaluated. */
const SOURCE_OF: Record<Exclude<AlertId, 'scrape'>, SourceId[]> = {
  xid: ['gpus'],
  missing_gpu: ['nodes', 'gpus'],
  not_ready: ['nodes'],
  gpu_memory: ['gpus'],
  p95: ['inference'],
  fail_closed: ['gateway'],
};

const TITLES: Record<AlertId, string> = {
  scrape: 'Scrape targets down',
  xid: 'XID errors in the last hour',
  missing_gpu: 'GPUs missing',
  not_ready: 'NotReady nodes',
  gpu_memory: 'GPU memory above 90 %',
  p95: 'p95 latency objective: error budget burning fast',
  fail_closed: 'Requests blocked (fail-closed)',
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const burnText = (rate: number | null) => `${rate === null ? '?' : rate.toFixed(1)}×`;

/** Why an alert on these sources cannot be evaluated, or null when every one is there and fresh. */
function cannotTell(sources: SourceState[], ids: SourceId[], staleAfterS: number): string | null {
  const reasons = ids.flatMap((id) => {
    const s = sources.find((x) => x.id === id)!;
    const { exporter, data } = SOURCES[id];
    if (s.state === 'missing') return [`no ${data} from ${exporter}`];
    if (s.state === 'stale')
      return [`${data} from ${exporter} is ${Math.round(s.oldestAgeS!)} s old (limit ${staleAfterS} s)`];
    return [];
  });
  return reasons.length ? `cannot tell: ${reasons.join('; ')}` : null;
}

export function alertsOf(s: Omit<PoolSnapshot, 'alerts' | 'unknown'>): {
  alerts: PoolAlert[];
  unknown: UnknownAlert[];
} {
  const alerts: PoolAlert[] = [];
  const fire = (id: AlertId, detail: string, title = TITLES[id]) => alerts.push({ id, title, detail });

  const down = s.scrape.filter((j) => j.down.length);
  if (down.length)
    fire(
      'scrape',
      `Prometheus cannot scrape ${down.map((j) => `${j.job} (${j.down.length} of ${j.targets} down: ${j.down.join(', ')})`).join('; ')}.`,
    );
  // An XID whose bucket is "no action" is listed, not raised.
  const xids = s.gpus.xidEvents.filter((e) => e.bucket !== 'IGNORE');
  if (xids.length)
    fire(
      'xid',
      `${xids
        .map(
          (e) =>
            `XID ${e.xid} ${plural(e.count, 'time')} on ${e.host ?? e.gpuId} GPU ${e.index ?? '?'} (${e.action})`,
        )
        .join('; ')}.`,
    );
  if (s.gpus.missing.length)
    fire(
      'missing_gpu',
      `${s.gpus.serving} of ${s.gpus.expected ?? '?'} expected GPUs serve: ${s.gpus.missing
        .map((m) => `${m.node}${m.gpu ? ` GPU ${m.gpu}` : ''} (${m.reason})`)
        .join(', ')}.`,
      `${plural(s.gpus.missing.length, 'GPU')} missing`,
    );
  if (s.nodes.notReady !== null && s.nodes.notReady >= NOT_READY_STALL)
    fire(
      'not_ready',
      `${NOT_READY_STALL} or more NotReady nodes (deallocated nodes stay NotReady) stall the AKS cluster autoscaler (AKS issue 5211): the pool cannot scale up.`,
      `${s.nodes.notReady} nodes NotReady`,
    );
  if (s.gpus.overMemory)
    fire(
      'gpu_memory',
      `${plural(s.gpus.overMemory, 'GPU has', 'GPUs have')} more than 90 % of the framebuffer in use.`,
    );
  const burning = s.inference.burn.pairs.filter((p) => p.fires);
  if (burning.length)
    fire(
      'p95',
      `Requests slower than the ${s.p95TargetMs} ms target (5 % may be) spend the error budget ${burning
        .map(
          (p) =>
            `${burnText(p.longRate)} as fast as allowed over ${WINDOW_WORDS[p.long]} and ${burnText(p.shortRate)} over ${WINDOW_WORDS[p.short]} (alert above ${p.threshold}×)`,
        )
        .join('; ')}.`,
    );
  if (s.failClosed.last15m !== null && Math.round(s.failClosed.last15m) > 0)
    fire(
      'fail_closed',
      `The gateway blocked about ${Math.round(s.failClosed.last15m).toLocaleString('en')} requests in the last 15 minutes because no GPU could serve DLP inference.`,
    );

  // An alert that does not fire is only known not to fire when its inputs are there and fresh.
  const unknown: UnknownAlert[] = [];
  for (const [id, sources] of Object.entries(SOURCE_OF) as Array<[keyof typeof SOURCE_OF, SourceId[]]>) {
    if (alerts.some((a) => a.id === id)) continue;
    const reason = cannotTell(s.sources, sources, s.staleAfterS);
    const blind = s.inference.burn.pairs.filter((p) => p.fires === null);
    if (reason) unknown.push({ id, title: TITLES[id], reason });
    else if (id === 'p95' && blind.length)
      unknown.push({
        id,
        title: TITLES[id],
        reason: `cannot tell: no request-duration histogram from text-embeddings-inference over ${blind
          .map((p) => `${WINDOW_WORDS[p.long]} / ${WINDOW_WORDS[p.short]}`)
          .join(' and ')}`,
      });
    else if (id === 'missing_gpu' && s.gpus.expected === null)
      unknown.push({
        id,
        title: TITLES[id],
        reason:
          'cannot tell: kube-state-metrics reports no nvidia_com_gpu capacity for the Ready nodes of the pool',
      });
  }
  // A GPU that does not report can neither raise an XID nor fill its memory.
  if (s.gpus.missing.some((m) => m.gpu === null))
    for (const id of ['xid', 'gpu_memory'] as const)
      if (!alerts.some((a) => a.id === id) && !unknown.some((u) => u.id === id))
        unknown.push({
          id,
          title: TITLES[id],
          reason: `cannot tell for every GPU: no GPU data from dcgm-exporter for ${[
            ...new Set(s.gpus.missing.filter((m) => m.gpu === null).map((m) => m.node)),
          ].join(', ')}`,
        });
  return { alerts, unknown };
}

function sourceState(id: SourceId, times: Sample[], at: number, staleAfterS: number): SourceState {
  const ages = times.map((t) => at - t.value).filter(Number.isFinite);
  const oldest = ages.length ? Math.max(...ages) : null;
  return {
    id,
    exporter: SOURCES[id].exporter,
    series: ages.length,
    oldestAgeS: oldest,
    newestAgeS: ages.length ? Math.min(...ages) : null,
    state: oldest === null ? 'missing' : oldest > staleAfterS ? 'stale' : 'fresh',
  };
}

function scrapeJobs(up: Sample[], upTimes: Sample[], at: number, staleAfterS: number): ScrapeJob[] {
  const jobs = new Map<string, ScrapeJob>();
  const key = (l: Record<string, string>) => `${l.job ?? ''}\u0000${l.instance ?? ''}`;
  const ages = agesBy(upTimes, key, at);
  for (const { labels, value } of up) {
    const name = labels.job ?? '(no job)';
    const job = jobs.get(name) ?? {
      job: name,
      targets: 0,
      up: 0,
      down: [],
      lastScrapeAgeS: null,
      stale: false,
    };
    job.targets += 1;
    if (value === 1) job.up += 1;
    else job.down.push(labels.instance ?? '?');
    const age = ages.get(key(labels)) ?? null;
    if (age !== null) job.lastScrapeAgeS = Math.max(job.lastScrapeAgeS ?? -Infinity, age);
    job.stale = job.lastScrapeAgeS !== null && job.lastScrapeAgeS > staleAfterS;
    jobs.set(name, job);
  }
  for (const job of jobs.values()) job.down.sort();
  return [...jobs.values()].sort((a, b) => b.down.length - a.down.length || a.job.localeCompare(b.job));
}

/** The GPUs that Ready nodes should have and that do not serve (XID 79, or not reported). */
export function missingGpus(nodes: NodeRow[], gpus: GpuRow[]): MissingGpu[] {
  const missing: MissingGpu[] = [];
  for (const node of nodes.filter((n) => n.status === 'Ready')) {
    const mine = gpus.filter((g) => g.host === node.name);
    for (const g of mine.filter((x) => x.xid !== null && offTheBus(x.xid)))
      missing.push({ node: node.name, gpu: g.index ?? g.id, reason: `XID ${g.xid}: ${xidName(g.xid!)}` });
    const absent = (node.expectedGpus ?? 0) - mine.length;
    for (let i = 0; i < absent; i++)
      missing.push({ node: node.name, gpu: null, reason: 'not reported by dcgm-exporter' });
  }
  return missing;
}

/** The XID events per GPU and code, the most disruptive action first, then the most frequent. */
export function xidEventRows(samples: Sample[]): XidEventRow[] {
  return samples
    .flatMap(({ labels, value }) => {
      const xid = Number(labels.xid);
      const count = finite(value);
      if (!Number.isInteger(xid) || count === null || count <= 0) return [];
      return [
        {
          gpuId: gpuId(labels),
          host: hostOf(labels),
          index: labels.gpu ?? null,
          xid,
          name: xidName(xid),
          count,
          bucket: xidBucket(xid),
          action: xidAction(xid),
        },
      ];
    })
    .sort((a, b) => bySeverity(a.xid, b.xid) || b.count - a.count || a.gpuId.localeCompare(b.gpuId));
}

/** One row per organisation and Outpost in either window; a window without the row's series is null. */
export function blockedRows(last15m: Sample[], last24h: Sample[]): BlockedRow[] {
  const key = (l: Record<string, string>) => `${l.org ?? ''}\u0000${l.outpost ?? ''}`;
  const rows = new Map<string, BlockedRow>();
  for (const [samples, field] of [
    [last24h, 'last24h'],
    [last15m, 'last15m'],
  ] as const)
    for (const { labels, value } of samples) {
      const row = rows.get(key(labels)) ?? {
        org: labels.org ?? null,
        outpost: labels.outpost ?? null,
        last15m: null,
        last24h: null,
        orgId: null,
        orgName: null,
      };
      row[field] = finite(value);
      rows.set(key(labels), row);
    }
  return [...rows.values()].sort(
    (a, b) =>
      (b.last15m ?? 0) - (a.last15m ?? 0) ||
      (b.last24h ?? 0) - (a.last24h ?? 0) ||
      (a.org ?? '').localeCompare(b.org ?? ''),
  );
}

/** Names each row's organisation from the portal's own records, by slug; an unknown slug stays unnamed. */
export function withOrgs(rows: BlockedRow[], orgs: Map<string, { id: string; name: string }>): BlockedRow[] {
  return rows.map((r) => {
    const org = r.org === null ? undefined : orgs.get(r.org);
    return { ...r, orgId: org?.id ?? null, orgName: org?.name ?? null };
  });
}

/** The burn rate of the latency objective over each window, and which window pairs fire. */
function burnOf(raw: RawSnapshot, targetMs: number): PoolSnapshot['inference']['burn'] {
  const rates: Record<BurnWindow, number | null> = {
    '5m': burnRate(raw.durationBuckets5m, targetMs),
    '30m': burnRate(raw.durationBuckets30m, targetMs),
    '1h': burnRate(raw.durationBuckets1h, targetMs),
    '6h': burnRate(raw.durationBuckets6h, targetMs),
  };
  return { rates, pairs: burnPairs(rates) };
}

export function shapeSnapshot(
  raw: RawSnapshot,
  source: string,
  p95TargetMs: number,
  staleAfterS: number,
): PoolSnapshot {
  const v = raw.scalars;
  const at = raw.time;
  const list = gpuRows(raw.gpuFields, raw.gpuTimes, at, staleAfterS);
  for (const [samples, key] of [
    [raw.powerThrottle, 'powerThrottle'],
    [raw.thermalThrottle, 'thermalThrottle'],
  ] as const)
    for (const sample of samples) {
      const row = list.find((g) => g.id === gpuId(sample.labels));
      if (row) row[key] = finite(sample.value);
    }
  const nodes = nodeRows(raw.nodes, list, raw.gpuCapacity, raw.nodeTimes, at, staleAfterS);
  const ms = (s: number | null) => (s === null ? null : s * 1000);
  const hottest =
    v.hottestTempC === null
      ? null
      : { tempC: v.hottestTempC, gpu: list.find((g) => g.tempC === v.hottestTempC) ?? null };
  const ready = nodes.filter((n) => n.status === 'Ready');
  const missing = missingGpus(nodes, list);
  const capacities = ready.map((n) => n.expectedGpus);
  const expected = capacities.some((c) => c !== null)
    ? capacities.reduce<number>((a, c) => a + (c ?? 0), 0)
    : null;
  const onReady = list.filter((g) => ready.some((n) => n.name === g.host));
  const base: Omit<PoolSnapshot, 'alerts' | 'unknown'> = {
    asOf: new Date(at * 1000).toISOString(),
    source,
    demo: v.demo === 1,
    p95TargetMs,
    staleAfterS,
    sources: [
      sourceState('nodes', raw.nodeTimes, at, staleAfterS),
      sourceState('gpus', raw.gpuTimes, at, staleAfterS),
      sourceState('inference', raw.inferenceTimes, at, staleAfterS),
      sourceState('gateway', raw.gatewayTimes, at, staleAfterS),
    ],
    scrape: scrapeJobs(raw.up, raw.upTimes, at, staleAfterS),
    nodes: { ready: v.readyNodes, notReady: v.notReadyNodes, list: nodes },
    gpus: {
      count: v.gpuCount,
      expected,
      serving: onReady.filter((g) => !(g.xid !== null && offTheBus(g.xid))).length,
      missing,
      utilMean: v.servingUtilMean,
      fbUsedMiB: v.fbUsedMiB,
      fbFreeMiB: v.fbFreeMiB,
      hottest,
      withXid: v.gpusWithXid,
      xidEvents: xidEventRows(raw.xidEvents),
      overMemory: v.gpusOverMemory,
      list,
    },
    inference: {
      queueDepth: v.queueDepth,
      requestRate: v.requestRate,
      p50Ms: ms(v.p50Seconds),
      p95Ms: ms(v.p95Seconds),
      stages: [
        { stage: 'queue', p50Ms: ms(v.queueP50Seconds), p95Ms: ms(v.queueP95Seconds) },
        { stage: 'tokenization', p50Ms: ms(v.tokenizationP50Seconds), p95Ms: ms(v.tokenizationP95Seconds) },
        { stage: 'inference', p50Ms: ms(v.inferenceP50Seconds), p95Ms: ms(v.inferenceP95Seconds) },
      ],
      batchSizeMean: v.batchSizeMean,
      batchSizeP95: v.batchSizeP95,
      burn: burnOf(raw, p95TargetMs),
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
      byOrg: blockedRows(raw.failClosed15mByOrg, raw.failClosed24hByOrg),
    },
  };
  return { ...base, ...alertsOf(base) };
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
