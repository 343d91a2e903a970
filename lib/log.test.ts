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

describe('database errors', () => {
  it('are logged with the query and the PostgreSQL code, never the parameters or the values', async () => {
    const { DrizzleQueryError } = await import('drizzle-orm/errors');
    const cause = Object.assign(
      new Error(
        'duplicate key value violates unique constraint "staff_users_email" Key (email)=(ada@x.example)',
      ),
      {
        name: 'PostgresError',
        code: '23505',
        severity: 'ERROR',
        detail: 'Key (email)=(ada@x.example) already exists.',
        constraint_name: 'staff_users_email',
      },
    );
    const err = new DrizzleQueryError(
      'insert into "staff_users" ("email", "note") values ($1, $2)',
      ['ada@x.example', 'secret-note-value'],
      cause,
    );
    const { lines, logger } = capture();
    logger.error({ err, path: '/api/x' }, 'unhandled error in route');
    const text = JSON.stringify(lines);
    expect(text).not.toMatch(/ada@x\.example|secret-note-value|params/);
    expect(lines[0]).toMatchObject({
      err: {
        message: 'Failed query: insert into "staff_users" ("email", "note") values ($1, $2)',
        code: '23505',
        stack: expect.stringMatching(/^DrizzleQueryError: Failed query: insert/),
      },
    });
  });
});
