import os from 'node:os';
import crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { type Db, rows } from '@/db/client';
import type { ChainEntry } from '@/lib/audit/chain';
import { readEntries } from '@/lib/audit/export';
import { toOcsf } from '@/lib/audit/ocsf';
import { config } from '@/lib/config';
import { requireOptionalSecret } from '@/lib/secrets';

/**
 * Delivery of the audit chain to Splunk's HTTP Event Collector, in seq order (docs/AUDIT.md "SIEM delivery").
 *
 * - The cursor (siem_cursor.delivered_seq) moves only after Splunk accepted a batch, with a compare-and-swap
 *   on its old value: a restart resumes right after the last accepted entry, losing nothing, and never sends
 *   an accepted batch again, except when the process dies between Splunk's answer and the commit.
 * - One replica delivers: it holds a lease on the cursor row, renewed on every batch; the others stand by
 *   and take over when the lease runs out (a replica that stops cleanly hands it back at once).
 * - Failures: 5xx, 429, timeouts and network errors are retried with exponential backoff and jitter (and
 *   Retry-After); another 4xx (a bad token, a disabled input) is retried only every SIEM_MAX_BACKOFF_S,
 *   because only a change on Splunk's side fixes it. Nothing is ever skipped.
 */
export const SOURCETYPE = 'arbitex:ocsf';
export const SPLUNK_SINK = 'splunk';

export interface SinkSettings {
  url: string;
  token: string;
  batchSize: number;
  timeoutMs: number;
  pollMs: number;
  maxBackoffMs: number;
  /** How long a lease lasts without renewal; a crashed deliverer is replaced after at most this. */
  leaseMs: number;
}

/** The settings from lib/config and the token from lib/secrets, or null when no HEC URL is configured. */
export function sinkSettings(): SinkSettings | null {
  const c = config();
  if (!c.SPLUNK_HEC_URL) return null;
  const timeoutMs = c.SIEM_TIMEOUT_S * 1000;
  return {
    url: c.SPLUNK_HEC_URL,
    token: requireOptionalSecret('splunk-hec-token'),
    batchSize: c.SIEM_BATCH_SIZE,
    timeoutMs,
    pollMs: c.SIEM_POLL_INTERVAL_S * 1000,
    maxBackoffMs: c.SIEM_MAX_BACKOFF_S * 1000,
    leaseMs: Math.max(60_000, 3 * timeoutMs),
  };
}

/** The HEC envelope of one entry: `time` in epoch seconds (with milliseconds), the OCSF event. */
export function hecEnvelope(entry: ChainEntry) {
  const event = toOcsf(entry);
  return { time: event.time / 1000, source: 'arbitex-staff-portal', sourcetype: SOURCETYPE, event };
}

export type DeliveryOutcome =
  | { kind: 'delivered'; count: number; fromSeq: number; toSeq: number }
  | { kind: 'idle'; deliveredSeq: number }
  | { kind: 'standby'; owner: string | null }
  | { kind: 'failed'; error: string; retryable: boolean; retryInMs: number };

export interface SinkOptions {
  /** This deliverer's name in the lease: host, pid and a random part, unless given. */
  owner?: string;
  fetch?: typeof fetch;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

interface CursorRow {
  delivered_seq: string;
  failures: number;
}

class HecError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

const silent = { info: () => {}, warn: () => {} };

export class SplunkSink {
  readonly owner: string;
  private readonly stopping = new AbortController();
  private running: Promise<void> | null = null;
  private draining: Promise<void> | null = null;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly log: NonNullable<SinkOptions['log']>;

  constructor(
    private readonly db: Db,
    private readonly settings: SinkSettings,
    opts: SinkOptions = {},
  ) {
    this.owner = opts.owner ?? `${os.hostname()}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`;
    this.fetch = opts.fetch ?? globalThis.fetch;
    this.sleep = opts.sleep ?? abortableSleep;
    this.random = opts.random ?? Math.random;
    this.log = opts.log ?? silent;
  }

