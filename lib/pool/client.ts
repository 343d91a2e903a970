import { z } from 'zod';

/**
 * A client of the Prometheus HTTP API: `query` and `query_range` only, nothing that writes.
 *
 * Every failure is a PrometheusError that names the URL and what went wrong (a timeout, no answer, the
 * HTTP status, Prometheus's `errorType` and `error`), never the bearer token.
 */

export interface Sample {
  labels: Record<string, string>;
  /** Prometheus sends numbers as strings; "NaN", "+Inf" and "-Inf" become NaN and ±Infinity. */
  value: number;
}

export interface Series {
  labels: Record<string, string>;
  /** [unix seconds, value] pairs, oldest first. */
  points: Array<[number, number]>;
}

export type PrometheusFailure = 'timeout' | 'unreachable' | 'http' | 'prometheus' | 'bad_response';

export class PrometheusError extends Error {
  constructor(
    readonly kind: PrometheusFailure,
    readonly url: string,
    detail: string,
    readonly status?: number,
    readonly errorType?: string,
  ) {
    super(`Prometheus at ${url}: ${detail}`);
    this.name = 'PrometheusError';
  }
}

export interface PrometheusOptions {
  url: string;
  timeoutMs: number;
  bearerToken?: string;
  fetch?: typeof fetch;
}

const Value = z.tuple([z.number(), z.string()]);
const Answer = z.discriminatedUnion('status', [
  z.object({
    status: z.literal('success'),
    data: z.discriminatedUnion('resultType', [
      z.object({
        resultType: z.literal('vector'),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), value: Value })),
      }),
      z.object({
        resultType: z.literal('matrix'),
        result: z.array(z.object({ metric: z.record(z.string(), z.string()), values: z.array(Value) })),
      }),
      z.object({ resultType: z.literal('scalar'), result: Value }),
      z.object({ resultType: z.literal('string'), result: Value }),
    ]),
    warnings: z.array(z.string()).optional(),
  }),
  z.object({ status: z.literal('error'), errorType: z.string(), error: z.string() }),
]);

/** Prometheus's sample values: decimal strings, "NaN", "+Inf" and "-Inf" (which Number() does not read). */
function num(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

export class PrometheusClient {
  constructor(private readonly opts: PrometheusOptions) {}

  get url(): string {
    return this.opts.url;
  }

  /** An instant query evaluated at `time` (unix seconds). A scalar comes back as one unlabelled sample. */
  async query(expr: string, time: number): Promise<Sample[]> {
    const data = await this.call('query', { query: expr, time: String(time) });
    if (data.resultType === 'vector')
      return data.result.map((r) => ({ labels: r.metric, value: num(r.value[1]) }));
    if (data.resultType === 'scalar') return [{ labels: {}, value: num(data.result[1]) }];
    throw new PrometheusError('bad_response', this.url, `query answered a ${data.resultType}, not a vector`);
  }

  /** A range query from `start` to `end` (unix seconds) every `step` seconds. */
  async queryRange(expr: string, start: number, end: number, step: number): Promise<Series[]> {
    const data = await this.call('query_range', {
      query: expr,
      start: String(start),
      end: String(end),
      step: String(step),
    });
    if (data.resultType !== 'matrix')
      throw new PrometheusError('bad_response', this.url, `query_range answered a ${data.resultType}`);
    return data.result.map((r) => ({
      labels: r.metric,
      points: r.values.map(([t, v]): [number, number] => [t, num(v)]),
    }));
  }

  private async call(endpoint: 'query' | 'query_range', params: Record<string, string>) {
    const url = `${this.opts.url}/api/v1/${endpoint}`;
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          ...(this.opts.bearerToken && { authorization: `Bearer ${this.opts.bearerToken}` }),
        },
        body: new URLSearchParams(params),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
        cache: 'no-store',
      });
    } catch (err) {
      throw this.transportError(err);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch (err) {
      if (err instanceof Error && err.name === 'TimeoutError') throw this.transportError(err);
      throw new PrometheusError(
        res.ok ? 'bad_response' : 'http',
        this.url,
        `HTTP ${res.status}${res.ok ? ', and the body is not JSON' : ` ${res.statusText}`.trimEnd()}`,
        res.status,
      );
    }
    const answer = Answer.safeParse(body);
    if (!answer.success) {
      if (!res.ok) throw new PrometheusError('http', this.url, `HTTP ${res.status}`, res.status);
      throw new PrometheusError('bad_response', this.url, 'the answer is not a Prometheus API response');
    }
    if (answer.data.status === 'error') {
      const { errorType, error } = answer.data;
      throw new PrometheusError(
        'prometheus',
        this.url,
        `HTTP ${res.status}, ${errorType}: ${this.redact(error)}`,
        res.status,
        errorType,
      );
    }
    return answer.data.data;
  }

  private transportError(err: unknown): PrometheusError {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
      return new PrometheusError('timeout', this.url, `no answer within ${this.opts.timeoutMs} ms`);
    }
    // fetch() says "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a TLS error) is its cause.
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new PrometheusError('unreachable', this.url, `unreachable (${this.redact(detail)})`);
  }

  /** The token never leaves in an error, even if a library were to quote the header it refused. */
  private redact(text: string): string {
    const token = this.opts.bearerToken;
    return token ? text.replaceAll(token, '[redacted]') : text;
  }
}
