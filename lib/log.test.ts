import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './log';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger('info', stream) };
}

describe('log lines', () => {
  it('are JSON with an ISO 8601 UTC time, the level by name, msg and the request fields', () => {
    const { lines, logger } = capture();
    logger
      .child({ request_id: 'req-12345678', staff_id: 'staff-1', org_id: null })
      .info({ path: '/api/x' }, 'request');
    expect(lines).toEqual([
      {
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        level: 'info',
        msg: 'request',
        request_id: 'req-12345678',
        staff_id: 'staff-1',
        org_id: null,
        path: '/api/x',
      },
    ]);
  });

  it('redact secret fields wherever they are nested', () => {
    const { lines, logger } = capture();
    logger.warn({ detail: { token: 'abc', nested: [{ privateKey: 'xyz' }] }, secret: 's3' }, 'oops');
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/abc|xyz|s3/);
  });
});
