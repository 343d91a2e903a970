import { describe, expect, it } from 'vitest';
import { PrometheusClient, PrometheusError } from './client';

const URL_ = 'http://prometheus.monitoring:9090';
const TOKEN = 'tok-3f9a1c-secret';

function client(answer: (req: Request) => Promise<Response> | Response, timeoutMs = 1000) {
  const calls: Request[] = [];
  const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = new Request(input, init);
    calls.push(req);
    return answer(req);
  }) as typeof fetch;
  return {
    prometheus: new PrometheusClient({ url: URL_, timeoutMs, bearerToken: TOKEN, fetch: fetchFn }),
    calls,
  };
}

async function failure(p: Promise<unknown>): Promise<PrometheusError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(PrometheusError);
    return err as PrometheusError;
  }
  throw new Error('expected a PrometheusError');
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('PrometheusClient', () => {
  it('posts the query with the time and the bearer token, and reads numbers, NaN and +Inf', async () => {
    const { prometheus, calls } = client(() =>
      json({
        status: 'success',
        data: {
          resultType: 'vector',
          result: [
            { metric: { a: '1' }, value: [1700000000, '12.5'] },
            { metric: { a: '2' }, value: [1700000000, 'NaN'] },
            { metric: { a: '3' }, value: [1700000000, '+Inf'] },
          ],
        },
      }),
    );
    const samples = await prometheus.query('up', 1700000000.5);
    expect(samples.map((s) => s.value)).toEqual([12.5, NaN, Infinity]);
    const req = calls[0]!;
    expect(req.url).toBe(`${URL_}/api/v1/query`);
    expect(req.method).toBe('POST');
    expect(req.headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
    expect(Object.fromEntries(new URLSearchParams(await req.text()))).toEqual({
      query: 'up',
      time: '1700000000.5',
    });
  });

  it('reads a range query as series of points', async () => {
    const { prometheus, calls } = client(() =>
      json({
        status: 'success',
        data: {
          resultType: 'matrix',
          result: [
            {
              metric: {},
              values: [
                [10, '1'],
                [40, '2'],
              ],
            },
          ],
        },
      }),
    );
    expect(await prometheus.queryRange('up', 10, 40, 30)).toEqual([
      {
        labels: {},
        points: [
          [10, 1],
          [40, 2],
        ],
      },
    ]);
    expect(new URLSearchParams(await calls[0]!.text()).get('step')).toBe('30');
  });

  it("names the URL, the HTTP status and Prometheus's errorType and error", async () => {
    const { prometheus } = client(() =>
      json({ status: 'error', errorType: 'bad_data', error: '1:5: parse error: unexpected "}"' }, 400),
    );
    const err = await failure(prometheus.query('sum(}', 1));
    expect(err).toMatchObject({ kind: 'prometheus', status: 400, errorType: 'bad_data', url: URL_ });
    expect(err.message).toBe(`Prometheus at ${URL_}: HTTP 400, bad_data: 1:5: parse error: unexpected "}"`);
  });

  it('names the HTTP status of an answer that is not the API (a proxy in the way)', async () => {
    const { prometheus } = client(
      () => new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
    );
    const err = await failure(prometheus.query('up', 1));
    expect(err).toMatchObject({ kind: 'http', status: 502 });
    expect(err.message).toBe(`Prometheus at ${URL_}: HTTP 502 Bad Gateway`);
  });

  it('says unreachable with the reason fetch gives', async () => {
    const { prometheus } = client(() => {
      throw new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 10.0.0.9:9090') });
    });
    const err = await failure(prometheus.query('up', 1));
    expect(err.kind).toBe('unreachable');
    expect(err.message).toBe(`Prometheus at ${URL_}: unreachable (connect ECONNREFUSED 10.0.0.9:9090)`);
  });

  it('gives up after the timeout', async () => {
    const { prometheus } = client(
      (req) =>
        new Promise<Response>((_, reject) =>
          req.signal.addEventListener('abort', () => reject(req.signal.reason as Error)),
        ),
      50,
    );
    const err = await failure(prometheus.query('up', 1));
    expect(err.kind).toBe('timeout');
    expect(err.message).toBe(`Prometheus at ${URL_}: no answer within 50 ms`);
  });

  it('never puts the bearer token in an error, even when an answer quotes it', async () => {
    const { prometheus } = client(() =>
      json({ status: 'error', errorType: 'unauthorized', error: `token ${TOKEN} is not valid` }, 401),
    );
    const err = await failure(prometheus.query('up', 1));
    expect(err.message).not.toContain(TOKEN);
    expect(err.message).toContain('[redacted]');
    const { prometheus: p2 } = client(() => {
      throw new TypeError('fetch failed', { cause: new Error(`bad header Bearer ${TOKEN}`) });
    });
    expect((await failure(p2.query('up', 1))).message).not.toContain(TOKEN);
  });

  it('refuses an answer that is not a Prometheus response', async () => {
    const { prometheus } = client(() => json({ hello: 'world' }));
    expect((await failure(prometheus.query('up', 1))).kind).toBe('bad_response');
  });
});