  /** Takes or renews the lease; null when another deliverer holds it. */
  private async lease(): Promise<CursorRow | null> {
    await this.db.execute(
      sql`insert into siem_cursor (sink) values (${SPLUNK_SINK}) on conflict (sink) do nothing`,
    );
    const [row] = await rows<CursorRow>(
      this.db,
      sql`update siem_cursor
          set lease_owner = ${this.owner}, lease_until = now() + make_interval(secs => ${this.settings.leaseMs / 1000}),
              updated_at = now()
          where sink = ${SPLUNK_SINK}
            and (lease_owner is null or lease_owner = ${this.owner} or lease_until < now())
          returning delivered_seq::text as delivered_seq, failures`,
    );
    return row ?? null;
  }

  /** One batch: the entries after the cursor, sent as one HEC request; the cursor moves if Splunk takes it. */
  async deliverOnce(): Promise<DeliveryOutcome> {
    const cursor = await this.lease();
    if (!cursor) {
      const [holder] = await rows<{ owner: string | null }>(
        this.db,
        sql`select lease_owner as owner from siem_cursor where sink = ${SPLUNK_SINK}`,
      );
      return { kind: 'standby', owner: holder?.owner ?? null };
    }
    const from = Number(cursor.delivered_seq);
    const entries = await readEntries(this.db, {}, from, this.settings.batchSize);
    if (entries.length === 0) return { kind: 'idle', deliveredSeq: from };
    const to = entries.at(-1)!.seq;

    try {
      await this.send(entries.map((e) => JSON.stringify(hecEnvelope(e))).join('\n'));
    } catch (err) {
      if (this.stopping.signal.aborted) throw err;
      const e = err instanceof HecError ? err : new HecError(`request failed: ${describe(err)}`, true);
      const failures = cursor.failures + 1;
      const retryInMs = this.backoff(failures, e);
      await this.db.execute(
        sql`update siem_cursor
            set failures = ${failures}, last_attempt_at = now(), last_error = ${e.message}, last_error_at = now(),
                next_attempt_at = now() + make_interval(secs => ${retryInMs / 1000}), updated_at = now()
            where sink = ${SPLUNK_SINK} and lease_owner = ${this.owner}`,
      );
      // Every failure is on the cursor row (the status page); the log gets the 1st, 2nd, 4th, 8th… of a run.
      if ((failures & (failures - 1)) === 0)
        this.log.warn(
          { sink: SPLUNK_SINK, from_seq: from + 1, to_seq: to, failures, retry_in_ms: Math.round(retryInMs) },
          e.message,
        );
      return { kind: 'failed', error: e.message, retryable: e.retryable, retryInMs };
    }

    // The one way delivered_seq moves (migration 0015): forward only, to at most the head, by the holder.
    const [moved] = await rows<{ moved: boolean }>(
      this.db,
      sql`select siem_cursor_advance(${SPLUNK_SINK}, ${this.owner}, ${from}, ${to}) as moved`,
    );
    if (!moved?.moved) {
      // The lease ran out during the request and another deliverer moved on: this batch may now be in
      // Splunk twice. Only a pause longer than the lease (leaseMs, at least 3 request timeouts) does this.
      this.log.warn(
        { sink: SPLUNK_SINK, from_seq: from + 1, to_seq: to },
        'lost the SIEM lease during a request',
      );
      return { kind: 'standby', owner: null };
    }
    return { kind: 'delivered', count: entries.length, fromSeq: from + 1, toSeq: to };
  }

