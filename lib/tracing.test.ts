import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from './config';
import { startTracing } from './tracing';

let server: http.Server;
let endpoint: string;
const received: { path: string; body: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('OpenTelemetry traces', () => {
  it('are off by default: nothing is set up', async () => {
    expect(parseConfig({}).OTEL_TRACES_ENABLED).toBe(false);
    expect(await startTracing(parseConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }))).toBeUndefined();
  });

  it('need a collector when switched on', () => {
    expect(() => parseConfig({ OTEL_TRACES_ENABLED: 'true' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });

  it('when on, go to the collector over OTLP/HTTP without enrolment tokens or secret attributes', async () => {
    const provider = await startTracing(
      parseConfig({ OTEL_TRACES_ENABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }),
    );
    expect(provider).toBeDefined();
    const token = 'q8VZ3kD1Yw7nB2xR4tLm9cPe6HsJ0aGu5fKiOb_TEST';
    trace
      .getTracer('test')
      .startSpan('GET /enroll/[token]', {
        attributes: {
          'http.target': `/enroll/${token}?x=1`,
          'http.method': 'GET',
          authorization: 'Bearer abc',
        },
      })
      .end();
    await provider!.forceFlush();
    await provider!.shutdown();
    expect(received.map((r) => r.path)).toContain('/v1/traces');
    const body = received.map((r) => r.body).join('\n');
    expect(body).toContain('GET /enroll/[token]');
    expect(body).toContain('arbitex-staff-portal');
    expect(body).toContain('/enroll/[redacted]?x=1');
    expect(body).not.toContain(token);
    expect(body).not.toContain('Bearer abc');
  });
});
