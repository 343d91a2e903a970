/**
 * Every PromQL expression the GPU pool view runs, and nothing else builds PromQL. Each says what it
 * measures. How they cope with the real exporters (DESIGN section 7):
 *
 * - Counters may or may not carry `_total`: `eitherCounter` reads both names. `or` joins them after
 *   rate() or increase() has dropped the metric name, so a target exporting one name and a target
 *   exporting the other are both counted, and nothing is counted twice.
 * - The dcgm-exporter host label is `Hostname` (older) or `hostname` (newer): no expression groups by it;
 *   the per-GPU rows read either label (lib/pool/snapshot.ts).
 * - DCGM_FI_PROF_* is absent on T4s: only the per-GPU rows read it, as "not reported" when absent.
 * - A missing series stays missing: aggregations over nothing return nothing, which the view shows as
 *   "not reported". Where a zero must be told apart from no data, the expression uses `> bool` (a 0 or 1
 *   per series, summed) rather than a filter, so that "none of them" is 0 while "no series" is nothing.
 */

/** A PromQL string literal. PromQL strings use Go's escapes, which agree with JSON's for these. */
export function promString(value: string): string {
  return JSON.stringify(value);
}

/** `fn(name)` or `fn(name_total)`, for a counter exported with or without the `_total` suffix. */
export function eitherCounter(name: string, fn: (metric: string) => string): string {
  return `(${fn(name)} or ${fn(`${name}_total`)})`;
}

export interface PoolQueryOptions {
  /** A regular expression on kube-state-metrics' `node` label that selects the pool's nodes. */
  nodePattern: string;
}

/** The DCGM fields of the per-GPU table. DCGM_FI_PROF_GR_ENGINE_ACTIVE is absent on T4s. */
export const GPU_FIELDS = [
  'DCGM_FI_DEV_GPU_UTIL',
  'DCGM_FI_DEV_FB_USED',
  'DCGM_FI_DEV_FB_FREE',
  'DCGM_FI_DEV_GPU_TEMP',
  'DCGM_FI_DEV_POWER_USAGE',
  'DCGM_FI_DEV_XID_ERRORS',
  'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
  // Off in dcgm-exporter's default-counters.csv except the PCIe replays: "not reported" until enabled.
  'DCGM_FI_DEV_RETIRED_SBE',
  'DCGM_FI_DEV_RETIRED_DBE',
  'DCGM_FI_DEV_RETIRED_PENDING',
  'DCGM_FI_DEV_PCIE_REPLAY_COUNTER',
] as const;

/** The throttling counters (µs of throttling since boot, off by default), read as a share of time. */
export const THROTTLE_FIELDS = {
  power: 'DCGM_FI_DEV_POWER_VIOLATION',
  thermal: 'DCGM_FI_DEV_THERMAL_VIOLATION',
} as const;

/** The share of a GPU's framebuffer in use, per GPU (used / (used + free)). */
const FB_USED_RATIO = 'DCGM_FI_DEV_FB_USED / (DCGM_FI_DEV_FB_USED + DCGM_FI_DEV_FB_FREE)';

/**
 * Per node of the pool, 1 when its Ready condition is true (one sample per node, even when two
 * kube-state-metrics replicas are scraped).
 */
const readyNode = (node: string) =>
  `max by (node) (kube_node_status_condition{condition="Ready",status="true",${node}} == 1)`;

/** A DCGM field with the GPU's node in `node`, copied from the host label (`Hostname` or `hostname`). */
const onNode = (field: string) =>
  `label_replace(label_replace(${field}, "node", "$1", "Hostname", "(.+)"), "node", "$1", "hostname", "(.+)")`;

/** How far back the XID counts look: an XID older than this no longer raises the alert. */
export const XID_WINDOW = '1h';
/** The resolution of the XID counts: two changes of the gauge closer than this count as one. */
const XID_STEP = '30s';