  private async send(body: string): Promise<void> {
    // One controller for the timeout and stop(), with a plain timer: a signal of AbortSignal.any() holds
    // AbortSignal.timeout() weakly, and a collected timeout never fires (a request that hangs for ever).
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.settings.timeoutMs);
    const onStop = () => controller.abort();
    this.stopping.signal.addEventListener('abort', onStop, { once: true });
    let res: Response;
    let text: string;
    try {
      res = await this.fetch(this.settings.url, {
        method: 'POST',
        headers: { authorization: `Splunk ${this.settings.token}`, 'content-type': 'application/json' },
        body,
        signal: controller.signal,
      });
      // Splunk's answer is small JSON ({"text":"Success","code":0}, or the reason for a refusal).
      text = (await res.text().catch(() => '')).slice(0, 300);
    } catch (err) {
      if (timedOut) throw new HecError(`no answer within ${this.settings.timeoutMs / 1000} s`, true);
      throw err;
    } finally {
      clearTimeout(timer);
      this.stopping.signal.removeEventListener('abort', onStop);
    }
    if (res.ok) return;
    const retryAfter = Number(res.headers.get('retry-after'));
    const retryable = res.status >= 500 || res.status === 429;
    throw new HecError(
      `Splunk answered ${res.status}${text ? `: ${text.replaceAll(this.settings.token, '[redacted]')}` : ''}`,
      retryable,
      Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : null,
    );
  }

  /** Exponential from 1 s, doubled per failure, with jitter (half to all of it), capped; Retry-After wins. */
  private backoff(failures: number, err: HecError): number {
    const cap = this.settings.maxBackoffMs;
    if (!err.retryable) return cap;
    const exp = Math.min(cap, 1000 * 2 ** Math.min(failures - 1, 30));
    const jittered = exp / 2 + (this.random() * exp) / 2;
    return Math.min(cap, Math.max(jittered, err.retryAfterMs ?? 0));
  }

  /**
   * Delivers until caught up with the head as it was when called, waiting out retryable failures.
   * Stops at a refusal that a retry cannot fix, or after `maxFailures` failures in a row.
   */
  async drain(opts: { maxFailures?: number } = {}): Promise<{ delivered: number; outcome: DeliveryOutcome }> {
    const run = this.drainUntilDone(opts);
    // stop() waits for it: a drain that went on after stop() would take the lease again.
    this.draining = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  private async drainUntilDone(opts: { maxFailures?: number }) {
    let delivered = 0;
    let failures = 0;
    for (;;) {
      if (this.stopping.signal.aborted)
        return { delivered, outcome: { kind: 'standby' as const, owner: null } };
      const outcome = await this.deliverOnce();
      if (outcome.kind === 'delivered') {
        delivered += outcome.count;
        failures = 0;
        continue;
      }
      if (outcome.kind !== 'failed' || !outcome.retryable || ++failures >= (opts.maxFailures ?? 10))
        return { delivered, outcome };
      await this.sleep(outcome.retryInMs, this.stopping.signal);
    }
  }

  /** Runs in the background until stop(): delivers, waits for new entries, retries, or stands by. */
  start(): void {
    this.running ??= (async () => {
      const signal = this.stopping.signal;
      while (!signal.aborted) {
        let wait = this.settings.pollMs;
        try {
          const outcome = await this.deliverOnce();
          if (outcome.kind === 'delivered' && outcome.count === this.settings.batchSize) wait = 0;
          if (outcome.kind === 'failed') wait = outcome.retryInMs;
        } catch (err) {
          if (signal.aborted) break;
          this.log.warn({ sink: SPLUNK_SINK, err: describe(err) }, 'SIEM delivery error');
        }
        if (wait > 0) await this.sleep(wait, signal).catch(() => {});
      }
    })();
  }

  /** Stops the loop, abandons a request in flight (its batch is sent again later), and hands the lease back. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running?.catch(() => {});
    await this.draining;
    await this.db.execute(
      sql`update siem_cursor set lease_owner = null, lease_until = null, updated_at = now()
          where sink = ${SPLUNK_SINK} and lease_owner = ${this.owner}`,
    );
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message} (${cause.message})` : err.message;
  }
  return String(err);
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
