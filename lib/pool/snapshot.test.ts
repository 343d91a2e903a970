import { describe, expect, it } from 'vitest';
import * as fmt from '@/lib/format';
import { PrometheusClient, type Sample } from './client';
import { burnPairs, type BurnWindow } from './burn';
import { eitherCounter, instantQueries, SCALAR_KEYS } from './promql';
import {
  alertsOf,
  gpuRows,
  nodeRows,
  type PoolSnapshot,
  type RawSnapshot,
  readRaw,
  blockedRows,
  shapeSnapshot,
  withOrgs,
  xidEventRows,
} from './snapshot';

const T4 = { gpu: '0', device: 'nvidia0', modelName: 'Tesla T4' };

function field(name: string, labels: Record<string, string>, value: number): Sample {
  return { labels: { __name__: name, ...labels }, value };
}

describe('gpuRows: the dcgm-exporter variants', () => {
  it('reads the host from `Hostname` (older exporters) and from `hostname` (newer ones)', () => {
    const rows = gpuRows([
      field('DCGM_FI_DEV_GPU_UTIL', { ...T4, UUID: 'GPU-a', Hostname: 'node-a' }, 71),
      field('DCGM_FI_DEV_GPU_UTIL', { ...T4, UUID: 'GPU-b', hostname: 'node-b' }, 12),
    ]);
    expect(rows.map((r) => [r.uuid, r.host, r.utilPercent])).toEqual([
      ['GPU-a', 'node-a', 71],
      ['GPU-b', 'node-b', 12],
    ]);
  });

  it('shows a missing DCGM_FI_PROF_* field (T4s) as not reported, and one that is there as %', () => {
    const [t4, a100] = gpuRows([
      field('DCGM_FI_DEV_GPU_UTIL', { ...T4, UUID: 'GPU-a', hostname: 'a' }, 50),
      field('DCGM_FI_DEV_GPU_UTIL', { ...T4, UUID: 'GPU-b', hostname: 'b', modelName: 'A100' }, 50),
      field(
        'DCGM_FI_PROF_GR_ENGINE_ACTIVE',
        { ...T4, UUID: 'GPU-b', hostname: 'b', modelName: 'A100' },
        0.42,
      ),
    ]);
    expect(t4!.engineActivePercent).toBeNull();
    expect(fmt.percent(t4!.engineActivePercent)).toBe('not reported');
    expect(a100!.engineActivePercent).toBeCloseTo(42);
  });

  it('leaves every field the GPU does not report null, never 0, and a measured 0 as 0', () => {
    const [row] = gpuRows([
      field('DCGM_FI_DEV_FB_USED', { ...T4, UUID: 'GPU-a', Hostname: 'a' }, 0),
      field('DCGM_FI_DEV_XID_ERRORS', { ...T4, UUID: 'GPU-a', Hostname: 'a' }, 0),
    ]);
    expect(row).toMatchObject({ fbUsedMiB: 0, xid: 0, utilPercent: null, fbFreeMiB: null, tempC: null });
    // Without the free framebuffer there is no share of it.
    expect(row!.fbUsedPercent).toBeNull();
  });

  it('reads retired pages (single- plus double-bit), pending retirement and PCIe replays; not reported when off', () => {
    const [off, on] = gpuRows([
      field('DCGM_FI_DEV_PCIE_REPLAY_COUNTER', { ...T4, UUID: 'GPU-a', hostname: 'a' }, 0),
      field('DCGM_FI_DEV_RETIRED_SBE', { ...T4, UUID: 'GPU-b', hostname: 'b' }, 2),
      field('DCGM_FI_DEV_RETIRED_DBE', { ...T4, UUID: 'GPU-b', hostname: 'b' }, 1),
      field('DCGM_FI_DEV_RETIRED_PENDING', { ...T4, UUID: 'GPU-b', hostname: 'b' }, 0),
    ]);
    expect(off).toMatchObject({ retiredPages: null, pendingRetirement: null, pcieReplays: 0 });
    expect(on).toMatchObject({ retiredPages: 3, pendingRetirement: 0, pcieReplays: null });
  });

  it('computes the framebuffer share from used and free, and keys a GPU without UUID by host and index', () => {
    const [row] = gpuRows([
      field('DCGM_FI_DEV_FB_USED', { gpu: '1', hostname: 'a' }, 900),
      field('DCGM_FI_DEV_FB_FREE', { gpu: '1', hostname: 'a' }, 100),
    ]);
    expect(row).toMatchObject({ id: 'a/1', uuid: null, fbUsedPercent: 90 });
  });
});

