/**
 * A real Prometheus (the Debian package's /usr/bin/prometheus) scraping the fixture exporters, for the
 * vitest integration tests, the e2e suite and `npm run pool:demo`. Start it once per test file.
 *
 * 1. The fixture server (e2e/fixtures/metrics) listens on `fixturePort`.
 * 2. The fixtures' past is backfilled with promtool (`tsdb create-blocks-from openmetrics`), so that the
 *    1 h and 24 h charts, the 5-minute rates and the 24 h totals have data from the first scrape on.
 * 3. Prometheus starts with a generated configuration: every fixture target, scraped every second.
 * 4. It is ready when `/-/ready` answers and every target has been scraped.
 *
 * The binaries are found on PATH (PROMETHEUS_BIN and PROMTOOL_BIN override); without them every caller
 * fails with the one line to run, never skips.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TARGETS, exposition } from '../e2e/fixtures/metrics/model';
import { startFixtureServer } from '../e2e/fixtures/metrics/server';

export interface PoolHarness {
  /** Prometheus's base URL, for PROMETHEUS_URL. */
  url: string;
  /** The fixture server's base URL. */
  fixtureUrl: string;
  /** When the backfilled past ends and the scrapes begin (ms). */
  startedAt: number;
  /** Stops Prometheus only (the unreachable state); its data stays. */
  stopPrometheus: () => Promise<void>;
  /** Starts Prometheus again on the same data and port, and waits for fresh scrapes. */
  startPrometheus: () => Promise<void>;
  /**
   * Takes every target of a fixture job down (503) or up again, and waits until Prometheus has scraped
   * it so: `up` of the job is 0 (or 1) for every target, stamped after the change.
   */
  setJob: (job: string, state: 'down' | 'up') => Promise<void>;
  /** Stops everything and removes the data. */
  stop: () => Promise<void>;
}

export interface PoolHarnessOptions {
  prometheusPort: number;
  fixturePort: number;
  /** How much past to backfill, in hours (the 24 h views want 24). */
  historyHours?: number;
  /** Prometheus's log lines go here as well as to the harness's own failure messages. */
  log?: (line: string) => void;
}

/** Where Prometheus and promtool are, or a one-line instruction when they are not installed. */
export function prometheusBinaries(): { prometheus: string; promtool: string } {
  const find = (name: string) => {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    return found || undefined;
  };
  const prometheus = process.env.PROMETHEUS_BIN ?? find('prometheus');
  const promtool = process.env.PROMTOOL_BIN ?? find('promtool');
  if (!prometheus || !promtool || !fs.existsSync(prometheus) || !fs.existsSync(promtool)) {
    throw new Error(
      'Prometheus is not installed: run `apt-get install -y --no-install-recommends prometheus` (Debian; .ci/run does).',
    );
  }
  return { prometheus, promtool };
}