/**
 * Per GPU and XID code (label `xid`), how many times the GPU reported that XID over `window`.
 * DCGM_FI_DEV_XID_ERRORS holds the last XID and keeps it until the next one (or a driver reload sets 0), so
 * its value alone would alert forever. Each change of the gauge to a non-zero value is one XID event: the
 * gauge is compared with itself one step earlier, the new value becomes the `xid` label (count_values),
 * and the steps where that happened are counted over the window. A repeat shows as a count above 1 when
 * another XID came in between; the same XID twice in a row leaves the gauge unchanged and counts once.
 */
const xidEvents = (window: string) =>
  `count_over_time((count_values without () ("xid", (DCGM_FI_DEV_XID_ERRORS != DCGM_FI_DEV_XID_ERRORS offset ${XID_STEP}) > 0))[${window}:${XID_STEP}])`;

/** Requests per second that text-embeddings-inference received, over `window`, summed over replicas. */
const requests = (window: string) => eitherCounter('te_request_count', (m) => `rate(${m}[${window}])`);
/** Failed requests per second, with TEI's `err` label (overloaded, backend, tokenizer, validation…). */
const failures = (window: string) => eitherCounter('te_request_failure', (m) => `rate(${m}[${window}])`);
/** The gateway's fail-closed blocks (docs/PLATFORM_CONTRACT.md) over `window`, by `fn` (rate or increase). */
const failClosed = (fn: 'rate' | 'increase', window: string) =>
  eitherCounter('arbitex_dlp_failclosed', (m) => `${fn}(${m}[${window}])`);

/** A quantile of one of TEI's histograms over `window`, all replicas (seconds for the durations). */
const quantile = (q: number, histogram: string, window: string) =>
  `histogram_quantile(${q}, sum by (le) (rate(${histogram}_bucket[${window}])))`;
/** A latency quantile in seconds from TEI's request-duration histogram (the whole request). */
const latency = (q: number, window: string) => quantile(q, 'te_request_duration', window);

/** TEI's histograms of each stage of a request: waiting in the queue, tokenisation, inference. */
export const STAGE_HISTOGRAMS = {
  queue: 'te_request_queue_duration',
  tokenization: 'te_request_tokenization_duration',
  inference: 'te_request_inference_duration',
} as const;
export type Stage = keyof typeof STAGE_HISTOGRAMS;

/** The request-duration buckets' rates over `window`, by `le`: the burn-rate alert reads them (lib/pool/burn.ts). */
const durationBuckets = (window: string) => `sum by (le) (rate(te_request_duration_bucket[${window}]))`;

/**
 * The instant queries of one snapshot. Each answers one unlabelled sample, or none ("not reported"),
 * except `nodes` and `gpuFields`, which answer one sample per node and per GPU field.
 */
