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

describe('console output and process errors', () => {
  it('a console call is one JSON line: colours, prefixes and query strings gone, a failed query without its parameters', async () => {
    const { consoleCall } = await import('./log');
    const { DrizzleQueryError } = await import('drizzle-orm/errors');
    const cause = Object.assign(new Error('value "hunter2" violates'), {
      name: 'PostgresError',
      code: '23514',
      severity: 'ERROR',
    });
    const err = new DrizzleQueryError('update "x" set "y" = $1', ['hunter2'], cause);
    const { lines, logger } = capture();
    consoleCall(logger, 'error', [
      ' \x1b[31m⨯\x1b[39m',
      'Failed to handle request for /enroll/abcdefghijklmnopqrstuvwxyz0123?code=s3cr3t',
      err,
    ]);
    consoleCall(logger, 'log', ['plain', 42, { token: 'tok-value', n: 1 }]);
    consoleCall(logger, 'warn', [
      JSON.stringify({ time: 'x', level: 'warn', msg: 'network gate refused', request_id: 'r-12345678' }),
    ]);
    expect(JSON.stringify(lines)).not.toMatch(
      /hunter2|s3cr3t|abcdefghijklmnopqrstuvwxyz0123|tok-value|\\u001b/,
    );
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'Failed to handle request for /enroll/[redacted]',
        source: 'console',
        err: expect.objectContaining({ code: '23514', cause: { type: 'PostgresError', code: '23514' } }),
      }),
      expect.objectContaining({ level: 'info', msg: 'plain 42', data: [{ token: '[redacted]', n: 1 }] }),
      expect.objectContaining({ level: 'warn', msg: 'network gate refused', request_id: 'r-12345678' }),
    ]);
  });

  it('an uncaught exception and an unhandled rejection are one pino line each, and Next’s own console line for them is dropped', async () => {
    const { installProcessLogging } = await import('./log');
    const { lines, logger } = capture();
    const before = {
      exception: process.listeners('uncaughtException'),
      rejection: process.listeners('unhandledRejection'),
      console: { ...console },
    };
    const shared = globalThis as { __portalProcessLogging?: boolean };
    delete shared.__portalProcessLogging;
    try {
      installProcessLogging(logger);
      const added = (event: 'uncaughtException' | 'unhandledRejection', old: unknown[]) =>
        (process.listeners(event as 'uncaughtException') as unknown[]).filter((l) => !old.includes(l));
      const [onException] = added('uncaughtException', before.exception);
      const [onRejection] = added('unhandledRejection', before.rejection);
      const boom = Object.assign(new Error('lost'), {
        name: 'PostgresError',
        code: '57P01',
        severity: 'FATAL',
      });
      (onException as (e: Error) => void)(boom);
      // What Next's own listener prints for the same error (lib/log.ts drops it).
      console.error(' ⨯', 'uncaughtException: ', boom);
      (onRejection as (r: unknown) => void)(new Error('rejected'));
      console.error(' ⨯', 'unhandledRejection:', new Error('rejected'));
    } finally {
      Object.assign(console, before.console);
      for (const l of process.listeners('uncaughtException'))
        if (!before.exception.includes(l)) process.off('uncaughtException', l);
      for (const l of process.listeners('unhandledRejection'))
        if (!before.rejection.includes(l)) process.off('unhandledRejection', l);
      delete shared.__portalProcessLogging;
    }
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'fatal',
        msg: 'uncaught exception',
        err: expect.objectContaining({ code: '57P01', message: 'PostgreSQL error 57P01' }),
      }),
      expect.objectContaining({
        level: 'error',
        msg: 'unhandled rejection',
        err: expect.objectContaining({ message: 'rejected' }),
      }),
    ]);
  });
});