describe('nodeRows', () => {
  it('names the Ready status in force and matches GPUs by the host label', () => {
    const gpus = gpuRows([field('DCGM_FI_DEV_GPU_UTIL', { ...T4, UUID: 'GPU-a', Hostname: 'n1' }, 40)]);
    const rows = nodeRows(
      [
        { labels: { node: 'n2', status: 'unknown' }, value: 1 },
        { labels: { node: 'n1', status: 'true' }, value: 1 },
        { labels: { node: 'n3', status: 'false' }, value: 1 },
      ],
      gpus,
    );
    expect(rows).toEqual([
      { name: 'n1', status: 'Ready', gpus: 1, expectedGpus: null, gpuUtilMean: 40, ageS: null, stale: false },
      {
        name: 'n2',
        status: 'Unknown',
        gpus: 0,
        expectedGpus: null,
        gpuUtilMean: null,
        ageS: null,
        stale: false,
      },
      {
        name: 'n3',
        status: 'NotReady',
        gpus: 0,
        expectedGpus: null,
        gpuUtilMean: null,
        ageS: null,
        stale: false,
      },
    ]);
  });
});

function emptyRaw(): RawSnapshot {
  return {
    time: 1_800_000_000,
    scalars: Object.fromEntries(SCALAR_KEYS.map((k) => [k, null])) as RawSnapshot['scalars'],
    nodes: [],
    gpuCapacity: [],
    gpuFields: [],
    xidEvents: [],
    durationBuckets5m: [],
    durationBuckets30m: [],
    durationBuckets1h: [],
    durationBuckets6h: [],
    powerThrottle: [],
    thermalThrottle: [],
    errorRatioByReason: [],
    failClosed24hByReason: [],
    failClosed15mByOrg: [],
    failClosed24hByOrg: [],
    up: [],
    upTimes: [],
    nodeTimes: [],
    gpuTimes: [],
    inferenceTimes: [],
    gatewayTimes: [],
  };
}

/** A snapshot whose four sources each have one series, sampled `ageS` seconds before it. */
function freshRaw(ageS = 1): RawSnapshot {
  const raw = emptyRaw();
  const t = raw.time - ageS;
  raw.nodeTimes = [{ labels: { node: 'n1' }, value: t }];
  raw.gpuTimes = [{ labels: { UUID: 'GPU-a', hostname: 'n1', gpu: '0' }, value: t }];
  raw.inferenceTimes = [{ labels: { instance: 'tei' }, value: t }];
  raw.gatewayTimes = [{ labels: { instance: 'gw' }, value: t }];
  raw.nodes = [{ labels: { node: 'n1', status: 'true' }, value: 1 }];
  raw.gpuCapacity = [{ labels: { node: 'n1' }, value: 1 }];
  raw.gpuFields = [
    field('DCGM_FI_DEV_GPU_UTIL', { ...T4, UUID: 'GPU-a', hostname: 'n1' }, 50),
    field('DCGM_FI_DEV_XID_ERRORS', { ...T4, UUID: 'GPU-a', hostname: 'n1' }, 0),
  ];
  // 1 % of requests slower than 250 ms: a burn rate of 0.2 in every window.
  const buckets = durationBuckets({ '0.1': 95, '0.25': 99, '+Inf': 100 });
  raw.durationBuckets5m = raw.durationBuckets30m = raw.durationBuckets1h = raw.durationBuckets6h = buckets;
  return raw;
}

function durationBuckets(counts: Record<string, number>): Sample[] {
  return Object.entries(counts).map(([le, value]) => ({ labels: { le }, value }));
}

