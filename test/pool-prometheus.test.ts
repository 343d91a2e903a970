/**
 * lib/pool against a real Prometheus (the Debian package) scraping the fixture exporters, started once for
 * this file by test/prometheus.ts. Each figure is compared twice:
 * - with the same PromQL evaluated by that Prometheus at the same moment (no rounding allowed), and
 * - with what the fixture exporters served (exactly for gauges; for rates, quantiles and 24 h totals
 *   within Prometheus's extrapolation at the edges of a window).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EXPECTED,
  FAIL_CLOSED,
  GPUS,
  NODES,
  REPLICAS,
  TARGETS,
  type Target,
} from '@/e2e/fixtures/metrics/model';
import { PrometheusClient, PrometheusError } from '@/lib/pool/client';
import { instantQueries, SCALAR_KEYS } from '@/lib/pool/promql';
import { type RawSnapshot, readHistory, readRaw, shapeSnapshot } from '@/lib/pool/snapshot';
import { type PoolHarness, startPoolHarness } from './prometheus';

const PROMETHEUS_PORT = Number(process.env.POOL_TEST_PROMETHEUS_PORT ?? 19093);
const FIXTURE_PORT = Number(process.env.POOL_TEST_FIXTURE_PORT ?? 19094);
const OPTIONS = { nodePattern: 'aks-gpupool-.*' };

let harness: PoolHarness;
let client: PrometheusClient;
/** One snapshot, evaluated a few seconds in the past so that no scrape in flight can still change it. */
let raw: RawSnapshot;

beforeAll(async () => {
  harness = await startPoolHarness({ prometheusPort: PROMETHEUS_PORT, fixturePort: FIXTURE_PORT });
  client = new PrometheusClient({ url: harness.url, timeoutMs: 5000 });
  await new Promise((resolve) => setTimeout(resolve, 3000));
  raw = await readRaw(client, OPTIONS, Date.now() / 1000 - 3);
}, 180_000);

afterAll(async () => {
  await harness?.stop();
});

/** Prometheus's own answer, through a plain GET (not lib/pool's client). */
async function direct(expr: string, time: number) {
  const url = `${harness.url}/api/v1/query?${new URLSearchParams({ query: expr, time: String(time) })}`;
  const body = (await (await fetch(url)).json()) as {
    data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
  };
  return body.data.result.map((r) => ({ labels: r.metric, value: Number(r.value[1]) }));
}