export function instantQueries(o: PoolQueryOptions) {
  const node = `node=~${promString(o.nodePattern)}`;
  return {
    /** The pool's nodes whose Ready condition is true (kube-state-metrics: 1 on the status in force). */
    readyNodes: `sum(kube_node_status_condition{condition="Ready",status="true",${node}})`,
    /** The pool's nodes whose Ready condition is false or unknown: NotReady, including deallocated ones. */
    notReadyNodes: `sum(kube_node_status_condition{condition="Ready",status=~"false|unknown",${node}})`,
    /** Per node, the Ready condition's status in force (`status` is true, false or unknown). */
    nodes: `kube_node_status_condition{condition="Ready",${node}} == 1`,

    /** Per node of the pool, the GPUs it has (the NVIDIA device plugin's `nvidia.com/gpu` capacity). */
    gpuCapacity: `max by (node) (kube_node_status_capacity{resource="nvidia_com_gpu",${node}})`,

    /** How many GPUs dcgm-exporter reports. */
    gpuCount: 'count(DCGM_FI_DEV_GPU_UTIL)',
    /**
     * Mean utilisation of the GPUs that can serve, in %: those on Ready nodes of the pool. A NotReady
     * node's GPUs serve nothing, and averaging them in would hide a saturated pool.
     */
    servingUtilMean: `avg(${onNode('DCGM_FI_DEV_GPU_UTIL')} * on (node) group_left () ${readyNode(node)})`,
    /** Framebuffer in use over all GPUs, in MiB. */
    fbUsedMiB: 'sum(DCGM_FI_DEV_FB_USED)',
    /** Framebuffer free over all GPUs, in MiB. */
    fbFreeMiB: 'sum(DCGM_FI_DEV_FB_FREE)',
    /** The hottest GPU's temperature, in °C. */
    hottestTempC: 'max(DCGM_FI_DEV_GPU_TEMP)',
    /** How many GPUs have more than 90 % of their framebuffer in use (0 when none, nothing when no data). */
    gpusOverMemory: `sum(${FB_USED_RATIO} > bool 0.9)`,
    /** How many GPUs have a last XID (the gauge holds the last XID seen, however old; 0 means none). */
    gpusWithXid: 'sum(DCGM_FI_DEV_XID_ERRORS > bool 0)',
    /** Per GPU and XID code, the XIDs reported in the last XID_WINDOW. */
    xidEvents: xidEvents(XID_WINDOW),
    /** Every per-GPU field of the GPU table, one sample per GPU and field. */
    gpuFields: `{__name__=~${promString(GPU_FIELDS.join('|'))}}`,
    /** Per GPU, the share of the last 5 minutes it was throttled by its power cap (µs per s / 10⁶). */
    powerThrottle: `rate(${THROTTLE_FIELDS.power}[5m]) / 1e6`,
    /** Per GPU, the share of the last 5 minutes it was throttled for temperature. */
    thermalThrottle: `rate(${THROTTLE_FIELDS.thermal}[5m]) / 1e6`,

    /** Requests waiting in text-embeddings-inference's queues, all replicas. */
    queueDepth: 'sum(te_queue_size)',
    /** Inference requests per second over the last 5 minutes. */
    requestRate: `sum(${requests('5m')})`,
    /** Median inference latency over the last 5 minutes, in seconds. */
    p50Seconds: latency(0.5, '5m'),
    /** 95th-percentile inference latency over the last 5 minutes, in seconds. */
    p95Seconds: latency(0.95, '5m'),
    /** The same quantiles of each stage (seconds): where the time goes. */
    queueP50Seconds: quantile(0.5, STAGE_HISTOGRAMS.queue, '5m'),
    queueP95Seconds: quantile(0.95, STAGE_HISTOGRAMS.queue, '5m'),
    tokenizationP50Seconds: quantile(0.5, STAGE_HISTOGRAMS.tokenization, '5m'),
    tokenizationP95Seconds: quantile(0.95, STAGE_HISTOGRAMS.tokenization, '5m'),
    inferenceP50Seconds: quantile(0.5, STAGE_HISTOGRAMS.inference, '5m'),
    inferenceP95Seconds: quantile(0.95, STAGE_HISTOGRAMS.inference, '5m'),
    /** The mean number of requests in the batches TEI formed over the last 5 minutes. */
    batchSizeMean: 'sum(rate(te_batch_next_size_sum[5m])) / sum(rate(te_batch_next_size_count[5m]))',
    /** The 95th-percentile batch size over the last 5 minutes (TEI's buckets are powers of two). */
    batchSizeP95: quantile(0.95, 'te_batch_next_size', '5m'),
    /** The request-duration buckets over each window of the burn-rate alert. */
    durationBuckets5m: durationBuckets('5m'),
    durationBuckets30m: durationBuckets('30m'),
    durationBuckets1h: durationBuckets('1h'),
    durationBuckets6h: durationBuckets('6h'),
    /**
     * The share of requests that failed over the last 5 minutes. TEI creates its failure counter at the
     * first failure, so with requests counted and no failure counter the share is a measured 0.
     */
    errorRatio: `(sum(${failures('5m')}) or sum(${requests('5m')}) * 0) / sum(${requests('5m')})`,
    /** The share of requests that failed over the last 5 minutes, by TEI's `err` label. */
    errorRatioByReason: `sum by (err) (${failures('5m')}) / scalar(sum(${requests('5m')}))`,

    /** Requests the gateway blocked (fail-closed) per second over the last 5 minutes. */
    failClosedRate: `sum(${failClosed('rate', '5m')})`,
    /** Requests the gateway blocked in the last 15 minutes (the alert). */
    failClosed15m: `sum(${failClosed('increase', '15m')})`,
    /** Requests the gateway blocked in the last 24 hours. */
    failClosed24h: `sum(${failClosed('increase', '24h')})`,
    /** Requests the gateway blocked in the last 24 hours, by the gateway's `reason` label. */
    failClosed24hByReason: `sum by (reason) (${failClosed('increase', '24h')})`,
    /** Requests the gateway blocked, by organisation (slug) and Outpost (name), in 15 minutes and 24 hours. */
    failClosed15mByOrg: `sum by (org, outpost) (${failClosed('increase', '15m')})`,
    failClosed24hByOrg: `sum by (org, outpost) (${failClosed('increase', '24h')})`,

    /** Every scrape target: 1 when its last scrape succeeded, 0 when it failed. */
    up: 'up',
    /** When each target was last scraped (unix seconds). */
    upTimes: 'timestamp(up)',
    /**
     * When each input's samples were taken (unix seconds), one per series: a scrape gap leaves the last
     * samples in place for Prometheus's 5-minute lookback, and only their timestamps tell they are old.
     */
    nodeTimes: `timestamp(kube_node_status_condition{condition="Ready",status="true",${node}})`,
    gpuTimes: 'timestamp(DCGM_FI_DEV_GPU_UTIL)',
    inferenceTimes: 'timestamp(te_queue_size)',
    gatewayTimes: '(timestamp(arbitex_dlp_failclosed_total) or timestamp(arbitex_dlp_failclosed))',

    /** 1 when the data comes from this project's fixture exporters (npm run pool:demo, the tests). */
    demo: 'max(arbitex_fixture_info)',
  } as const;
}