describe('shapeSnapshot: missing series', () => {
  it('shows nothing reported as "not reported" everywhere, and says of every alert that it cannot tell', () => {
    const s = shapeSnapshot(emptyRaw(), 'http://prometheus:9090', 250, 30);
    expect(s.nodes).toEqual({ ready: null, notReady: null, list: [] });
    expect(s.sources.map((x) => x.state)).toEqual(['missing', 'missing', 'missing', 'missing']);
    expect(s.gpus).toMatchObject({ count: null, utilMean: null, hottest: null, withXid: null });
    expect(s.inference).toMatchObject({ queueDepth: null, requestRate: null, p95Ms: null, errorRatio: null });
    expect(s.failClosed).toMatchObject({ ratePerSecond: null, last15m: null, last24h: null });
    expect(s.alerts).toEqual([]);
    expect(s.unknown.map((u) => [u.id, u.reason])).toEqual([
      ['xid', 'cannot tell: no GPU data from dcgm-exporter'],
      ['missing_gpu', 'cannot tell: no node data from kube-state-metrics; no GPU data from dcgm-exporter'],
      ['not_ready', 'cannot tell: no node data from kube-state-metrics'],
      ['gpu_memory', 'cannot tell: no GPU data from dcgm-exporter'],
      ['p95', 'cannot tell: no inference data from text-embeddings-inference'],
      ['fail_closed', 'cannot tell: no fail-closed counter from the gateway'],
    ]);
    expect(s.demo).toBe(false);
    for (const text of [
      fmt.count(s.nodes.ready),
      fmt.percent(s.gpus.utilMean),
      fmt.perSecond(s.inference.requestRate),
      fmt.ms(s.inference.p95Ms),
      fmt.share(s.inference.errorRatio),
      fmt.count(s.failClosed.last24h),
    ])
      expect(text).toBe('not reported');
  });

  it('keeps a measured zero a zero', () => {
    const raw = emptyRaw();
    raw.scalars.notReadyNodes = 0;
    raw.scalars.failClosed24h = 0;
    raw.scalars.errorRatio = 0;
    const s = shapeSnapshot(raw, 'http://p', 250, 30);
    expect([
      fmt.count(s.nodes.notReady),
      fmt.count(s.failClosed.last24h),
      fmt.share(s.inference.errorRatio),
    ]).toEqual(['0', '0', '0.00 %']);
  });
});

describe('readRaw', () => {
  it('turns an empty answer into null and NaN (a quantile of no requests) into null', async () => {
    const fake = {
      query: async (expr: string) => {
        if (expr.startsWith('histogram_quantile')) return [{ labels: {}, value: NaN }];
        if (expr === 'sum(te_queue_size)') return [{ labels: {}, value: 0 }];
        return [];
      },
    } as unknown as PrometheusClient;
    const raw = await readRaw(fake, { nodePattern: '.*' }, 1);
    expect(raw.scalars.p95Seconds).toBeNull();
    expect(raw.scalars.queueDepth).toBe(0);
    expect(raw.scalars.readyNodes).toBeNull();
  });
});