/** Parses exposition text into samples. */
function parse(text: string) {
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((line) => {
      const [, name, labelText, value] = /^([^{\s]+)(?:\{(.*)\})?\s+(\S+)$/.exec(line)!;
      const labels = Object.fromEntries(
        [...(labelText ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]),
      );
      return { name: name!, labels, value: Number(value) };
    });
}

/** What `target` served at the scrape Prometheus stamped `seconds`. */
async function served(target: Target, seconds: number) {
  const res = await fetch(
    `${harness.fixtureUrl}/_served?${new URLSearchParams({ path: target.path, at: String(Math.round(seconds * 1000)) })}`,
  );
  expect(res.status, await res.clone().text()).toBe(200);
  return parse(await res.text());
}

/** What `target` would serve at `seconds`. */
async function rendered(target: Target, seconds: number) {
  const res = await fetch(
    `${harness.fixtureUrl}/_render?${new URLSearchParams({ path: target.path, at: String(seconds * 1000) })}`,
  );
  return parse(await res.text());
}

/** The timestamp of the sample of `metric` from `target` that an instant query at `time` uses. */
async function scrapeTime(metric: string, target: Target, time: number): Promise<number> {
  const [sample] = await direct(`timestamp(${metric}{instance="${target.instance}"})`, time);
  return sample!.value;
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const targetsOf = (job: string) => TARGETS.filter((t) => t.job === job);

/** Sum of a counter's increase between two moments, over the given targets and sample names. */
async function increase(
  targets: Target[],
  names: string[],
  from: number,
  to: number,
  match = (_: Record<string, string>) => true,
) {
  let total = 0;
  for (const target of targets) {
    const pick = (samples: Awaited<ReturnType<typeof rendered>>) =>
      sum(samples.filter((s) => names.includes(s.name) && match(s.labels)).map((s) => s.value));
    total += pick(await rendered(target, to)) - pick(await rendered(target, from));
  }
  return total;
}

/** Prometheus's histogram_quantile over bucket counts (upper bound → count), as Prometheus 2 computes it. */
function bucketQuantile(q: number, buckets: Map<number, number>): number {
  const sorted = [...buckets.entries()].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)![1];
  const rank = q * total;
  let i = sorted.findIndex(([, c]) => c >= rank);
  if (i === sorted.length - 1) return sorted.at(-2)![0];
  if (i === -1) i = sorted.length - 1;
  const [end, count] = sorted[i]!;
  const [start, below] = i === 0 ? [0, 0] : sorted[i - 1]!;
  return start + ((end - start) * (rank - below)) / (count - below);
}

describe('lib/pool against a real Prometheus', () => {
  it('answers every figure as Prometheus evaluates the same PromQL at the same moment', async () => {
    const q = instantQueries(OPTIONS);
    for (const key of SCALAR_KEYS) {
      const [sample] = await direct(q[key], raw.time);
      const expected = sample && Number.isFinite(sample.value) ? sample.value : null;
      expect(raw.scalars[key], key).toBe(expected);
    }
    const sorted = (xs: Array<{ labels: Record<string, string>; value: number }>) =>
      xs.map((x) => JSON.stringify([x.labels, x.value])).sort();
    expect(sorted(raw.nodes)).toEqual(sorted(await direct(q.nodes, raw.time)));
    expect(sorted(raw.gpuFields)).toEqual(sorted(await direct(q.gpuFields, raw.time)));
    expect(sorted(raw.failClosed24hByReason)).toEqual(
      sorted(await direct(q.failClosed24hByReason, raw.time)),
    );
  });

  it('shows each GPU as its dcgm-exporter served it, under either host label, with PROF fields not reported', async () => {
    const rows = shapeSnapshot(raw, harness.url, 250).gpus.list;
    expect(rows).toHaveLength(GPUS.length);
    for (const target of targetsOf('dcgm-exporter')) {
      const at = await scrapeTime('DCGM_FI_DEV_GPU_UTIL', target, raw.time);
      const text = await served(target, at);
      const value = (name: string) => text.find((s) => s.name === name)!.value;
      const uuid = text[0]!.labels.UUID!;
      const host = text[0]!.labels.Hostname ?? text[0]!.labels.hostname;
      expect(rows.find((r) => r.uuid === uuid)).toEqual(
        expect.objectContaining({
          host,
          model: 'Tesla T4',
          utilPercent: value('DCGM_FI_DEV_GPU_UTIL'),
          fbUsedMiB: value('DCGM_FI_DEV_FB_USED'),
          fbFreeMiB: value('DCGM_FI_DEV_FB_FREE'),
          tempC: value('DCGM_FI_DEV_GPU_TEMP'),
          powerW: value('DCGM_FI_DEV_POWER_USAGE'),
          xid: value('DCGM_FI_DEV_XID_ERRORS'),
          engineActivePercent: null,
        }),
      );
    }
    // One exporter is old (Hostname), the other new (hostname): both GPUs still know their node.
    expect(rows.map((r) => r.host).sort()).toEqual([NODES[0], NODES[1]]);
    const utils = rows.map((r) => r.utilPercent!);
    expect(raw.scalars.gpuUtilMean).toBe(sum(utils) / utils.length);
    expect(raw.scalars.fbUsedMiB).toBe(sum(rows.map((r) => r.fbUsedMiB!)));
    expect(raw.scalars.hottestTempC).toBe(Math.max(...rows.map((r) => r.tempC!)));
    expect(raw.scalars.gpusWithXid).toBe(1);
    expect(raw.scalars.gpusOverMemory).toBe(rows.filter((r) => r.fbUsedPercent! > 90).length);
  });

  it('counts the nodes and the queue as kube-state-metrics and TEI served them', async () => {
    const [ksm] = targetsOf('kube-state-metrics');
    const text = await served(ksm!, await scrapeTime('kube_node_status_condition', ksm!, raw.time));
    const ready = text.filter(
      (s) => s.name === 'kube_node_status_condition' && s.labels.condition === 'Ready' && s.value === 1,
    );
    const pool = ready.filter((s) => s.labels.node!.startsWith('aks-gpupool-'));
    expect(raw.scalars.readyNodes).toBe(pool.filter((s) => s.labels.status === 'true').length);
    expect(raw.scalars.notReadyNodes).toBe(pool.filter((s) => s.labels.status !== 'true').length);
    expect([raw.scalars.readyNodes, raw.scalars.notReadyNodes]).toEqual([EXPECTED.ready, EXPECTED.notReady]);
    // The system pool's node is left out.
    expect(ready.length).toBe(pool.length + 1);

    let queue = 0;
    for (const target of targetsOf('text-embeddings-inference')) {
      const tei = await served(target, await scrapeTime('te_queue_size', target, raw.time));
      queue += tei.find((s) => s.name === 'te_queue_size')!.value;
    }
    expect(raw.scalars.queueDepth).toBe(queue);
  });

  it('computes request rate, latency quantiles and error ratio as the TEI counters grew', async () => {
    const tei = targetsOf('text-embeddings-inference');
    const [to, from] = [raw.time, raw.time - 300];
    const requests = await increase(tei, ['te_request_count'], from, to);
    expect(Math.abs(raw.scalars.requestRate! - requests / 300) / (requests / 300)).toBeLessThan(0.02);

    const failures = await increase(tei, ['te_request_failure'], from, to);
    expect(Math.abs(raw.scalars.errorRatio! - failures / requests)).toBeLessThan(0.0005);
    const byReason = Object.fromEntries(raw.errorRatioByReason.map((s) => [s.labels.err, s.value]));
    expect(Object.keys(byReason).sort()).toEqual(['backend', 'overloaded', 'tokenizer']);

    // The buckets' increases over the window, summed over both replicas, then Prometheus's interpolation.
    const buckets = new Map<number, number>();
    for (const target of tei) {
      const [now, then] = [await rendered(target, to), await rendered(target, from)];
      for (const s of now.filter((x) => x.name === 'te_request_duration_bucket')) {
        const before = then.find((x) => x.name === s.name && x.labels.le === s.labels.le)!.value;
        const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
        buckets.set(le, (buckets.get(le) ?? 0) + s.value - before);
      }
    }
    for (const [key, q] of [
      ['p50Seconds', 0.5],
      ['p95Seconds', 0.95],
    ] as const) {
      const expected = bucketQuantile(q, buckets);
      expect(Math.abs(raw.scalars[key]! - expected) / expected, key).toBeLessThan(0.01);
    }
    expect(REPLICAS).toHaveLength(tei.length);
  });

  it('counts fail-closed blocks from both gateway builds (with and without _total)', async () => {
    const gateways = targetsOf('arbitex-gateway');
    const names = ['arbitex_dlp_failclosed_total', 'arbitex_dlp_failclosed'];
    const day = await increase(gateways, names, raw.time - 86_400, raw.time);
    expect(Math.abs(raw.scalars.failClosed24h! - day) / day).toBeLessThan(0.01);
    const fiveMinutes = await increase(gateways, names, raw.time - 300, raw.time);
    expect(Math.abs(raw.scalars.failClosedRate! - fiveMinutes / 300) / (fiveMinutes / 300)).toBeLessThan(
      0.03,
    );
    // Each build's share is in the total: leaving either name out would be far off.
    const oldBuildOnly = await increase(gateways.slice(1), names, raw.time - 86_400, raw.time);
    expect(oldBuildOnly).toBeGreaterThan(0.2 * day);
    const byReason = Object.fromEntries(raw.failClosed24hByReason.map((s) => [s.labels.reason, s.value]));
    expect(Object.keys(byReason).sort()).toEqual(Object.keys(FAIL_CLOSED[0]!).sort());
    expect(raw.scalars.demo).toBe(1);
  });

  it('reports a pool it cannot see as not reported, not 0', async () => {
    const none = await readRaw(client, { nodePattern: 'aks-nosuchpool-.*' }, raw.time);
    expect([none.scalars.readyNodes, none.scalars.notReadyNodes, none.nodes.length]).toEqual([null, null, 0]);
    const snapshot = shapeSnapshot(none, harness.url, 250);
    expect(snapshot.nodes.list).toEqual([]);
    expect(snapshot.alerts.map((a) => a.id)).not.toContain('not_ready');
  });

  it('draws the last hour and the last day', async () => {
    const hour = await readHistory(client, OPTIONS, '1h', Date.now() / 1000);
    expect(hour.times).toHaveLength(121);
    for (const [key, values] of Object.entries(hour.series)) {
      expect(values, key).not.toBeNull();
      expect(
        values!.filter((v) => v === null),
        key,
      ).toEqual([]);
    }
    expect(hour.series.readyNodes!.at(-1)).toBe(EXPECTED.ready);
    const day = await readHistory(client, OPTIONS, '24h', Date.now() / 1000);
    expect(day.times).toHaveLength(145);
    expect(day.series.requestRate!.filter((v) => v === null)).toEqual([]);
  });

  it("surfaces Prometheus's errorType for bad PromQL, and names the URL when it is down", async () => {
    const bad = await client.query('sum(', raw.time).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(PrometheusError);
    expect(bad).toMatchObject({ kind: 'prometheus', status: 400, errorType: 'bad_data' });
    await harness.stopPrometheus();
    const down = await readRaw(client, OPTIONS, raw.time).catch((e: unknown) => e);
    expect(down).toMatchObject({ kind: 'unreachable', url: harness.url });
    expect((down as Error).message).toMatch(
      new RegExp(`^Prometheus at ${harness.url}: unreachable \\(.*ECONNREFUSED`),
    );
  });
});