export type InstantKey = keyof ReturnType<typeof instantQueries>;
/** The instant queries that answer one unlabelled sample. */
export const SCALAR_KEYS = [
  'readyNodes',
  'notReadyNodes',
  'gpuCount',
  'servingUtilMean',
  'fbUsedMiB',
  'fbFreeMiB',
  'hottestTempC',
  'gpusOverMemory',
  'gpusWithXid',
  'queueDepth',
  'requestRate',
  'p50Seconds',
  'p95Seconds',
  'queueP50Seconds',
  'queueP95Seconds',
  'tokenizationP50Seconds',
  'tokenizationP95Seconds',
  'inferenceP50Seconds',
  'inferenceP95Seconds',
  'batchSizeMean',
  'batchSizeP95',
  'errorRatio',
  'failClosedRate',
  'failClosed15m',
  'failClosed24h',
  'demo',
] as const satisfies readonly InstantKey[];
export type ScalarKey = (typeof SCALAR_KEYS)[number];

/** The charts' time ranges: how far back, the step between points, and the rate window. */
export const RANGES = {
  '1h': { seconds: 3600, step: 30, window: '5m' },
  '24h': { seconds: 86_400, step: 600, window: '10m' },
} as const;
export type RangeKey = keyof typeof RANGES;

/** The charts' queries over one range (the rate window grows with the step, so no point is empty). */
export function rangeQueries(o: PoolQueryOptions, range: RangeKey) {
  const { window } = RANGES[range];
  const q = instantQueries(o);
  return {
    /** Ready nodes of the pool. */
    readyNodes: q.readyNodes,
    /** NotReady nodes of the pool. */
    notReadyNodes: q.notReadyNodes,
    /** Mean utilisation of the GPUs on Ready nodes, in %. */
    servingUtilMean: q.servingUtilMean,
    /** The fullest GPU's framebuffer use, in %. */
    fbUsedMaxPercent: `max(${FB_USED_RATIO}) * 100`,
    /** Inference requests per second. */
    requestRate: `sum(${requests(window)})`,
    /** 95th-percentile inference latency, in milliseconds. */
    p95Ms: `${latency(0.95, window)} * 1000`,
    /** Fail-closed blocks per second. */
    failClosedRate: `sum(${failClosed('rate', window)})`,
  } as const;
}
export type RangeSeriesKey = keyof ReturnType<typeof rangeQueries>;