describe('alerts', () => {
  function snapshot(patch: (s: Omit<PoolSnapshot, 'alerts' | 'unknown'>) => void) {
    const s: Omit<PoolSnapshot, 'alerts' | 'unknown'> = shapeSnapshot(freshRaw(), 'http://p', 250, 30);
    patch(s);
    const { alerts, unknown } = alertsOf(s);
    expect(unknown).toEqual([]);
    return alerts.map((a) => a.id);
  }

  it('says "cannot tell" for an alert whose source is stale, naming it and its age', () => {
    const s = shapeSnapshot(freshRaw(44), 'http://p', 250, 30);
    expect(s.sources.every((x) => x.state === 'stale')).toBe(true);
    expect(s.unknown.find((u) => u.id === 'not_ready')?.reason).toBe(
      'cannot tell: node data from kube-state-metrics is 44 s old (limit 30 s)',
    );
    expect(s.nodes.list[0]).toMatchObject({ ageS: 44, stale: true });
    expect(s.gpus.list[0]).toMatchObject({ ageS: 44, stale: true });
    expect(shapeSnapshot(freshRaw(29), 'http://p', 250, 30).unknown).toEqual([]);
  });

  it('names a GPU that fell off the bus (XID 79) and one a Ready node does not report as missing', () => {
    const raw = freshRaw();
    raw.gpuCapacity = [{ labels: { node: 'n1' }, value: 2 }];
    raw.gpuFields = [field('DCGM_FI_DEV_XID_ERRORS', { ...T4, UUID: 'GPU-a', hostname: 'n1' }, 79)];
    const s = shapeSnapshot(raw, 'http://p', 250, 30);
    expect(s.gpus).toMatchObject({ expected: 2, serving: 0 });
    expect(s.gpus.missing).toEqual([
      { node: 'n1', gpu: '0', reason: 'XID 79: GPU has fallen off the bus' },
      { node: 'n1', gpu: null, reason: 'not reported by dcgm-exporter' },
    ]);
    expect(s.alerts.find((a) => a.id === 'missing_gpu')).toMatchObject({
      title: '2 GPUs missing',
      detail:
        '0 of 2 expected GPUs serve: n1 GPU 0 (XID 79: GPU has fallen off the bus), n1 (not reported by dcgm-exporter).',
    });
    // The GPU that does not report cannot be known to be free of XIDs or memory pressure; the 79 the gauge
    // holds was reported before the window, so it raises no XID alert of its own (it is a missing GPU).
    expect(s.unknown.map((u) => u.id)).toEqual(['xid', 'gpu_memory']);
  });

  it('raises an alert for a scrape target that is down, naming the job and instance', () => {
    const raw = freshRaw();
    raw.up = [
      { labels: { job: 'dcgm-exporter', instance: '10.0.0.1:9400' }, value: 0 },
      { labels: { job: 'dcgm-exporter', instance: '10.0.0.2:9400' }, value: 1 },
    ];
    const s = shapeSnapshot(raw, 'http://p', 250, 30);
    expect(s.scrape).toEqual([
      {
        job: 'dcgm-exporter',
        targets: 2,
        up: 1,
        down: ['10.0.0.1:9400'],
        lastScrapeAgeS: null,
        stale: false,
      },
    ]);
    expect(s.alerts.map((a) => a.detail)).toEqual([
      'Prometheus cannot scrape dcgm-exporter (1 of 2 down: 10.0.0.1:9400).',
    ]);
  });

  it('warns from 3 NotReady nodes on (AKS issue 5211), not before', () => {
    expect(snapshot((s) => (s.nodes.notReady = 2))).toEqual([]);
    expect(snapshot((s) => (s.nodes.notReady = 3))).toEqual(['not_ready']);
  });

  it('raises XID, GPU memory, p95 above target and fail-closed blocks', () => {
    expect(
      snapshot((s) => {
        s.gpus.withXid = 1;
        s.gpus.list = gpuRows([field('DCGM_FI_DEV_XID_ERRORS', { ...T4, UUID: 'GPU-a', hostname: 'a' }, 79)]);
        s.gpus.xidEvents = xidEventRows([{ labels: { UUID: 'GPU-a', hostname: 'a', xid: '79' }, value: 1 }]);
        s.gpus.missing = [{ node: 'a', gpu: '0', reason: 'XID 79' }];
        s.gpus.overMemory = 2;
        s.inference.burn = burnOf({ '5m': 15, '30m': 1, '1h': 15, '6h': 1 });
        s.failClosed.last15m = 3;
      }),
    ).toEqual(['xid', 'missing_gpu', 'gpu_memory', 'p95', 'fail_closed']);
    expect(
      snapshot((s) => {
        // A last XID from before the window, and one in it whose bucket is "no action": no alert.
        s.gpus.withXid = 1;
        s.gpus.xidEvents = xidEventRows([{ labels: { UUID: 'GPU-a', hostname: 'a', xid: '43' }, value: 2 }]);
        s.gpus.overMemory = 0;
        // The last hour burnt, but the last 5 minutes no longer do: recovered, no alert.
        s.inference.burn = burnOf({ '5m': 2, '30m': 7, '1h': 15, '6h': 5 });
        // increase() extrapolates: less than half a request is none.
        s.failClosed.last15m = 0.4;
      }),
    ).toEqual([]);
  });
});

function burnOf(rates: Record<BurnWindow, number | null>) {
  return { rates, pairs: burnPairs(rates) };
}

describe('the burn-rate alert', () => {
  it('fires on the latency objective from the request-duration buckets, naming both windows', () => {
    const raw = freshRaw();
    // 30 % of requests slower than 150 ms: 6 times the 5 % budget; 50 % slower than 100 ms: 10 times.
    raw.durationBuckets5m = raw.durationBuckets1h = durationBuckets({ '0.1': 50, '0.2': 90, '+Inf': 100 });
    // 99 % within 10 ms over 30 min and 6 h.
    raw.durationBuckets30m = raw.durationBuckets6h = durationBuckets({ '0.01': 99, '+Inf': 100 });
    const s = shapeSnapshot(raw, 'http://p', 100, 30);
    expect(s.inference.burn.rates['1h']).toBeCloseTo(10);
    expect(s.inference.burn.pairs.map((p) => p.fires)).toEqual([false, false]);
    const fast = shapeSnapshot(raw, 'http://p', 50, 30);
    // 75 % slower than 50 ms: 15 times the budget, above 14.4 in 1 h and 5 min.
    expect(fast.inference.burn.pairs.map((p) => p.fires)).toEqual([true, false]);
    expect(fast.alerts.find((a) => a.id === 'p95')?.detail).toBe(
      'Requests slower than the 50 ms target (5 % may be) spend the error budget 15.0× as fast as allowed over 1 h and 15.0× over 5 min (alert above 14.4×).',
    );
  });

  it('says "cannot tell" when a window has no histogram and no other pair fires', () => {
    const raw = freshRaw();
    raw.durationBuckets6h = [];
    const s = shapeSnapshot(raw, 'http://p', 250, 30);
    expect(s.inference.burn.rates['6h']).toBeNull();
    expect(s.unknown.map((u) => [u.id, u.reason])).toEqual([
      ['p95', 'cannot tell: no request-duration histogram from text-embeddings-inference over 6 h / 30 min'],
    ]);
    // A pair that fires is enough, whatever the other one.
    raw.durationBuckets5m = raw.durationBuckets1h = durationBuckets({ '0.01': 10, '+Inf': 100 });
    const firing = shapeSnapshot(raw, 'http://p', 10, 30);
    expect(firing.alerts.map((a) => a.id)).toContain('p95');
    expect(firing.unknown).toEqual([]);
  });
});

