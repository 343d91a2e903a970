import { describe, expect, it } from 'vitest';
import * as fmt from '@/components/pool/format';
import { PrometheusClient, type Sample } from './client';
import { eitherCounter, instantQueries, SCALAR_KEYS } from './promql';
import {
  alertsOf,
  gpuRows,
  nodeRows,
  type PoolSnapshot,
  type RawSnapshot,
  readRaw,
  shapeSnapshot,
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
      { name: 'n1', status: 'Ready', gpus: 1, gpuUtilMean: 40 },
      { name: 'n2', status: 'Unknown', gpus: 0, gpuUtilMean: null },
      { name: 'n3', status: 'NotReady', gpus: 0, gpuUtilMean: null },
    ]);
  });
});

function emptyRaw(): RawSnapshot {
  return {
    time: 1_800_000_000,
    scalars: Object.fromEntries(SCALAR_KEYS.map((k) => [k, null])) as RawSnapshot['scalars'],
    nodes: [],
    gpuFields: [],
    errorRatioByReason: [],
    failClosed24hByReason: [],
  };
}

describe('shapeSnapshot: missing series', () => {
  it('shows nothing reported as "not reported" everywhere, and raises no alert on missing data', () => {
    const s = shapeSnapshot(emptyRaw(), 'http://prometheus:9090', 250);
    expect(s.nodes).toEqual({ ready: null, notReady: null, list: [] });
    expect(s.gpus).toMatchObject({ count: null, utilMean: null, hottest: null, withXid: null });
    expect(s.inference).toMatchObject({ queueDepth: null, requestRate: null, p95Ms: null, errorRatio: null });
    expect(s.failClosed).toMatchObject({ ratePerSecond: null, last15m: null, last24h: null });
    expect(s.alerts).toEqual([]);
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
    const s = shapeSnapshot(raw, 'http://p', 250);
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
  function snapshot(patch: (s: Omit<PoolSnapshot, 'alerts'>) => void) {
    const s: Omit<PoolSnapshot, 'alerts'> = shapeSnapshot(emptyRaw(), 'http://p', 250);
    patch(s);
    return alertsOf(s).map((a) => a.id);
  }

  it('warns from 3 NotReady nodes on (AKS issue 5211), not before', () => {
    expect(snapshot((s) => (s.nodes.notReady = 2))).toEqual([]);
    expect(snapshot((s) => (s.nodes.notReady = 3))).toEqual(['not_ready']);
  });

  it('raises XID, GPU memory, p95 above target and fail-closed blocks', () => {
    expect(
      snapshot((s) => {
        s.gpus.withXid = 1;
        s.gpus.list = gpuRows([field('DCGM_FI_DEV_XID_ERRORS', { ...T4, UUID: 'GPU-a', hostname: 'a' }, 79)]);
        s.gpus.overMemory = 2;
        s.inference.p95Ms = 251;
        s.failClosed.last15m = 3;
      }),
    ).toEqual(['xid', 'gpu_memory', 'p95', 'fail_closed']);
    expect(
      snapshot((s) => {
        s.gpus.withXid = 0;
        s.gpus.overMemory = 0;
        s.inference.p95Ms = 250;
        // increase() extrapolates: less than half a request is none.
        s.failClosed.last15m = 0.4;
      }),
    ).toEqual([]);
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