export async function startPoolHarness(opts: PoolHarnessOptions): Promise<PoolHarness> {
  const bins = prometheusBinaries();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbitex-prometheus-'));
  const dataDir = path.join(dir, 'data');
  const fixtures = await startFixtureServer(opts.fixturePort);
  const url = `http://127.0.0.1:${opts.prometheusPort}`;
  let child: ChildProcess | undefined;
  let output = '';

  const cleanup = () => child?.kill('SIGKILL');
  process.once('exit', cleanup);

  try {
    const startedAt = Date.now();
    backfill(bins.promtool, dir, dataDir, startedAt, opts.historyHours ?? 24);
    const configFile = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(configFile, JSON.stringify(scrapeConfig(opts.fixturePort), null, 2));

    const start = async () => {
      output = '';
      child = spawn(
        bins.prometheus,
        [
          `--config.file=${configFile}`,
          `--storage.tsdb.path=${dataDir}`,
          `--web.listen-address=127.0.0.1:${opts.prometheusPort}`,
          '--storage.tsdb.retention.time=3d',
          '--log.level=warn',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const collect = (chunk: Buffer) => {
        output += chunk.toString();
        opts.log?.(chunk.toString().trimEnd());
      };
      child.stdout!.on('data', collect);
      child.stderr!.on('data', collect);
      await waitUntilScraped(
        url,
        () => child?.exitCode ?? null,
        () => output,
      );
    };
    const stopPrometheus = async () => {
      const running = child;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGTERM');
      await exited;
    };
    await start();
    const setJob = async (job: string, state: 'down' | 'up') => {
      const res = await fetch(`${fixtures.url}/_${state}?job=${encodeURIComponent(job)}`, { method: 'POST' });
      if (!res.ok) throw new Error(`the fixture refused ${state} ${job}: ${await res.text()}`);
      const since = Date.now() / 1000;
      const want = state === 'up' ? 1 : 0;
      const selector = `up{job=${JSON.stringify(job)}}`;
      const expr = `timestamp(${selector}) and ${selector} == ${want}`;
      const targets = TARGETS.filter((t) => t.job === job).length;
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        const answer = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const body = (await answer.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
        if ((body.data?.result ?? []).filter((r) => Number(r.value[1]) > since).length === targets) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      throw new Error(`Prometheus did not see ${job} ${state} within 20 s`);
    };
    return {
      url,
      fixtureUrl: fixtures.url,
      startedAt,
      stopPrometheus,
      startPrometheus: start,
      setJob,
      stop: async () => {
        await stopPrometheus();
        await fixtures.close();
        process.removeListener('exit', cleanup);
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    cleanup();
    await fixtures.close();
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** One job per fixture job; each target is the fixture server with its own path and pod labels. */
function scrapeConfig(fixturePort: number) {
  const jobs = [...new Set(TARGETS.map((t) => t.job))];
  return {
    global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
    scrape_configs: jobs.map((job) => ({
      job_name: job,
      static_configs: TARGETS.filter((t) => t.job === job).map((t) => ({
        targets: [`127.0.0.1:${fixturePort}`],
        labels: { __metrics_path__: t.path, instance: t.instance, ...t.labels },
      })),
    })),
  };
}

/**
 * The series the pool view reads are all that is backfilled (the rest would only slow promtool down):
 * not the other DCGM fields, nor node conditions other than Ready.
 */
function inHistory(name: string, labels: string): boolean {
  if (name.startsWith('DCGM_FI_'))
    return /^DCGM_FI_(DEV_(GPU_UTIL|FB_USED|FB_FREE|GPU_TEMP|POWER_USAGE|XID_ERRORS|POWER_VIOLATION|THERMAL_VIOLATION|RETIRED_\w+|PCIE_REPLAY_COUNTER)|PROF_)/.test(
      name,
    );
  if (name === 'kube_node_status_condition') return labels.includes('condition="Ready"');
  if (name === 'kube_node_status_capacity') return labels.includes('resource="nvidia_com_gpu"');
  return true;
}

/**
 * The fixtures' past as TSDB blocks: every 2 minutes from `hours` ago, then every second for the last
 * six minutes, so that a 5-minute rate sees evenly spaced samples, as the live scrapes will give it.
 */
function backfill(promtool: string, dir: string, dataDir: string, until: number, hours: number) {
  const times: number[] = [];
  const fine = until - 6 * 60_000;
  // A little more than asked, so that the first point of a 24 h chart has a rate window behind it.
  for (let t = until - hours * 3_600_000 - 20 * 60_000; t < fine; t += 120_000) times.push(t);
  for (let t = fine; t < until; t += 1000) times.push(t);

  // OpenMetrics wants each series' samples together and in time order.
  const series = new Map<string, string[]>();
  for (const target of TARGETS) {
    const extra = { job: target.job, instance: target.instance, ...target.labels };
    for (const t of times) {
      for (const line of exposition(target, t / 1000).split('\n')) {
        if (!line || line.startsWith('#')) continue;
        const match = /^([^{\s]+)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
        if (!match) throw new Error(`the fixture wrote a line the backfill cannot read: ${line}`);
        const [, name, labels, value] = match as unknown as [string, string, string | undefined, string];
        if (!inHistory(name, labels ?? '')) continue;
        const extraText = Object.entries(extra)
          .map(([k, v]) => `${k}="${v}"`)
          .join(',');
        const key = `${name}{${labels ? `${labels},` : ''}${extraText}}`;
        const samples = series.get(key) ?? [];
        samples.push(`${key} ${value} ${(t / 1000).toFixed(3)}`);
        series.set(key, samples);
      }
    }
  }
  const file = path.join(dir, 'history.om');
  const out = fs.openSync(file, 'w');
  for (const samples of series.values()) fs.writeSync(out, `${samples.join('\n')}\n`);
  fs.writeSync(out, '# EOF\n');
  fs.closeSync(out);
  const result = spawnSync(
    promtool,
    ['tsdb', 'create-blocks-from', 'openmetrics', '--quiet', file, dataDir],
    {
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) throw new Error(`promtool could not backfill: ${result.stderr || result.stdout}`);
  fs.rmSync(file);
}

/** Waits for `/-/ready`, then until every target has been scraped at least once since the start. */
async function waitUntilScraped(url: string, exitCode: () => number | null, output: () => string) {
  const deadline = Date.now() + 60_000;
  const since = Date.now() / 1000;
  while (Date.now() < deadline) {
    if (exitCode() !== null) throw new Error(`Prometheus exited (${exitCode()}):\n${output()}`);
    try {
      const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
      if (ready.ok) {
        // timestamp() of a selector is the sample's time; of `up == 1` it would be the evaluation time.
        const expr = 'timestamp(up) and up == 1';
        const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`, {
          signal: AbortSignal.timeout(2000),
        });
        const body = (await res.json()) as { data?: { result?: Array<{ value: [number, string] }> } };
        const fresh = (body.data?.result ?? []).filter((r) => Number(r.value[1]) >= since);
        if (fresh.length === TARGETS.length) return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`Prometheus at ${url} did not scrape every fixture target within 60 s:\n${output()}`);
}