describe('XID events', () => {
  it('counts each XID per GPU with its bucket, the most disruptive first, and names them in the alert', () => {
    const gpu = { UUID: 'GPU-a', hostname: 'n1', gpu: '0' };
    const rows = xidEventRows([
      { labels: { ...gpu, xid: '43' }, value: 3 },
      { labels: { ...gpu, xid: '31' }, value: 2 },
      { labels: { ...gpu, xid: '48' }, value: 1 },
      { labels: { ...gpu, xid: '999' }, value: 1 },
    ]);
    expect(rows.map((r) => [r.xid, r.count, r.bucket])).toEqual([
      [48, 1, 'RESET_GPU'],
      [999, 1, null],
      [31, 2, 'RESTART_APP'],
      [43, 3, 'IGNORE'],
    ]);
    const raw = freshRaw();
    raw.xidEvents = [{ labels: { ...gpu, xid: '31' }, value: 3 }];
    expect(shapeSnapshot(raw, 'http://p', 250, 30).alerts.find((a) => a.id === 'xid')?.detail).toBe(
      'XID 31 3 times on n1 GPU 0 (application error: restart the application).',
    );
  });

  it('raises no alert for a last XID the gauge still holds from before the window', () => {
    const raw = freshRaw();
    raw.gpuFields = [field('DCGM_FI_DEV_XID_ERRORS', { ...T4, UUID: 'GPU-a', hostname: 'n1' }, 13)];
    const s = shapeSnapshot(raw, 'http://p', 250, 30);
    expect(s.gpus.list[0]!.xid).toBe(13);
    expect(s.gpus.xidEvents).toEqual([]);
    expect(s.alerts.map((a) => a.id)).not.toContain('xid');
    expect(s.unknown).toEqual([]);
  });
});

describe('fail-closed blocks by organisation and Outpost', () => {
  it('joins both windows per organisation and Outpost, the most blocked now first, and links known slugs', () => {
    const rows = blockedRows(
      [
        { labels: { org: 'acme', outpost: 'east' }, value: 4 },
        { labels: { org: 'globex' }, value: 9 },
      ],
      [
        { labels: { org: 'acme', outpost: 'east' }, value: 40 },
        { labels: { org: 'globex' }, value: 90 },
        { labels: { org: 'acme' }, value: 7 },
        { labels: {}, value: 12 },
      ],
    );
    expect(rows.map((r) => [r.org, r.outpost, r.last15m, r.last24h])).toEqual([
      ['globex', null, 9, 90],
      ['acme', 'east', 4, 40],
      [null, null, null, 12],
      ['acme', null, null, 7],
    ]);
    const named = withOrgs(rows, new Map([['acme', { id: 'id-acme', name: 'Acme Ltd' }]]));
    expect(named.map((r) => [r.org, r.orgId, r.orgName])).toEqual([
      ['globex', null, null],
      ['acme', 'id-acme', 'Acme Ltd'],
      [null, null, null],
      ['acme', 'id-acme', 'Acme Ltd'],
    ]);
  });
});

describe('the PromQL', () => {
  it('reads counters under both names, joined after rate() dropped the name', () => {
    expect(eitherCounter('te_request_count', (m) => `rate(${m}[5m])`)).toBe(
      '(rate(te_request_count[5m]) or rate(te_request_count_total[5m]))',
    );
    const q = instantQueries({ nodePattern: 'aks-gpupool-.*' });
    expect(q.failClosed24h).toContain('arbitex_dlp_failclosed[24h]');
    expect(q.failClosed24h).toContain('arbitex_dlp_failclosed_total[24h]');
  });

  it('quotes the node pattern as a PromQL string', () => {
    const q = instantQueries({ nodePattern: 'aks-"gpu\\d+' });
    expect(q.readyNodes).toContain('node=~"aks-\\"gpu\\\\d+"');
  });
});
